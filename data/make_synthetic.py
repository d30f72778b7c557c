"""Generate the synthetic person set as COCO JSON + JPEGs.

    python data/make_synthetic.py output=<dir> [num_images=N] [data.generator.seed=S] [keypoints=coco19_neck_pelvis]
"""

import logging
import os
import sys

import hydra
from omegaconf import DictConfig

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout


@hydra.main(version_base="1.3", config_path="../configs", config_name="make_synthetic")
def main(cfg: DictConfig):
    from movenet_train.data.synthetic import GeneratorConfig, generate_synthetic
    from movenet_train.keypoints import KeypointSchema

    path = generate_synthetic(cfg.output, cfg.num_images, GeneratorConfig.from_config(cfg.data.generator),
                              schema=KeypointSchema.from_config(cfg.keypoints))
    logging.getLogger(__name__).info("%d images -> %s", cfg.num_images, path)


if __name__ == "__main__":
    main()

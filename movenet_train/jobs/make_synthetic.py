"""``python data/make_synthetic.py output=<dir> [num_images=N] [keypoints=coco19_neck_pelvis]``: the synthetic
person set as COCO JSON + JPEGs (movenet_train/data/synthetic.py)."""

import logging

from movenet_train.config import COUNT
from movenet_train.jobs import launch

CONFIG = "make_synthetic"
log = logging.getLogger(__name__)


def run(cfg):
    num_images = COUNT.check(cfg.num_images, "num_images")
    from movenet_train.data.synthetic import GeneratorConfig, generate_synthetic
    from movenet_train.keypoints import KeypointSchema

    path = generate_synthetic(cfg.output, num_images, GeneratorConfig.from_config(cfg.data.generator),
                              schema=KeypointSchema.from_config(cfg.keypoints))
    log.info("%d images -> %s", num_images, path)
    return path


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

"""Render augmented training examples with their targets: ``python data/show_samples.py [exp=thunder] [data=coco]``."""

import logging
import os
import sys

import hydra
from omegaconf import DictConfig

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

from movenet_train.cli import accept_both_experiment_forms  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="show_samples")
def main(cfg: DictConfig):
    from movenet_train.data.samples import show_samples
    from movenet_train.modeling import MoveNetSpec

    from movenet_train.data import prepare_dataset

    spec = MoveNetSpec.from_config(cfg.model, cfg.keypoints)
    prepare_dataset(cfg.data, schema=spec.schema)
    path = show_samples(cfg.data, spec, cfg.output, split=cfg.split,
                        training=cfg.training, num_images=cfg.num_images, columns=cfg.columns)
    logging.getLogger(__name__).info("wrote %s", path)


if __name__ == "__main__":
    accept_both_experiment_forms()
    main()

"""Convert a COCO person-keypoint set to TFRecords.

    python data/prepare_coco.py annotations=<person_keypoints.json> images=<dir> output=<dir> [split=train]
"""

import logging
import os
import sys

import hydra
from omegaconf import DictConfig

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

from movenet_train.cli import accept_both_experiment_forms  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="prepare_coco")
def main(cfg: DictConfig):
    from movenet_train.data.convert import convert_coco
    from movenet_train.keypoints import KeypointSchema

    manifest = convert_coco(cfg.annotations, cfg.images, cfg.output, split=cfg.split, num_shards=cfg.num_shards,
                            num_workers=cfg.num_workers, shuffle=cfg.shuffle, seed=cfg.seed,
                            jpeg_quality=cfg.jpeg_quality, overwrite=cfg.overwrite,
                            schema=KeypointSchema.from_config(cfg.keypoints))
    counts = manifest["counts"]
    logging.getLogger(__name__).info(
        "%d examples, %d people (%d crowd, %d without keypoints), %d skipped images -> %s",
        counts["examples"], counts.get("people", 0), counts.get("crowd_regions", 0),
        counts.get("people_without_keypoints", 0), counts["skipped_images"], cfg.output)


if __name__ == "__main__":
    accept_both_experiment_forms()
    main()

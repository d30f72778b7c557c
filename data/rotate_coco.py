"""Copies of a COCO person-keypoint set turned by 90 / 180 / 270 degrees, with keypoints and boxes moved exactly.

    python data/rotate_coco.py annotations=<person_keypoints.json> images=<dir> output=<dir> [angles=[90,180,270]]
"""

import logging
import os
import sys

import hydra
from omegaconf import DictConfig

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout


@hydra.main(version_base="1.3", config_path="../configs", config_name="rotate_coco")
def main(cfg: DictConfig):
    from movenet_train.data.rotate import rotate_coco

    try:
        path = rotate_coco(cfg.annotations, cfg.images, cfg.output, angles=list(cfg.angles),
                           image_ids=list(cfg.image_ids) if cfg.image_ids else None, overwrite=cfg.overwrite)
    except (FileNotFoundError, FileExistsError, ValueError) as err:  # bad input: one line, no traceback
        sys.exit(f"error: {err}")
    logging.getLogger(__name__).info("wrote %s", path)


if __name__ == "__main__":
    main()

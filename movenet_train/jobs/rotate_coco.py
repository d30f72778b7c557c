"""``python data/rotate_coco.py annotations=JSON images=DIR output=DIR [angles=[90,180,270]]``: turned copies of a
COCO person-keypoint set, keypoints and boxes moved exactly."""

import logging

from movenet_train.jobs import launch

CONFIG = "rotate_coco"
log = logging.getLogger(__name__)


def run(cfg):
    from movenet_train import keypoints
    from movenet_train.data.rotate import rotate_coco

    path = rotate_coco(cfg.annotations, cfg.images, cfg.output, angles=list(cfg.angles),
                       image_ids=list(cfg.image_ids) if cfg.image_ids else None, overwrite=cfg.overwrite,
                       schema=keypoints.resolve(cfg.get("keypoints")))
    log.info("wrote %s", path)
    return path


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

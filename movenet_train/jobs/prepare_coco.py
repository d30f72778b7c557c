"""``python data/prepare_coco.py annotations=<person_keypoints.json> images=<dir> output=<dir> [split=train]``:
a COCO person-keypoint set as TFRecords (movenet_train/data/convert.py)."""

import logging

from movenet_train.config import COUNT, JPEG_QUALITY, NON_NEGATIVE_COUNT
from movenet_train.jobs import launch

CONFIG = "prepare_coco"
log = logging.getLogger(__name__)


def run(cfg):
    """Converts, then logs the counts; returns the manifest."""
    from movenet_train.data.convert import convert_coco, problem_count
    from movenet_train.keypoints import KeypointSchema

    manifest = convert_coco(cfg.annotations, cfg.images, cfg.output, split=cfg.split,
                            num_shards=COUNT.check(cfg.num_shards, "num_shards"),
                            num_workers=NON_NEGATIVE_COUNT.check(cfg.num_workers, "num_workers"), shuffle=cfg.shuffle,
                            seed=cfg.seed, jpeg_quality=JPEG_QUALITY.check(cfg.jpeg_quality, "jpeg_quality"),
                            overwrite=cfg.overwrite, strict=cfg.strict, schema=KeypointSchema.from_config(cfg.keypoints))
    counts = manifest["counts"]
    log.info("%d examples, %d people (%d crowd, %d without keypoints), %d skipped images, %d wrong annotation values "
             "skipped -> %s", counts["examples"], counts.get("people", 0), counts.get("crowd_regions", 0),
             counts.get("people_without_keypoints", 0), counts["skipped_images"],
             problem_count(counts), cfg.output)
    return manifest


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

"""``python -m movenet_train.predict checkpoint=<model> input=<image|folder|video|GIF> output=<dir>``:
keypoints.json and the annotated media (movenet_train/tracking/annotate.py)."""

import logging
import os

from movenet_train.config import PROBABILITY, config_from
from movenet_train.errors import UserError
from movenet_train.jobs import launch
from movenet_train.model_files import check_compatible, config_input_size, config_schema, config_spec

CONFIG = "predict"
logger = logging.getLogger(__name__)


def run(cfg):
    """The input is opened first, so an undecodable file fails before the model loads."""
    from movenet_train.runtime import load_predictor
    from movenet_train.tracking import media
    from movenet_train.tracking.annotate import KEYPOINTS_FILE, annotate
    from movenet_train.tracking.multi_pose import TRACKERS
    from movenet_train.tracking.tracker import TrackerConfig

    threshold = PROBABILITY.check(cfg.threshold, "threshold")
    input_size = config_input_size(cfg)  # the model input (and the tracker's crops); null: the file's own size
    if cfg.tracker not in TRACKERS:  # checked for single-pose models too, which ignore it
        raise UserError(f"tracker={cfg.tracker}: expected one of {', '.join(TRACKERS)}")
    reader = media.open_media(cfg.input)
    predictor = load_predictor(cfg.checkpoint, config_spec(cfg), num_threads=cfg.get("num_threads"),
                               orientation=cfg.orientation, input_size=input_size)
    check_compatible(cfg.checkpoint, predictor, config_schema(cfg))
    tracker_config = config_from(TrackerConfig, cfg.tracking, "tracking")
    result = annotate(predictor, reader, cfg.output, tracker_config, crop=cfg.crop, smoothing=cfg.smoothing,
                      threshold=threshold, draw_crop=cfg.draw_crop, overwrite=cfg.overwrite, tracker_name=cfg.tracker)
    found = sum(bool(f["poses"]) for f in result["frames"])
    logger.info("%d frames, a pose in %d; wrote %s", len(result["frames"]), found,
                os.path.join(cfg.output, KEYPOINTS_FILE))
    return result


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

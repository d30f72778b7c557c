"""``python -m movenet_train.autolabel checkpoint=<model> input=<folder|image|video|GIF> output=<dir>``: COCO
keypoint labels, contact sheets and a report (movenet_train/autolabel, configs/autolabel.yaml)."""

import logging
import os

from movenet_train.jobs import launch

CONFIG = "autolabel"
log = logging.getLogger(__name__)


def run(cfg):
    """Options and the input are checked first; the models load only when something is left to label."""
    from movenet_train.autolabel import resume
    from movenet_train.autolabel.options import Options
    from movenet_train.model_files import check_compatible, config_schema, describe
    from movenet_train.tracking import media

    options = Options.from_config(cfg)
    media.media_kind(cfg.input)  # a missing or unknown input fails before anything is written
    # the keypoint schema a file records is checked before it loads; a checkpoint recording none, once loaded
    check_compatible(cfg.checkpoint, describe(cfg.checkpoint), config_schema(cfg))
    if cfg.detector:
        describe(cfg.detector)
    models = {"checkpoint": os.path.abspath(cfg.checkpoint),
              "detector": os.path.abspath(cfg.detector) if cfg.detector else None}
    report = None if cfg.overwrite else resume.finished(cfg.input, cfg.output, options, models)
    if report is not None:  # a rerun with nothing left: no model, no TensorFlow
        log.info("%s: every image is labelled already", cfg.output)
        return report

    from movenet_train.autolabel.labelling import autolabel
    from movenet_train.runtime import load_predictor

    def labeller():
        predictor = load_predictor(cfg.checkpoint, num_threads=cfg.num_threads)
        check_compatible(cfg.checkpoint, predictor, config_schema(cfg))
        return predictor

    def detector():
        return load_predictor(cfg.detector, num_threads=cfg.num_threads)

    report = autolabel(labeller, cfg.input, cfg.output, options, detector=detector if cfg.detector else None,
                       overwrite=cfg.overwrite, models=models)
    log.info("%d images, %d people, %d keypoints kept, %d skipped, %.1f s -> %s", report["images"],
             report["people"], report["keypoints_kept"], report["skipped"], report["seconds"], cfg.output)
    return report


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

"""``python data/show_samples.py [exp=thunder] [data=coco] [split=val]``: augmented training examples drawn with
their targets (movenet_train/data/samples.py); generates the synthetic set first if needed."""

import logging

from movenet_train.jobs import launch

CONFIG = "show_samples"
log = logging.getLogger(__name__)


def run(cfg):
    from movenet_train.data import prepare_dataset
    from movenet_train.data.samples import show_samples
    from movenet_train.modeling import MoveNetSpec

    spec = MoveNetSpec.from_config(cfg.model, cfg.keypoints)
    prepare_dataset(cfg.data, schema=spec.schema)
    path = show_samples(cfg.data, spec, cfg.output, split=cfg.split, training=cfg.training,
                        num_images=cfg.num_images, columns=cfg.columns)
    log.info("wrote %s", path)
    return path


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

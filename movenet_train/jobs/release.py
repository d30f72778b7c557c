"""``python -m movenet_train.release checkpoint=<run> output=DIR`` (``movenet-release``): a model's release bundle,
its drop-in files with MODEL_CARD.md and metrics.json (movenet_train/release, configs/release.yaml)."""

import os

from movenet_train.jobs import launch

CONFIG = "release"


def run(cfg):
    """Writes the bundle; returns its metrics dict (metrics.json). The output folder and the model are checked
    before TensorFlow is imported."""
    from movenet_train.release import bundle

    metrics = bundle.build(cfg)
    print(bundle.summary(metrics, os.path.abspath(str(cfg.output))))
    return metrics


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

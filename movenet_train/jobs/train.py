"""``python train.py [+exp=thunder] [data=coco] [checkpoint=PATH] ...``: train or fine-tune, resuming the run folder."""

from movenet_train.jobs import launch
from movenet_train.training import TrainingDiverged, train

CONFIG = "train"


def run(cfg):
    """Trains (or resumes) the run of ``cfg``; returns the final validation metrics."""
    return train(cfg)


def main():
    return launch(CONFIG, run, (TrainingDiverged,))


if __name__ == "__main__":
    main()

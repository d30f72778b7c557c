"""``python train.py [+exp=thunder] [data=coco] [checkpoint=PATH] ...``: train or fine-tune, resuming the run folder."""

from movenet_train.jobs import launch
from movenet_train.training.actions import TrainingDiverged

CONFIG = "train"


def run(cfg):
    """Trains (or resumes) the run of ``cfg``; returns the final validation metrics, or None when SIGTERM / SIGINT
    stopped it with a checkpoint (docs/scale.md), after printing how to resume.

    The config and the files it names are checked first (``training/preflight.py``), before TensorFlow is imported:
    a wrong value or a missing file fails in about a second."""
    from movenet_train.training.preflight import check_training

    check_training(cfg)
    from movenet_train.training import train
    from movenet_train.training.preemption import Preempted, StopSignals

    with StopSignals() as signals:  # this command only: the previous handlers are back afterwards
        try:
            return train(cfg, stop_signals=signals)
        except Preempted as stopped:
            print(stopped, flush=True)
            return None


def main():
    return launch(CONFIG, run, (TrainingDiverged,))


if __name__ == "__main__":
    main()

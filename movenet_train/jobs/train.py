"""``python train.py [+exp=thunder] [data=coco] [checkpoint=PATH] ...``: train or fine-tune, resuming the run folder."""

from movenet_train.jobs import launch
from movenet_train.training import TrainingDiverged, train
from movenet_train.training.preemption import Preempted, StopSignals

CONFIG = "train"


def run(cfg):
    """Trains (or resumes) the run of ``cfg``; returns the final validation metrics, or None when SIGTERM / SIGINT
    stopped it with a checkpoint (docs/scale.md), after printing how to resume."""
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

"""Training (``python train.py``): the run builder and loop (``loop.py``) and their parts.

Importing the package stays light (no TensorFlow): the training job checks its config and files
(``preflight.py``) before the loop and TensorFlow load on first use.
"""

from movenet_train.lazy import lazy_attributes

_LAZY = {
    "TrainingDiverged": "movenet_train.training.actions",
    "TrainingRun": "movenet_train.training.loop",
    "build_training_run": "movenet_train.training.loop",
    "train": "movenet_train.training.loop",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)

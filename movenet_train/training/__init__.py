"""Training (``python train.py``): the run builder and loop (``loop.py``) and their parts.

Importing the package stays light (no TensorFlow): the training job checks its config and files
(``preflight.py``) before the loop and TensorFlow load on first use.
"""

_LAZY = {
    "TrainingDiverged": "movenet_train.training.actions",
    "TrainingRun": "movenet_train.training.loop",
    "build_training_run": "movenet_train.training.loop",
    "train": "movenet_train.training.loop",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

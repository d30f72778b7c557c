"""COCO keypoint evaluation of any model file (checkpoint, released weights, SavedModel, TFLite).

Importing the package stays light (no TensorFlow): a command checks its ``eval`` keys (``config.py``) before the
evaluator loads on first use.
"""

_LAZY = {"evaluate": "movenet_train.evaluation.evaluator"}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

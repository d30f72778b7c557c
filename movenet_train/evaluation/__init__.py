"""COCO keypoint evaluation of any model file (checkpoint, released weights, SavedModel, TFLite).

Importing the package stays light (no TensorFlow): a command checks its ``eval`` keys (``config.py``) before the
evaluator loads on first use.
"""

from movenet_train.lazy import lazy_attributes

_LAZY = {"evaluate": "movenet_train.evaluation.evaluator"}

__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)

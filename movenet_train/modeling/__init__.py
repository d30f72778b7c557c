"""The trainable MoveNet (``build_model``), its spec and the inference wrapper.

Importing the package stays light (no TensorFlow): ``MoveNetSpec`` (``spec.py``) is read and checked before a
command builds anything; the model functions load on first use.
"""

from movenet_train.lazy import lazy_attributes

_LAZY = {
    "MoveNetInference": "movenet_train.modeling.inference",
    "MoveNetSpec": "movenet_train.modeling.spec",
    "build_model": "movenet_train.modeling.movenet",
    "decode_heads": "movenet_train.modeling.inference",
    "folded_parameter_count": "movenet_train.modeling.movenet",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)

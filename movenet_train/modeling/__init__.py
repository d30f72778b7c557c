"""The trainable MoveNet (``build_model``), its spec and the inference wrapper.

Importing the package stays light (no TensorFlow): ``MoveNetSpec`` (``spec.py``) is read and checked before a
command builds anything; the model functions load on first use.
"""

_LAZY = {
    "MoveNetInference": "movenet_train.modeling.inference",
    "MoveNetSpec": "movenet_train.modeling.spec",
    "build_model": "movenet_train.modeling.movenet",
    "decode_heads": "movenet_train.modeling.inference",
    "folded_parameter_count": "movenet_train.modeling.movenet",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

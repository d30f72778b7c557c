"""Import Google's released MoveNet weights (TF.js, TFLite, SavedModel) into the trainable Keras model.

Importing the package stays light (no TensorFlow; the download needs none): the importer loads on first use.
"""

_LAZY = {
    "import_released": "movenet_train.pretrained.importer",
    "read_folded": "movenet_train.pretrained.importer",
    "released_spec": "movenet_train.pretrained.importer",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

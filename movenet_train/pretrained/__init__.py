"""Import Google's released MoveNet weights (TF.js, TFLite, SavedModel) into the trainable Keras model.

Importing the package stays light (no TensorFlow; the download needs none): the importer loads on first use.
"""

from movenet_train.lazy import lazy_attributes

_LAZY = {
    "import_released": "movenet_train.pretrained.importer",
    "read_folded": "movenet_train.pretrained.importer",
    "released_spec": "movenet_train.pretrained.importer",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)

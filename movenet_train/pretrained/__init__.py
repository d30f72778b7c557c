"""Import Google's released MoveNet weights (TF.js, TFLite, SavedModel) into the trainable Keras model."""

from movenet_train.pretrained.importer import import_released, read_folded, released_spec

__all__ = ["import_released", "read_folded", "released_spec"]

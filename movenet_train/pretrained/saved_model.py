"""Reads a SavedModel MoveNet by converting it to a float32 TFLite graph in memory.

The TFLite converter folds BatchNorm and keeps the TensorFlow op names, so the released SavedModels (ODAPI
names) and this project's own exports map through the same reader as ``.tflite`` files.
"""

import tensorflow as tf

from movenet_train.pretrained import tflite
from movenet_train.pretrained.folded import ReleasedGraphError


def read_folded_convs(path):
    try:
        converter = tf.lite.TFLiteConverter.from_saved_model(path)
        content = converter.convert()
    except Exception as err:  # the converter raises many types
        raise ReleasedGraphError(f"cannot read SavedModel {path}: {err}") from err
    return tflite.read_folded_convs(content=content)

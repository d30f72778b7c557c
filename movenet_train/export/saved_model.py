"""SavedModel export: ``serving_default`` takes ``input`` ``[1, H, W, 3]`` and returns ``output_0``, decoded."""

import tensorflow as tf

from movenet_train.export.serving import SIGNATURE_KEY, ServingModule


def write_saved_model(model, spec, path, dtype=tf.int32, dynamic=True, check_size=True, orientation="upright"):
    """int32 input as the released SavedModels; the TFLite converter reads a uint8 one (the released TFLite input).

    ``dynamic``: a multi-pose model takes any height and width (multiples of 32); else its square ``input_size``.
    ``check_size``: a dynamic input's size is checked in the graph (an Assert op, which TF.js cannot run).
    ``orientation``: ``any`` puts the quarter-turn search in the graph (single-pose; ``serving.ServingModule``).
    """
    module = ServingModule(model, spec, dtype, dynamic, check_size, orientation)
    tf.saved_model.save(module, str(path), signatures={SIGNATURE_KEY: module.concrete_function()})
    return path

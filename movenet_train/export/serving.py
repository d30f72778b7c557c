"""The exported signature: ``serving_default(input) -> output_0``, as Google's released files.

Single-pose models take ``[1, size, size, 3]``; multi-pose models take any height and width that are multiples
of 32 (the stride of the backbone), checked in the graph so that a wrong size fails with a message that says so
rather than with a shape mismatch deep in the FPN.

``orientation="any"`` (single-pose only) puts the quarter-turn search of ``movenet_train.orientation`` inside the
graph (``search_in_graph``: the four turns of the input as one batch of 4, the turn rule, the keypoints turned
back) behind the same signature, so an app written for Google's file finds people at any orientation by swapping
the file.
"""

import tensorflow as tf

from movenet_train.errors import UserError
from movenet_train.modeling import MoveNetInference
from movenet_train.modeling.movenet import MULTI_POSE_STRIDE
from movenet_train.orientation import TurnRule, check_orientation, search_in_graph

INPUT_NAME = "input"
SIGNATURE_KEY = "serving_default"


def input_shape(spec, dynamic=True):
    """Single-pose: the variant's square size. Multi-pose: any size, or its square ``input_size`` if not ``dynamic``."""
    if spec.multi_pose and dynamic:
        return [1, None, None, 3]
    return [1, spec.input_size, spec.input_size, 3]


def check_serving_orientation(spec, orientation):
    """``orientation`` as given; a ValueError naming it when unknown or ``any`` for a multi-pose model."""
    if check_orientation(orientation) == "any" and spec.multi_pose:
        raise UserError(f"orientation=any applies to single-pose models (Lightning, Thunder); {spec.name} is "
                        "multi-pose: export it with orientation=upright")
    return orientation


class ServingModule(tf.Module):
    """``MoveNetInference`` behind the released signature; ``dtype`` int32 (SavedModel, TF.js) or uint8 (TFLite).

    ``orientation``: ``upright`` (the released graph) or ``any`` (the in-graph quarter-turn search, single-pose)."""

    def __init__(self, model, spec, dtype, dynamic=True, check_size=True, orientation="upright"):
        super().__init__(name="movenet_serving")
        self.spec = spec
        self.orientation = check_serving_orientation(spec, orientation)
        self.rule = TurnRule.of(spec.schema) if orientation == "any" else None
        self.inference = MoveNetInference(model, spec)
        shape = input_shape(spec, dynamic)
        self.check_size = shape[1] is None and check_size
        self.serve = tf.function(self._serve, input_signature=[tf.TensorSpec(shape, dtype, name=INPUT_NAME)])

    def _serve(self, input):  # noqa: A002 - the argument name becomes the signature's input name
        if self.check_size:
            size = tf.shape(input)[1:3]
            check = tf.debugging.assert_equal(
                size % MULTI_POSE_STRIDE, 0,
                message=f"MoveNet MultiPose needs an input height and width that are multiples of {MULTI_POSE_STRIDE}")
            with tf.control_dependencies([check]):
                input = tf.identity(input)
        if self.rule is not None:
            return search_in_graph(self.inference, input, self.rule)
        return self.inference(input)

    def concrete_function(self):
        return self.serve.get_concrete_function()

"""The inference model: int32 RGB ``[B,H,W,3]`` in, one decoded tensor out, as the released signatures."""

import tensorflow as tf

from movenet_train.modeling import decode


def decode_heads(spec, heads):
    if spec.multi_pose:
        return decode.decode_multi_pose(heads)
    return decode.decode_single_pose(heads)


class MoveNetInference(tf.Module):
    """Wraps the trainable model with the released graphs' decoding; ``__call__`` matches their signature."""

    def __init__(self, model, spec):
        super().__init__(name="movenet")
        self.model = model
        self.spec = spec

    # Multi-pose inputs come in many sizes: relax shapes instead of tracing each one.
    @tf.function(reduce_retracing=True)
    def __call__(self, images):
        heads = self.model(tf.cast(images, tf.float32), training=False)
        return decode_heads(self.spec, heads)

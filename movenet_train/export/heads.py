"""Heads-only graphs: the network up to the head logits, one output per head, no decoding.

They feed the ``tflite_heads_*`` and ``onnx`` exports; ``movenet_train.modeling.decode_numpy`` turns their outputs
into the released ``[1, 1, 17, 3]`` / ``[1, 6, 56]``. Outputs are named by their ``build_model`` keys
(``center``, ``keypoint_heatmap``, ``keypoint_offset``, ``keypoint_regression``; ``box_scale``, ``box_offset``).

For full-integer INT8 the logits are first bounded to the range the decoder reads. int8 has 256 levels per
tensor, spread by calibration over the whole observed range: the imported Lightning's heatmap logits reach -69
(quantisation step 0.26, with the peaks the decoder looks for clipped at the top), its offsets +-27 cells (step
0.19 where the decoder only ever reads the offset of a keypoint's own cell, within a cell or two) and its
regression +-100 cells on a 48-cell grid. Bounded, the steps are 0.045, 0.016 and 0.38: COCO-sample AP 0.391 ->
0.420 (float 0.433; a one-off measurement with the bounds removed by hand, no switch reproduces it). The bounds
do not change the float model's AP (0.433 either way, same one-off measurement): a heatmap logit
of -10 is a score of 4.5e-5, and a regression or offset past them points off the grid. Each bound is a ReLU or
ReLU6 that TFLite fuses into the head's last convolution, so the calibrated range of that convolution's output
is the bounded one (a separate clip would quantise the unbounded output first).
"""

import tensorflow as tf

from movenet_train.export.serving import INPUT_NAME, SIGNATURE_KEY, input_shape

HEATMAP_FLOOR = -10.0  # logit; sigmoid(-10) = 4.5e-5
OFFSET_LIMIT = 2.0  # cells, keypoint and box offsets


def _floor(x, low):
    """``max(x, low)`` as a ReLU (fused into the conv before it)."""
    return tf.nn.relu(x - low) + low


def _symmetric(x, limit):
    """``clip(x, -limit, limit)`` as a ReLU6 of a rescaled ``x`` (the scale folds into the conv weights)."""
    return limit * (tf.nn.relu6(3.0 * (x / limit + 1.0)) / 3.0 - 1.0)


def bounded_heads(heads, grid_size):
    """The logits clipped to the range decoding reads (see the module docstring); ``grid_size``: cells per side
    (of the variant's ``input_size``; multi-pose regression and box sizes are bounded to that grid)."""
    grid = float(grid_size)
    bounds = {
        "center": lambda x: _floor(x, HEATMAP_FLOOR),
        "keypoint_heatmap": lambda x: _floor(x, HEATMAP_FLOOR),
        "keypoint_offset": lambda x: _symmetric(x, OFFSET_LIMIT),
        "keypoint_regression": lambda x: _symmetric(x, grid),
        "box_offset": lambda x: _symmetric(x, OFFSET_LIMIT),
        "box_scale": lambda x: grid / 6.0 * tf.nn.relu6(x * 6.0 / grid),  # decoding takes max(scale, 0)
    }
    return {key: bounds[key](value) for key, value in heads.items()}


class HeadsModule(tf.Module):
    """``serving_default(input) -> {head key: logits}``: single-pose at the variant's square input size,
    multi-pose at any height and width (multiples of 32, checked by ``load_predictor``), as the other files.

    ``integer=False``: uint8 ``input`` (the pixels), float32 logits, as in the model. ``integer=True``: the source
    of full-integer INT8, a float32 ``input`` marked as 0..255 pixels (a fake-quant node, so that the converter
    turns it into a uint8 input with scale 1 and zero point 0 and no Cast op) and the bounded logits.
    """

    def __init__(self, model, spec, integer=False):
        super().__init__(name="movenet_heads")
        self.model, self.spec, self.integer = model, spec, integer
        shape = input_shape(spec, dynamic=True)
        dtype = tf.float32 if integer else tf.uint8
        self.serve = tf.function(self._serve, input_signature=[tf.TensorSpec(shape, dtype, name=INPUT_NAME)])

    def _serve(self, input):  # noqa: A002 - the argument name becomes the signature's input name
        if self.integer:
            pixels = tf.quantization.fake_quant_with_min_max_args(input, min=0.0, max=255.0, num_bits=8)
        else:
            pixels = tf.cast(input, tf.float32)
        heads = self.model(pixels, training=False)
        heads = {key: heads[key] for key in self.spec.head_keys}
        if self.integer:
            heads = bounded_heads(heads, self.spec.input_size // 4)
        return heads


def write_heads_source(model, spec, path, integer=False):
    module = HeadsModule(model, spec, integer)
    tf.saved_model.save(module, str(path), signatures={SIGNATURE_KEY: module.serve.get_concrete_function()})
    return path

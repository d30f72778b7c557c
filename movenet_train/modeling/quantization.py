"""Quantisation-aware MoveNet (``train.qat``): TensorFlow Model Optimization's default 8-bit scheme.

Every layer is fake-quantised as the TFLite INT8 kernels will run it (per-channel weights, per-tensor activations,
BatchNorm and ReLU fused into the preceding convolution) except the input ``Rescaling``, which stays float with
its output quantised: the released files take uint8 pixels, and the INT8 file quantises the rescaled input.
The decoder is not part of the Keras model and stays float, as in the post-training INT8 export.
"""

import contextlib

import tensorflow as tf
import tf_keras as keras


def _tfmot():
    try:
        import tensorflow_model_optimization as tfmot
    except ImportError as err:  # a dependency of tf-models-official; named here for a broken install
        raise ImportError("train.qat needs tensorflow-model-optimization (pip install "
                          "tensorflow-model-optimization)") from err
    return tfmot


def _scheme_classes():
    """The project's 8-bit scheme. tfmot 0.8.1 quantises a depthwise kernel ``[kh, kw, C, 1]`` "per axis" over its last axis, of size 1:
    one scale for all channels, which the released weights (BatchNorm folded in, channel scales far apart) do
    not survive (the first block's output is then off by more than its own size). TFLite quantises depthwise
    kernels per channel; these classes do the same in training."""
    tfmot = _tfmot()
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_quantize_configs as configs, default_8bit_quantize_registry as registry,
        default_8bit_quantize_scheme as scheme)

    class DepthwiseKernelQuantizer(tfmot.quantization.keras.quantizers.LastValueQuantizer):
        """Symmetric 8-bit, one range per output channel of a depthwise kernel (``C * multiplier``)."""

        def __init__(self, **kwargs):
            super().__init__(num_bits=8, per_axis=True, symmetric=True, narrow_range=True)

        def build(self, tensor_shape, name, layer):
            channels = int(tensor_shape[2]) * int(tensor_shape[3])
            initial = dict(shape=(channels,), trainable=False)
            return {"min_var": layer.add_weight(name + "_min", initializer=keras.initializers.Constant(-6.0), **initial),
                    "max_var": layer.add_weight(name + "_max", initializer=keras.initializers.Constant(6.0), **initial)}

        def __call__(self, inputs, training, weights, **kwargs):
            shape = tf.shape(inputs)
            flat = tf.reshape(inputs, tf.concat([shape[:2], [1, -1]], axis=0))
            return tf.reshape(super().__call__(flat, training, weights, **kwargs), shape)

        def get_config(self):
            return {}

    class DepthwiseQuantizeConfig(registry.Default8BitQuantizeConfig):
        def __init__(self, weight_attrs=("depthwise_kernel",), activation_attrs=("activation",),
                     quantize_output=False):
            super().__init__(list(weight_attrs), list(activation_attrs), quantize_output)
            self.weight_quantizer = DepthwiseKernelQuantizer()

    class Registry(registry.Default8BitQuantizeRegistry):
        def __init__(self):
            super().__init__()
            self._layer_quantize_map[keras.layers.DepthwiseConv2D] = DepthwiseQuantizeConfig()

    class Scheme(scheme.Default8BitQuantizeScheme):
        def get_quantize_registry(self):
            return Registry()

    return {"DepthwiseKernelQuantizer": DepthwiseKernelQuantizer, "DepthwiseQuantizeConfig": DepthwiseQuantizeConfig,
            "Default8BitOutputQuantizeConfig": configs.Default8BitOutputQuantizeConfig, "Scheme": Scheme}


_CLASSES = {}


def _classes():
    if not _CLASSES:
        _CLASSES.update(_scheme_classes())
    return _CLASSES


def quantize_scope():
    """The custom objects a quantisation-aware model needs to be cloned or deserialised."""
    return _tfmot().quantization.keras.quantize_scope(
        {name: cls for name, cls in _classes().items() if name != "Scheme"})


def quantize_model(model):
    """The quantisation-aware copy of a float ``build_model`` model, with its weights (and trainable flags, so
    frozen BatchNorm stays frozen). Activation ranges start at tfmot's [-6, 6]: ``calibrate_ranges`` sets them."""
    quantization = _tfmot().quantization.keras
    classes = _classes()

    def annotate(layer):
        fresh = layer.__class__.from_config(layer.get_config())
        if isinstance(layer, keras.layers.InputLayer):
            return fresh
        if isinstance(layer, keras.layers.Rescaling):
            # Computed in float, its output quantised: the first convolution then runs on int8 like the rest
            # (tfmot quantises nothing after a layer it does not know, and the converter would leave it float).
            return quantization.quantize_annotate_layer(fresh, classes["Default8BitOutputQuantizeConfig"]())
        return quantization.quantize_annotate_layer(fresh)

    annotated = keras.models.clone_model(model, clone_function=annotate)
    annotated.set_weights(model.get_weights())
    with quantize_scope():
        return quantization.quantize_apply(annotated, scheme=classes["Scheme"]())


@contextlib.contextmanager
def _range_decay(decay):
    """tfmot's activation quantisers follow their ranges with a fixed EMA decay of 0.999, which would take
    thousands of steps to forget the initial [-6, 6]; calibration sets the decay of each call (0: this batch)."""
    from tensorflow_model_optimization.python.core.quantization.keras import quantizers

    original = quantizers.quant_ops.MovingAvgQuantize

    def with_decay(*args, **kwargs):
        kwargs["ema_decay"] = decay[0]
        return original(*args, **kwargs)

    quantizers.quant_ops.MovingAvgQuantize = with_decay
    try:
        yield
    finally:
        quantizers.quant_ops.MovingAvgQuantize = original


def calibrate_ranges(qat_model, batches):
    """Sets every activation range of ``qat_model`` to the mean over ``batches`` (float images) of each batch's
    min and max. Runs the model in training mode (the quantisers only update then): BatchNorm must be frozen
    (``train.freeze_batch_norm``) for its statistics to stay as they are. Returns the number of batches used."""
    decay = [0.0]
    count = 0
    with _range_decay(decay):
        for count, images in enumerate(batches, start=1):
            decay[0] = (count - 1) / count  # running mean: the first batch replaces the initial range
            qat_model(images, training=True)
    return count

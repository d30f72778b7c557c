"""``build_model``: the trainable MoveNet (raw head outputs); the inference wrapper lives in ``inference.py``."""

import dataclasses

import tf_keras as keras

from movenet_train.modeling import fpn, heads, mobilenet_v2
# The spec lives in a module without TensorFlow (checked before anything is built); re-exported here.
from movenet_train.modeling.spec import MULTI_POSE_STRIDE, TRAINING_ONLY_MODEL_KEYS, MoveNetSpec  # noqa: F401


def build_model(spec: MoveNetSpec, name=None):
    """MoveNet as a tf_keras functional model: float RGB 0-255 ``[B,H,W,3]`` -> dict of head logits at stride 4.

    ``spec.qat``: its quantisation-aware copy (``quantization.quantize_model``), for restoring a QAT checkpoint."""
    if spec.qat:
        from movenet_train.modeling.quantization import quantize_model

        return quantize_model(build_model(dataclasses.replace(spec, qat=False), name))
    images = keras.Input(shape=(None, None, 3), name="image")
    # Preprocessing as in the released graphs: x / 127.5 - 1.
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocess")(images)
    endpoints = mobilenet_v2.build_mobilenet_v2(x, spec.alpha, spec.batch_norm_momentum)
    features = fpn.build_fpn(endpoints, spec.batch_norm_momentum)
    outputs = {
        key: heads.build_head(
            features, key, prefix, heads.head_channels(key, spec.num_keypoints), spec.heatmap_bias_init
        )
        for key, prefix in spec.head_keys.items()
    }
    return keras.Model(images, outputs, name=name or f"movenet_{spec.name}")


def folded_parameter_count(model):
    """Parameters as the released (BatchNorm-folded) graphs store them: kernels, plus one bias per conv/BN pair."""
    count = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            count += layer.beta.shape[0]  # folded into the preceding conv's bias
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)):
            count += sum(int(w.shape.num_elements()) for w in layer.weights)
    return count

"""MobileNetV2 backbone as in MoveNet's released graphs.

It keeps the Keras application's layer names (``Conv1``, ``block_N_expand`` ... ``out_relu``) so that
the released weights map onto it by name, with two differences the graphs show:
- every convolution uses TF ``SAME`` padding, also at stride 2 (no ``ZeroPadding2D``), as in the ODAPI
  variant of the network that MoveNet was trained with;
- the last 1x1 conv (``Conv_1``) stays at 1280 channels for every width (Keras widens it when alpha > 1).
"""

import tf_keras as keras

BN_EPSILON = 1e-3
# Keras' MobileNetV2 uses 0.999; 0.99 (tf-models-official's default) lets the moving statistics follow the
# weights within ~100 steps, which short and fine-tuning runs need. A training setting only: the released
# graphs folded BatchNorm away.
BN_MOMENTUM = 0.99

# (filters, stride, expansion) for blocks 0..16, as in the MobileNetV2 paper.
_BLOCKS = (
    (16, 1, 1),
    (24, 2, 6), (24, 1, 6),
    (32, 2, 6), (32, 1, 6), (32, 1, 6),
    (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6),
    (96, 1, 6), (96, 1, 6), (96, 1, 6),
    (160, 2, 6), (160, 1, 6), (160, 1, 6),
    (320, 1, 6),
)
LAST_CONV_CHANNELS = 1280

# Blocks whose residual sums feed the FPN laterals (block_2_add, block_5_add, block_9_add), by stride.
FPN_LATERAL_BLOCKS = {4: 2, 8: 5, 16: 9}


def make_divisible(value, divisor=8):
    new_value = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:  # never round down by more than 10%
        new_value += divisor
    return new_value


def batch_norm(name, momentum=BN_MOMENTUM):
    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=momentum, name=name)


def _inverted_residual(x, filters, stride, expansion, alpha, block_id, bn_momentum):
    in_channels = x.shape[-1]
    out_channels = make_divisible(int(filters * alpha), 8)
    inputs = x
    if block_id:
        prefix = f"block_{block_id}_"
        x = keras.layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False, name=prefix + "expand")(x)
        x = batch_norm(prefix + "expand_BN", bn_momentum)(x)
        x = keras.layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    x = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=prefix + "depthwise")(x)
    x = batch_norm(prefix + "depthwise_BN", bn_momentum)(x)
    x = keras.layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = keras.layers.Conv2D(out_channels, 1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = batch_norm(prefix + "project_BN", bn_momentum)(x)
    if in_channels == out_channels and stride == 1:
        x = keras.layers.Add(name=prefix + "add")([inputs, x])
    return x


def build_mobilenet_v2(inputs, alpha, bn_momentum=BN_MOMENTUM):
    """Returns ``{stride: tensor}`` for the FPN endpoints of a MobileNetV2 of width ``alpha`` on ``inputs``."""
    x = keras.layers.Conv2D(
        make_divisible(32 * alpha, 8), 3, strides=2, padding="same", use_bias=False, name="Conv1"
    )(inputs)
    x = batch_norm("bn_Conv1", bn_momentum)(x)
    x = keras.layers.ReLU(6.0, name="Conv1_relu")(x)
    endpoints = {}
    block_strides = {block: stride for stride, block in FPN_LATERAL_BLOCKS.items()}
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_residual(x, filters, stride, expansion, alpha, block_id, bn_momentum)
        if block_id in block_strides:
            endpoints[block_strides[block_id]] = x
    x = keras.layers.Conv2D(LAST_CONV_CHANNELS, 1, padding="same", use_bias=False, name="Conv_1")(x)
    x = batch_norm("Conv_1_bn", bn_momentum)(x)
    endpoints[32] = keras.layers.ReLU(6.0, name="out_relu")(x)
    return endpoints

"""The top-down FPN of ODAPI's ``center_net_mobile_net_v2fpn_feature_extractor``, to stride 4."""

import tf_keras as keras

from movenet_train.modeling.mobilenet_v2 import BN_MOMENTUM, batch_norm

# Output channels of the top conv and of each top-down stage (stride 16, 8, 4); the same for all widths.
TOP_CHANNELS = 64
STAGE_CHANNELS = {16: (64, 32), 8: (32, 24), 4: (24, 24)}  # stride: (lateral channels, separable-conv channels)


def build_fpn(endpoints, bn_momentum=BN_MOMENTUM):
    """``endpoints``: ``{4, 8, 16, 32: tensor}`` from the backbone; returns the stride-4 feature map."""
    x = keras.layers.Conv2D(TOP_CHANNELS, 1, padding="same", name="fpn_top")(endpoints[32])
    for stride in (16, 8, 4):
        lateral_channels, out_channels = STAGE_CHANNELS[stride]
        x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"fpn_upsample_{stride}")(x)
        lateral = keras.layers.Conv2D(lateral_channels, 1, padding="same", name=f"fpn_lateral_{stride}")(
            endpoints[stride]
        )
        x = keras.layers.Add(name=f"fpn_add_{stride}")([x, lateral])
        x = keras.layers.SeparableConv2D(
            out_channels, 3, padding="same", use_bias=False, name=f"fpn_separable_{stride}"
        )(x)
        x = batch_norm(f"fpn_bn_{stride}", bn_momentum)(x)
        x = keras.layers.ReLU(name=f"fpn_relu_{stride}")(x)
    return x

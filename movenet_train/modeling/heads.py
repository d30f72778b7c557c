"""CenterNet prediction heads: separable 3x3 conv to 96 channels, ReLU, 1x1 conv to the head's channels."""

import tf_keras as keras

HEAD_CHANNELS = 96

# Output key -> (layer-name prefix in the released graphs, channels per keypoint or fixed channels).
SINGLE_POSE_HEADS = {
    "center": "center_0",
    "keypoint_heatmap": "kpt_heatmap_0",
    "keypoint_regression": "kpt_regress_0",
    "keypoint_offset": "kpt_offset_0",
}
BOX_HEADS = {"box_scale": "box_scale_0", "box_offset": "box_offset_0"}
HEATMAP_HEADS = ("center", "keypoint_heatmap")


def head_channels(key, num_keypoints):
    return {
        "center": 1,
        "keypoint_heatmap": num_keypoints,
        "keypoint_regression": 2 * num_keypoints,
        "keypoint_offset": 2 * num_keypoints,
        "box_scale": 2,
        "box_offset": 2,
    }[key]


def build_head(features, key, prefix, out_channels, heatmap_bias_init):
    x = keras.layers.SeparableConv2D(HEAD_CHANNELS, 3, padding="same", name=f"{prefix}_separable")(features)
    x = keras.layers.ReLU(name=f"{prefix}_relu")(x)
    bias_init = keras.initializers.Constant(heatmap_bias_init) if key in HEATMAP_HEADS else "zeros"
    return keras.layers.Conv2D(out_channels, 1, bias_initializer=bias_init, name=prefix)(x)

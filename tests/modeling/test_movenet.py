import numpy as np
import pytest
import tensorflow as tf

from movenet_train.modeling import MoveNetInference, MoveNetSpec, build_model, folded_parameter_count
from movenet_train.pretrained import tfjs
from tests.helpers import TFJS, require_shared

SPECS = {
    "lightning": MoveNetSpec("lightning", 1.0, 192),
    "thunder": MoveNetSpec("thunder", 1.75, 256),
    "multipose_lightning": MoveNetSpec("multipose_lightning", 1.5, 256, multi_pose=True),
}


@pytest.mark.parametrize("variant", list(SPECS))
def test_folded_parameters_equal_the_released_network_weights(variant):
    """Every float weight tensor of the released graph's network (not its decoding constants) is one of ours."""
    require_shared(TFJS[variant])
    _, weights = tfjs.read_weights(TFJS[variant])
    released = sum(
        v.size for name, v in weights.items()
        if v.dtype == np.float32 and v.ndim >= 1
        and any(part in name for part in ("feature_extractor", "_0/"))
    )
    assert folded_parameter_count(build_model(SPECS[variant])) == released


def test_backbone_keeps_keras_names_and_fixed_last_conv():
    model = build_model(SPECS["thunder"])
    names = {layer.name for layer in model.layers}
    assert {"Conv1", "bn_Conv1", "expanded_conv_depthwise", "block_16_project", "block_9_add", "out_relu"} <= names
    assert model.get_layer("Conv1").filters == 56  # 32 * 1.75
    assert model.get_layer("block_16_project").filters == 560
    assert model.get_layer("Conv_1").filters == 1280  # not 1280 * 1.75


def test_head_shapes_and_heatmap_bias():
    model = build_model(SPECS["lightning"])
    outputs = model(tf.zeros([2, 192, 192, 3]))
    assert {k: tuple(v.shape) for k, v in outputs.items()} == {
        "center": (2, 48, 48, 1),
        "keypoint_heatmap": (2, 48, 48, 17),
        "keypoint_regression": (2, 48, 48, 34),
        "keypoint_offset": (2, 48, 48, 34),
    }
    np.testing.assert_allclose(model.get_layer("center_0").bias.numpy(), [-2.19])
    np.testing.assert_allclose(model.get_layer("kpt_offset_0").bias.numpy(), 0.0)


@pytest.mark.slow
@pytest.mark.parametrize("height,width", [(256, 256), (256, 160), (160, 256)])
def test_multipose_inference_takes_any_multiple_of_32(height, width):
    spec = SPECS["multipose_lightning"]
    inference = MoveNetInference(build_model(spec), spec)
    out = inference(tf.zeros([1, height, width, 3], tf.int32))
    assert out.shape == (1, 6, 56)


def test_batch_norm_is_trainable():
    model = build_model(SPECS["lightning"])
    bn = model.get_layer("block_1_expand_BN")
    assert bn.trainable and len(bn.trainable_weights) == 2

"""The NumPy decoder of the heads-only exports against the in-graph TensorFlow decoder, on the COCO sample.

Both decode the same head logits of the imported released weights (which reproduce Google's outputs), so the
released output layout and values carry over to the heads-only files up to float rounding.
"""

import numpy as np
import pytest

from movenet_train.modeling import decode, decode_numpy
from movenet_train.preprocessing import load_rgb, model_input
from movenet_train.pretrained import import_released
from tests.helpers import COCO_SAMPLE, TFJS, require_shared

TOLERANCE = 1e-4  # normalised coordinates, scores, boxes


def _sample_inputs(coco_sample, height, width):
    return np.stack([model_input(load_rgb(COCO_SAMPLE / "images" / image["file_name"]), height, width)
                     for image in coco_sample["images"]])


def _heads(model, images, batch=8):
    chunks = [model(images[i:i + batch].astype(np.float32), training=False) for i in range(0, len(images), batch)]
    return {key: np.concatenate([c[key].numpy() for c in chunks]) for key in chunks[0]}


@pytest.mark.slow
def test_single_pose_numpy_decoding_matches_the_graph(coco_sample):
    require_shared(TFJS["lightning"])
    model, spec = import_released(TFJS["lightning"])
    heads = _heads(model, _sample_inputs(coco_sample, spec.input_size, spec.input_size))
    in_graph = decode.decode_single_pose(heads).numpy()
    numpy = decode_numpy.decode_single_pose(heads)
    assert numpy.shape == in_graph.shape == (len(coco_sample["images"]), 1, 17, 3)
    assert numpy.dtype == np.float32
    np.testing.assert_allclose(numpy, in_graph, rtol=0, atol=TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("height, width", [(256, 256), (256, 160)])
def test_multi_pose_numpy_decoding_matches_the_graph(coco_sample, height, width):
    require_shared(TFJS["multipose_lightning"])
    model, _ = import_released(TFJS["multipose_lightning"])
    heads = _heads(model, _sample_inputs(coco_sample, height, width))
    in_graph = decode.decode_multi_pose(heads).numpy()
    numpy = decode_numpy.decode_multi_pose(heads)
    assert numpy.shape == in_graph.shape == (len(coco_sample["images"]), 6, 56)
    np.testing.assert_allclose(numpy, in_graph, rtol=0, atol=TOLERANCE)
    assert (in_graph[..., 55] > 0.2).sum() >= 20  # real people found, not only background slots compared


def test_dequantize():
    np.testing.assert_array_equal(decode_numpy.dequantize(np.array([-128, 0, 5], np.int8), 0.5, -2), [-63, 1, 3.5])
    floats = np.array([0.25], np.float32)
    assert decode_numpy.dequantize(floats, 0.0, 0) is not floats and decode_numpy.dequantize(floats, 0.0, 0)[0] == 0.25


@pytest.mark.parametrize("multi_pose", [False, True])
def test_integer_heads_dequantised_where_read_decode_like_dequantised_heads(multi_pose):
    # An INT8 file's heads: decoding them as QuantizedHead (only the cells read are dequantised) must give
    # exactly what dequantising every head first gives.
    rng = np.random.default_rng(1)
    channels = {"center": 1, "keypoint_heatmap": 17, "keypoint_regression": 34, "keypoint_offset": 34}
    if multi_pose:
        channels.update(box_scale=2, box_offset=2)
    params = {key: (float(rng.uniform(0.02, 0.2)), int(rng.integers(-20, 20))) for key in channels}
    raw = {key: rng.integers(-128, 128, (2, 48, 32, c), dtype=np.int8) for key, c in channels.items()}
    quantized = {key: decode_numpy.QuantizedHead.of(raw[key], *params[key]) for key in channels}
    assert all(isinstance(head, decode_numpy.QuantizedHead) for head in quantized.values())
    floats = {key: decode_numpy.dequantize(raw[key], *params[key]) for key in channels}
    np.testing.assert_array_equal(decode_numpy.decode(quantized, multi_pose), decode_numpy.decode(floats, multi_pose))
    # float heads (an FP16/FP32 heads-only file) are not wrapped
    assert isinstance(decode_numpy.QuantizedHead.of(floats["center"], 0.0, 0), np.ndarray)

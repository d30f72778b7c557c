"""Decoders (TensorFlow and NumPy) on hand-built head outputs, with the expected values worked out by hand."""

import numpy as np
import pytest
import tensorflow as tf

from movenet_train.modeling import decode_numpy
from movenet_train.modeling.decode import centre_prior, decode_multi_pose, decode_single_pose


def _tf(decoder):
    return lambda heads: decoder({k: tf.constant(v) for k, v in heads.items()}).numpy()


# Both decoders must give the hand-computed values: the in-graph one and the heads-only exports' NumPy one.
SINGLE = pytest.mark.parametrize("decode_single", [_tf(decode_single_pose), decode_numpy.decode_single_pose],
                                 ids=["tf", "numpy"])
MULTI = pytest.mark.parametrize("decode_multi", [_tf(decode_multi_pose), decode_numpy.decode_multi_pose],
                                ids=["tf", "numpy"])

LOW = -10.0  # logit whose sigmoid is ~4.5e-5


def _heads(size, kpts=17, boxes=False):
    heads = {
        "center": np.full([1, size, size, 1], LOW, np.float32),
        "keypoint_heatmap": np.full([1, size, size, kpts], LOW, np.float32),
        "keypoint_regression": np.zeros([1, size, size, 2 * kpts], np.float32),
        "keypoint_offset": np.zeros([1, size, size, 2 * kpts], np.float32),
    }
    if boxes:
        heads["box_scale"] = np.zeros([1, size, size, 2], np.float32)
        heads["box_offset"] = np.zeros([1, size, size, 2], np.float32)
    return heads


def test_centre_prior_matches_released_constants():
    prior = centre_prior(48, 48)[..., 0]
    assert abs(prior[24, 24] - 1 / 1.8) < 1e-6  # 0.556 at the centre cell
    assert abs(prior[0, 0] - 1 / (np.hypot(24, 24) + 1.8)) < 1e-6  # 0.028 at the corner
    assert abs(prior[0, 0] - 0.028) < 5e-4


@SINGLE
def test_single_pose_decoding_by_hand(decode_single):
    heads = _heads(8)
    heads["center"][0, 3, 4, 0] = 5.0
    heads["keypoint_regression"][0, 3, 4, :] = np.tile([2.0, -1.0], 17)  # every keypoint regressed to (5, 3)
    heads["keypoint_heatmap"][0, 5, 3, 0] = 2.0  # near the regressed nose
    heads["keypoint_heatmap"][0, 0, 7, 0] = 3.0  # stronger but 6.4 cells away: 0.95/8.2 < 0.88/1.8
    heads["keypoint_offset"][0, 5, 3, 0:2] = [0.25, -0.5]
    out = decode_single(heads)
    assert out.shape == (1, 1, 17, 3)
    np.testing.assert_allclose(out[0, 0, 0], [5.25 / 8, 2.5 / 8, 1 / (1 + np.exp(-2.0))], atol=1e-6)
    # Keypoints with flat heatmaps land on the regressed cell itself (distance 0), offset 0.
    np.testing.assert_allclose(out[0, 0, 1:, :2], np.tile([5 / 8, 3 / 8], (16, 1)), atol=1e-6)


@SINGLE
def test_single_pose_prior_prefers_the_central_person(decode_single):
    heads = _heads(8)
    heads["center"][0, 4, 4, 0] = 1.0  # sigmoid 0.73 / 1.8 = 0.41
    heads["center"][0, 0, 0, 0] = 3.0  # sigmoid 0.95 / (5.66 + 1.8) = 0.13
    heads["keypoint_regression"][0, 4, 4, :] = 0.0
    out = decode_single(heads)
    np.testing.assert_allclose(out[0, 0, :, :2], 0.5, atol=1e-6)


@MULTI
def test_multi_pose_decoding_by_hand(decode_multi):
    size = 16
    heads = _heads(size, boxes=True)
    people = {(4, 4): 3.0, (11, 12): 1.0}  # centre cell: logit
    for (cy, cx), logit in people.items():
        heads["center"][0, cy, cx, 0] = logit
        heads["box_scale"][0, cy, cx] = [6.0, 4.0]
        heads["box_offset"][0, cy, cx] = [0.5, 0.0]
        heads["keypoint_regression"][0, cy, cx, :] = np.tile([1.0, 1.0], 17)
        heads["keypoint_heatmap"][0, cy + 1, cx + 1, :] = 4.0  # every keypoint at centre + (1, 1)
        heads["keypoint_offset"][0, cy + 1, cx + 1, :] = np.tile([0.25, 0.5], 17)
    out = decode_multi(heads)
    assert out.shape == (1, 6, 56)
    first, second = out[0, 0], out[0, 1]
    kscore = 1 / (1 + np.exp(-4.0))  # exp(-0) weight at the regressed cell, inside the box
    np.testing.assert_allclose(first[:51].reshape(17, 3)[:, :2], np.tile([5.25 / size, 5.5 / size], (17, 1)), atol=1e-6)
    np.testing.assert_allclose(first[:51].reshape(17, 3)[:, 2], kscore, atol=1e-6)
    np.testing.assert_allclose(first[51:55], [(4.5 - 3) / size, (4 - 2) / size, (4.5 + 3) / size, (4 + 2) / size], atol=1e-6)
    np.testing.assert_allclose(first[55], (1 / (1 + np.exp(-3.0))) * kscore, atol=1e-6)
    np.testing.assert_allclose(second[:51].reshape(17, 3)[:, :2], np.tile([12.25 / size, 13.5 / size], (17, 1)), atol=1e-6)
    np.testing.assert_allclose(second[51:55], [(11.5 - 3) / size, 10 / size, (11.5 + 3) / size, 14 / size], atol=1e-6)
    # The other four slots are background peaks: tiny centre scores, so tiny instance scores.
    assert np.all(out[0, 2:, 55] < 1e-3)

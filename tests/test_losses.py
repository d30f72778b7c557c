"""Losses on hand-computed cases."""

import math

import numpy as np
import tensorflow as tf

from movenet_train.config import default_config
from movenet_train.losses import LossConfig, l1_loss, movenet_losses, penalty_reduced_focal_loss


def test_focal_loss_by_hand():
    target = np.zeros([1, 2, 2, 1], np.float32)
    target[0, 0, 0, 0] = 1.0  # positive
    target[0, 0, 1, 0] = 0.5  # negative near a peak
    logits = np.zeros_like(target)  # p = 0.5 everywhere
    logits[0, 1, 1, 0] = math.log(0.2 / 0.8)  # p = 0.2 on a plain negative
    mask = np.ones_like(target)
    mask[0, 1, 0, 0] = 0.0  # ignored cell
    positive = -math.log(0.5) * 0.5 ** 2
    negative_near = -math.log(0.5) * 0.5 ** 2 * 0.5 ** 4
    negative_far = -math.log(0.8) * 0.2 ** 2
    got = penalty_reduced_focal_loss(tf.constant(target), tf.constant(logits), tf.constant(mask)).numpy()
    np.testing.assert_allclose(got, positive + negative_near + negative_far, rtol=1e-5)


def test_focal_loss_clips_the_sigmoid():
    target = tf.constant([[[[1.0]]]])
    got = penalty_reduced_focal_loss(target, tf.constant([[[[-100.0]]]]), tf.ones_like(target)).numpy()
    np.testing.assert_allclose(got, -math.log(1e-4) * (1 - 1e-4) ** 2, rtol=1e-4)


def test_l1_counts_keypoint_slots():
    target = np.zeros([1, 1, 2, 4], np.float32)
    pred = np.zeros_like(target)
    pred[0, 0, 0] = [1.0, -2.0, 5.0, 5.0]
    mask = np.zeros_like(target)
    mask[0, 0, 0, :2] = 1.0  # one (y, x) slot assigned; the second keypoint is not
    total, count = l1_loss(tf.constant(target), tf.constant(pred), tf.constant(mask))
    assert float(total) == 3.0 and float(count) == 1.0


def test_movenet_losses_normalisation_and_weights():
    h = w = 4
    targets = {
        "center_heatmap": np.zeros([2, h, w, 1], np.float32),
        "keypoint_heatmap": np.zeros([2, h, w, 17], np.float32),
        "keypoint_heatmap_mask": np.ones([2, h, w, 17], np.float32),
        "keypoint_offset": np.zeros([2, h, w, 34], np.float32),
        "keypoint_offset_mask": np.zeros([2, h, w, 34], np.float32),
        "keypoint_regression": np.zeros([2, h, w, 34], np.float32),
        "keypoint_regression_mask": np.zeros([2, h, w, 34], np.float32),
        "num_people": np.array([1.0, 1.0], np.float32),
        "num_keypoints": np.array([2.0, 2.0], np.float32),
    }
    targets["center_heatmap"][:, 1, 1, 0] = 1.0
    targets["keypoint_regression_mask"][0, 1, 1, :2] = 1.0
    outputs = {
        "center": np.full([2, h, w, 1], -100.0, np.float32),
        "keypoint_heatmap": np.full([2, h, w, 17], -100.0, np.float32),
        "keypoint_offset": np.zeros([2, h, w, 34], np.float32),
        "keypoint_regression": np.zeros([2, h, w, 34], np.float32),
    }
    outputs["center"][:, 1, 1, 0] = 0.0  # p = 0.5 at both positives
    outputs["keypoint_regression"][0, 1, 1, :2] = [2.0, 4.0]
    losses = movenet_losses({k: tf.constant(v) for k, v in outputs.items()},
                            {k: tf.constant(v) for k, v in targets.items()}, default_config(LossConfig))
    clip_neg = -math.log(1 - 1e-4) * 1e-8  # clipped p = 1e-4 on every negative
    center = (2 * (-math.log(0.5) * 0.25) + 2 * 15 * clip_neg) / 2  # two people
    np.testing.assert_allclose(losses["center"].numpy(), center, rtol=1e-4)
    np.testing.assert_allclose(losses["keypoint_regression"].numpy(), 0.1 * 6.0 / 1.0, rtol=1e-6)
    assert float(losses["keypoint_offset"]) == 0.0  # nothing assigned: 0, not NaN
    total = sum(float(v) for k, v in losses.items() if k != "total")
    np.testing.assert_allclose(float(losses["total"]), total, rtol=1e-6)

"""Losses on hand-computed cases."""

import math

import numpy as np
import pytest
import tensorflow as tf

from movenet_train.config import default_config
from movenet_train.errors import UserError
from movenet_train.losses import (DistillConfig, LossConfig, confidence_weighted_huber, distillation_losses, l1_loss,
                                   movenet_losses, penalty_reduced_focal_loss, soft_heatmap_loss)


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


def _heads(center, heatmap, offset, regression):
    return {"center": tf.constant(center, tf.float32), "keypoint_heatmap": tf.constant(heatmap, tf.float32),
            "keypoint_offset": tf.constant(offset, tf.float32), "keypoint_regression": tf.constant(regression, tf.float32)}


def test_distillation_of_a_student_equal_to_its_teacher_is_zero():
    rng = np.random.default_rng(0)
    heads = _heads(rng.normal(size=(2, 4, 4, 1)), rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(2, 4, 4, 6)),
                   rng.normal(size=(2, 4, 4, 6)))
    losses = distillation_losses(heads, heads, default_config(DistillConfig))
    assert set(losses) == {"distill/total", "distill/center", "distill/keypoint_heatmap", "distill/keypoint_offset",
                           "distill/keypoint_regression"}
    for key, value in losses.items():
        assert abs(float(value)) < 1e-5, key


def test_distillation_terms_by_hand():
    # One cell, one joint. Heatmaps: teacher logit 0 (p = 1/2), student logit ln 3 (q = 3/4): the Bernoulli KL is
    # 1/2 ln((1/2)/(3/4)) + 1/2 ln((1/2)/(1/4)) = 1/2 ln(4/3), over the teacher's mass 1/2, which counts as 1 (a mass
    # below 1 is floored there, as the focal loss' count of people is).
    # Offsets over two cells: one where the teacher's keypoint probability is 1/2 (student off by (1, 1)), one
    # where it is ~0 (student off by (10, 10)): beyond delta = 0.1 cell the Huber distance is |gap| - 0.05, so the
    # confidence-weighted mean is (1/2 * 0.95 * 2) / (1/2 * 2) = 0.95.
    teacher = _heads([[[[0.0], [0.0]]]], [[[[0.0], [-100.0]]]], np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 2)))
    student = _heads([[[[np.log(3.0)], [0.0]]]], [[[[np.log(3.0)], [-100.0]]]], [[[[1.0, 1.0], [10.0, 10.0]]]],
                     [[[[2.0, 0.0], [0.0, 0.0]]]])
    config = default_config(DistillConfig, keypoint_regression=1.0)
    losses = distillation_losses(student, teacher, config)
    # Centre: teacher p = 1/2 at both cells, the second matched: 1/2 ln(4/3) over a mass of 1.
    assert float(losses["distill/center"]) == pytest.approx(0.5 * np.log(4.0 / 3.0), rel=1e-5)
    assert float(losses["distill/keypoint_heatmap"]) == pytest.approx(0.5 * np.log(4.0 / 3.0), rel=1e-4)
    assert float(losses["distill/keypoint_offset"]) == pytest.approx(0.95, rel=1e-4)
    # Regression weighted by the centre probability (1/2 at both cells): (2 - 0.05) / (1/2 * 4 channels) * 1/2.
    assert float(losses["distill/keypoint_regression"]) == pytest.approx(1.95 / 4, rel=1e-5)
    assert float(losses["distill/total"]) == pytest.approx(sum(float(v) for k, v in losses.items()
                                                              if k != "distill/total"), rel=1e-6)


def test_soft_heatmap_gradient_is_the_probability_difference_and_exactly_zero_at_the_teacher():
    """d KL / d student logit = sigmoid(student) - sigmoid(teacher), checked against finite differences of the
    KL written out by hand; where the logits agree it is exactly 0, not the ~1e-7 autodiff of the cross-entropy
    leaves (which Adam would turn into steps of the full learning rate)."""
    rng = np.random.default_rng(1)
    teacher = tf.constant(rng.normal(size=(1, 3, 3, 2)) * 3, tf.float32)
    student = tf.Variable(rng.normal(size=(1, 3, 3, 2)) * 3, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = soft_heatmap_loss(teacher, student)
    gradient = tape.gradient(loss, student).numpy()

    def by_hand(s):
        p, q = 1 / (1 + np.exp(-teacher.numpy().astype(np.float64))), 1 / (1 + np.exp(-s))
        return np.sum(p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))) / max(p.sum(), 1.0)

    s0, eps = student.numpy().astype(np.float64), 1e-6
    numeric = np.zeros_like(s0)
    for index in np.ndindex(s0.shape):
        up, down = s0.copy(), s0.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (by_hand(up) - by_hand(down)) / (2 * eps)
    np.testing.assert_allclose(gradient, numeric, atol=1e-5)
    student.assign(teacher)
    with tf.GradientTape() as tape:
        loss = soft_heatmap_loss(teacher, student)
    assert float(loss) == 0.0 and not tape.gradient(loss, student).numpy().any()


def test_vector_distillation_is_quadratic_near_the_teacher():
    """Huber by hand: within delta a gap g costs g^2 / (2 delta) with gradient g / delta (so float rounding between
    student and teacher graphs pulls with its own size / delta, not the +-1 of L1); beyond it |g| - delta / 2,
    gradient +-1."""
    teacher = tf.zeros((1, 1, 3, 1))
    student = tf.Variable([[[[1e-6], [0.05], [-2.0]]]])
    confidence = tf.ones((1, 1, 3, 1))
    with tf.GradientTape() as tape:
        loss = confidence_weighted_huber(teacher, student, confidence, delta=0.1)
    expected = (0.5 * 1e-12 / 0.1 + 0.5 * 0.0025 / 0.1 + 1.95) / 3
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, student).numpy().ravel(), np.array([1e-5, 0.5, -1.0]) / 3,
                               rtol=1e-5)


def test_distill_weights_must_not_be_negative():
    with pytest.raises(UserError, match="distill.keypoint_offset must be >= 0, got -1.0"):
        default_config(DistillConfig, keypoint_offset=-1.0)

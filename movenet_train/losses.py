"""CenterNet losses as ODAPI trains MoveNet: penalty-reduced focal loss on heatmaps, L1 on offsets/regression.

All losses take the head logits of ``build_model`` and the dense targets of ``movenet_train.data`` and are
normalised per batch (per replica) by the number of people, labelled keypoints or assigned cells.
"""

import tensorflow as tf

# The train.loss and train.distill config groups; defined with the rest of the train group, which needs no TensorFlow.
from movenet_train.training.config import DISTILL_VIEWS, DistillConfig, LossConfig  # noqa: F401 (re-exported)


def penalty_reduced_focal_loss(target, logits, mask, alpha=2.0, beta=4.0, clip=1e-4):
    """Summed CornerNet focal loss: positives where the target is 1, negatives down-weighted by (1 - target)^beta."""
    prob = tf.clip_by_value(tf.sigmoid(tf.cast(logits, tf.float32)), clip, 1.0 - clip)
    positive = tf.cast(target >= 1.0, tf.float32)
    positive_loss = -tf.math.log(prob) * tf.pow(1.0 - prob, alpha) * positive
    negative_loss = -tf.math.log(1.0 - prob) * tf.pow(prob, alpha) * tf.pow(1.0 - target, beta) * (1.0 - positive)
    return tf.reduce_sum((positive_loss + negative_loss) * mask)


def l1_loss(target, prediction, mask):
    """Summed |prediction - target| over the masked channels, and the number of assigned (cell, pair) slots."""
    diff = tf.abs(tf.cast(prediction, tf.float32) - target) * mask
    # Masks are per coordinate; y and x of one keypoint share a slot.
    return tf.reduce_sum(diff), tf.reduce_sum(mask) / 2.0


def _safe_divide(x, n):
    return x / tf.maximum(n, 1.0)


def movenet_losses(outputs, targets, config):
    """Dict of weighted loss terms and their sum under ``total``."""
    ones = tf.ones_like(targets["center_heatmap"])
    center = penalty_reduced_focal_loss(
        targets["center_heatmap"], outputs["center"], targets.get("center_mask", ones),
        config.focal_alpha, config.focal_beta, config.sigmoid_clip,
    )
    keypoint_heatmap = penalty_reduced_focal_loss(
        targets["keypoint_heatmap"], outputs["keypoint_heatmap"], targets["keypoint_heatmap_mask"],
        config.focal_alpha, config.focal_beta, config.sigmoid_clip,
    )
    losses = {
        "center": config.center_weight * _safe_divide(center, tf.reduce_sum(targets["num_people"])),
        "keypoint_heatmap": config.keypoint_heatmap_weight
        * _safe_divide(keypoint_heatmap, tf.reduce_sum(targets["num_keypoints"])),
    }
    l1_terms = [("keypoint_offset", config.keypoint_offset_weight),
                ("keypoint_regression", config.keypoint_regression_weight)]
    if "box_scale" in outputs:
        l1_terms += [("box_scale", config.box_scale_weight), ("box_offset", config.box_offset_weight)]
    for key, weight in l1_terms:
        mask_key = "box_mask" if key.startswith("box_") else f"{key}_mask"
        total, count = l1_loss(targets[key], outputs[key], targets[mask_key])
        losses[key] = weight * _safe_divide(total, count)
    losses["total"] = tf.add_n(list(losses.values()))
    return losses


@tf.custom_gradient
def _bernoulli_kl(teacher_logits, student_logits):
    """Per-cell KL divergence from Bernoulli(sigmoid(teacher)) to Bernoulli(sigmoid(student)).

    Its gradient, ``sigmoid(student) - sigmoid(teacher)``, is written out so that it is exactly 0 where the
    logits agree (autodiff of the cross-entropy leaves ~1e-7 there, which Adam turns into full-size steps). The
    teacher is a constant: it gets no gradient."""
    teacher = tf.sigmoid(teacher_logits)
    divergence = (tf.nn.sigmoid_cross_entropy_with_logits(labels=teacher, logits=student_logits)
                  - tf.nn.sigmoid_cross_entropy_with_logits(labels=teacher, logits=teacher_logits))

    def gradient(upstream):
        return tf.zeros_like(teacher_logits), upstream * (tf.sigmoid(student_logits) - teacher)

    return divergence, gradient


def soft_heatmap_loss(teacher_logits, student_logits, valid=None):
    """Bernoulli KL divergence from the teacher's heatmap probabilities to the student's, summed over cells and
    divided by the teacher's probability mass (its soft count of peaks, as the focal loss divides by people).
    ``valid`` (broadcastable, 0/1) leaves out cells the teacher did not see.

    Zero when the student matches the teacher, so the term reads as "how far the student has moved"."""
    valid = 1.0 if valid is None else valid
    teacher_logits = tf.cast(teacher_logits, tf.float32)
    divergence = _bernoulli_kl(teacher_logits, tf.cast(student_logits, tf.float32))
    return _safe_divide(tf.reduce_sum(divergence * valid), tf.reduce_sum(tf.sigmoid(teacher_logits) * valid))


# Below this distance (in output-grid cells, ~0.4 px of a 192 px input) a vector head is pulled quadratically:
# the gradient of plain L1 is +-1 however small the gap, so float rounding between the compiled student and
# teacher graphs (CPU-dependent; up to ~2e-3 cells measured) would push a student that already is its teacher a
# full step.
VECTOR_DISTILL_DELTA = 0.1


def confidence_weighted_huber(teacher, student, confidence, delta=VECTOR_DISTILL_DELTA):
    """Huber distance (L1 beyond ``delta`` cells, quadratic within, gradient ``gap / delta`` there) between a
    vector head of student and teacher, each cell weighted by the teacher's confidence there (its heatmap
    probability broadcast over the channels), over the total weight: off-peak cells, which the decoder never
    reads, barely count."""
    gap = tf.abs(tf.cast(student, tf.float32) - tf.cast(teacher, tf.float32))
    distance = tf.where(gap < delta, 0.5 * tf.square(gap) / delta, gap - 0.5 * delta) * confidence
    return _safe_divide(tf.reduce_sum(distance), tf.reduce_sum(confidence * tf.ones_like(distance)))


def distillation_losses(student, teacher, config, valid=None):
    """Dict of weighted distillation terms (keys ``distill/<head>``) and their sum under ``distill/total``:
    heatmaps as soft targets, offsets and regression (Huber, ``VECTOR_DISTILL_DELTA``) weighted by the teacher's
    confidence. ``valid`` ``[B, H, W, 1]`` (0/1, from carrying the teacher's maps to the student's view) leaves
    out the student's cells outside the teacher's view."""
    keypoint_prob = tf.sigmoid(tf.cast(teacher["keypoint_heatmap"], tf.float32))
    center_prob = tf.sigmoid(tf.cast(teacher["center"], tf.float32))
    if valid is not None:
        keypoint_prob, center_prob = keypoint_prob * valid, center_prob * valid
    terms = {
        "center": soft_heatmap_loss(teacher["center"], student["center"], valid),
        "keypoint_heatmap": soft_heatmap_loss(teacher["keypoint_heatmap"], student["keypoint_heatmap"], valid),
        # Offsets hold (y, x) per joint: channels 2k and 2k + 1 belong to joint k.
        "keypoint_offset": confidence_weighted_huber(teacher["keypoint_offset"], student["keypoint_offset"],
                                                     tf.repeat(keypoint_prob, 2, axis=-1)),
        "keypoint_regression": confidence_weighted_huber(teacher["keypoint_regression"],
                                                         student["keypoint_regression"], center_prob),
    }
    if "box_scale" in student:
        for key in ("box_scale", "box_offset"):
            terms[key] = confidence_weighted_huber(teacher[key], student[key], center_prob)
    losses = {f"distill/{key}": getattr(config, key) * value for key, value in terms.items()}
    losses["distill/total"] = tf.add_n(list(losses.values()))
    return losses

"""CenterNet losses as ODAPI trains MoveNet: penalty-reduced focal loss on heatmaps, L1 on offsets/regression.

All losses take the head logits of ``build_model`` and the dense targets of ``movenet_train.data`` and are
normalised per batch (per replica) by the number of people, labelled keypoints or assigned cells.
"""

import dataclasses
import typing

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """``train.loss`` (ODAPI's defaults)."""

    DEFAULTS: typing.ClassVar = ("train/default.yaml", "loss")  # the defaults' one home, under configs/

    focal_alpha: float
    focal_beta: float
    sigmoid_clip: float
    center_weight: float
    keypoint_heatmap_weight: float
    keypoint_offset_weight: float
    keypoint_regression_weight: float
    box_scale_weight: float
    box_offset_weight: float


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

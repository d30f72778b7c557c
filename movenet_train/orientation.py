"""People at any orientation: an inference-time quarter-turn search around any single-pose model.

MoveNet was trained on upright people; a person lying, fallen, upside down or in a photo held sideways is
mostly lost. ``orientation="any"`` runs the model on the upright view first and, unless that pose is a
confident upright body, also on the three quarter turns of the same input (``np.rot90``: no resampling, the
same pixels), keeps the turn whose pose looks most like a confident upright person, and turns its keypoints back.

**The rule.** A view's *upright score* is the mean of its ``TOP_K`` highest keypoint scores times the cosine of
the angle between the image's up and the body's up in that view (zero when the body points downwards). The
body's up runs from the score-weighted centre of the lower-body joints to that of the upper-body joints
(``body_axis_joints``; COCO: head and shoulders over hips, knees and ankles). The top-k mean does not punish a
person cut off at the waist as the mean of all joints does; the cosine rejects a confident pose the model
assembled upside down or sideways, which it does on turned people. The view with the highest upright score wins.

**The gate.** When the upright view alone scores at least ``GATE``, the other passes are skipped and the
upright pose is kept. ``GATE`` sits at about the 99th percentile of the upright score of *wrong* turns (views
in which the person is not upright) of both released single-pose models on the COCO sample's people turned four
ways (docs/evaluation.md, "People at any orientation"): a pose that confident and upright is rarely a wrong turn.
The decision is a function of the four views' poses only, so an exported file that runs all four views in its
graph (export ``orientation=any``) picks the same turn without branching.
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from movenet_train.errors import UserError
from movenet_train.geometry import (apply, body_angle, crop_matrix, quarter_turn_image, unturn_normalized,
                                    unturn_normalized_points, warp)
from movenet_train.modeling.outputs import KEYPOINT_SCORE_THRESHOLD
from movenet_train.predictor import Predictor

ORIENTATIONS = ("upright", "any")
TURNS = 4
TOP_K = 8
GATE = 0.4
# A torso tilted this much beyond the nearest quarter turn gets a pass turned by its exact angle (images) or a
# resampled turned crop (video); below it the quarter turn is left alone (np.rot90: the very pixels, no blur).
ALIGN_MIN_DEGREES = 30.0
_COCO_UPPER = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder")
_COCO_LOWER = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def check_orientation(orientation):
    if orientation not in ORIENTATIONS:
        raise UserError(f"orientation={orientation!r}: expected one of {', '.join(ORIENTATIONS)}")
    return orientation


def body_axis_joints(schema):
    """(upper joint indices, lower joint indices) whose score-weighted centres give the body's up direction:
    COCO's head and shoulders over its hips, knees and ankles when the schema names them, else the schema's
    ``torso`` halves. Raises when the schema has neither (orientation=any cannot tell up)."""
    index = schema.index
    if all(n in index for n in _COCO_UPPER + _COCO_LOWER):
        return tuple(index[n] for n in _COCO_UPPER), tuple(index[n] for n in _COCO_LOWER)
    if schema.torso_axis is None:
        raise UserError(f"orientation=any needs to know which way is up: the keypoint schema {schema.name!r} "
                         f"({schema.source}) names neither COCO's head, shoulder, hip, knee and ankle joints nor a "
                         "keypoints.torso (upper joints, then as many lower ones)")
    return schema.torso_axis


@dataclasses.dataclass(frozen=True)
class TurnRule:
    """The choice between the four quarter-turn views (module docstring)."""

    upper: tuple
    lower: tuple
    top_k: int = TOP_K
    gate: float = GATE

    @classmethod
    def of(cls, schema, **overrides):
        upper, lower = body_axis_joints(schema)
        return cls(tuple(upper), tuple(lower), min(TOP_K, schema.num_keypoints), **overrides)

    def upright_score(self, keypoints):
        """``keypoints`` ``[..., N, 3]`` (y, x, score) in the view they were found in -> ``[...]`` upright score."""
        keypoints = np.asarray(keypoints, np.float64)
        scores = keypoints[..., 2]
        confidence = np.sort(scores, axis=-1)[..., -self.top_k:].mean(axis=-1)
        up = _weighted_centre(keypoints, self.upper) - _weighted_centre(keypoints, self.lower)
        length = np.linalg.norm(up, axis=-1)
        cosine = np.where(length > 0, -up[..., 0] / np.maximum(length, 1e-12), 0.0)  # image up is -y
        return confidence * np.clip(cosine, 0.0, 1.0)

    def choose(self, view_keypoints):
        """``[B, 4, N, 3]`` keypoints of the views turned 0..3 times (each in its own view) -> ``[B]`` turns.

        The upright view wins whenever it reaches the gate, whatever the others score; a missing view (NaN
        scores: the search skipped it) never wins."""
        scores = np.nan_to_num(self.upright_score(view_keypoints), nan=-1.0)
        best = np.argmax(scores, axis=1)
        return np.where(scores[:, 0] >= self.gate, 0, best)

    # TensorFlow twins of the two above, for graphs (an exported file's in-graph search, ``search_in_graph``): the
    # same formula in float32 instead of float64, so a score within about 1e-7 of the gate or of another view's
    # may fall the other way; tests/test_orientation_rule.py checks that they agree elsewhere.

    def tf_upright_score(self, keypoints):
        """``upright_score`` in TensorFlow: ``keypoints`` ``[..., N, 3]`` -> float32 ``[...]``."""
        keypoints = tf.cast(keypoints, tf.float32)
        confidence = tf.reduce_mean(tf.math.top_k(keypoints[..., 2], k=self.top_k).values, axis=-1)
        up = _tf_weighted_centre(keypoints, self.upper) - _tf_weighted_centre(keypoints, self.lower)
        length = tf.sqrt(tf.reduce_sum(tf.square(up), axis=-1))
        cosine = tf.where(length > 0, -up[..., 0] / tf.maximum(length, 1e-12), 0.0)  # image up is -y
        return confidence * tf.clip_by_value(cosine, 0.0, 1.0)

    def tf_choose(self, view_keypoints):
        """``choose`` in TensorFlow: ``[B, 4, N, 3]`` -> int32 ``[B]`` turns, with no branching (every view is
        scored; the upright view wins whenever it reaches the gate; a NaN score never wins; ties go to the lower
        turn, as ``np.argmax``)."""
        scores = self.tf_upright_score(view_keypoints)
        scores = tf.where(tf.equal(scores, scores), scores, -1.0)  # NaN -> -1, as np.nan_to_num(nan=-1.0)
        best = tf.argmax(scores, axis=1, output_type=tf.int32)
        return tf.where(scores[:, 0] >= self.gate, tf.zeros_like(best), best)


def _weighted_centre(keypoints, joints):
    part = keypoints[..., list(joints), :]
    weights = part[..., 2:3]
    return (part[..., :2] * weights).sum(axis=-2) / np.maximum(weights.sum(axis=-2), 1e-12)


def _tf_weighted_centre(keypoints, joints):
    part = tf.gather(keypoints, list(joints), axis=-2)
    weights = part[..., 2:3]
    return tf.reduce_sum(part[..., :2] * weights, axis=-2) / tf.maximum(tf.reduce_sum(weights, axis=-2), 1e-12)


def search_in_graph(inference, images, rule):
    """The quarter-turn search as graph ops, for a file that does it behind the released signature (export
    ``orientation=any``): ``images`` ``[1, S, S, 3]`` -> float32 ``[1, 1, N, 3]`` (y, x, score), normalised, in
    the input's own frame.

    The four views (``geometry.quarter_turn_image``: ``tf.image.rot90`` without its ``tf.case``, k = 0..3, the
    turns of ``OrientationSearch``) go through
    ``inference`` (``MoveNetInference`` or anything mapping ``[4, S, S, 3]`` to decoded ``[4, 1, N, 3]``) as one
    batch of 4; ``rule.tf_choose`` picks the turn from all four (no branching, so the gate's decision is the one
    the Python search makes on the same keypoints) and the chosen view's keypoints are turned back
    (``geometry.unturn_normalized_points``). Always four model passes: the file costs about four times the
    upright one, whatever the gate decides."""
    shape = images.shape
    if shape.rank != 4 or shape[0] != 1 or shape[-1] != 3:
        raise ValueError(f"search_in_graph takes one image, [1, S, S, 3]; got {shape}")
    if shape[1] is not None and shape[2] is not None and shape[1] != shape[2]:
        raise UserError(f"orientation=any needs square inputs, got {shape[1]}x{shape[2]}")
    views = tf.stack([quarter_turn_image(images[0], k) for k in range(TURNS)])  # [4, S, S, 3]
    keypoints = tf.cast(inference(views), tf.float32)[:, 0]  # [4, N, 3], each in its own view
    turn = rule.tf_choose(keypoints[None])[0]
    chosen = tf.gather(keypoints, turn)  # [N, 3]
    yx = unturn_normalized_points(chosen[:, :2], turn)
    return tf.concat([yx, chosen[:, 2:]], axis=-1)[None, None]


def body_turn(keypoints_yx, scores, axis, min_score=KEYPOINT_SCORE_THRESHOLD):
    """How to turn content so that this pose's body axis is upright: ``(quarter turns 0..3, residual radians,
    centre)``, the nearest quarter turn, what is left beyond it when that is at least ``ALIGN_MIN_DEGREES`` (else
    0), and the midpoint of the axis' two ends. ``axis``: (upper joints, lower joints), whose score-weighted centres
    are the ends (the tracker: the schema's torso, hip centre -> shoulder centre; the image search: the rule's
    whole-body groups). (0, 0.0, None) without an axis or without a joint above ``min_score`` in each half.
    ``keypoints_yx`` ``[N, 2]`` in pixels (or any square units)."""
    scores = np.asarray(scores, np.float64)
    if axis is None or not all(scores[list(half)].max() > min_score for half in axis):
        return 0, 0.0, None
    pose = np.c_[np.asarray(keypoints_yx, np.float64), np.maximum(scores, 1e-6)]
    upper, lower = _weighted_centre(pose, axis[0]), _weighted_centre(pose, axis[1])
    turn = -float(body_angle(upper, lower))  # turning the content by -angle makes the body upright
    turns = round(turn / (math.pi / 2))
    residual = turn - turns * math.pi / 2
    return turns % 4, residual if abs(residual) >= math.radians(ALIGN_MIN_DEGREES) else 0.0, (upper + lower) / 2


class OrientationSearch(Predictor):
    """A single-pose predictor that finds each person's quarter turn (module docstring); same call, same
    output (keypoints in the input's own frame). ``last_turns``: the turn chosen for each image of the last call
    (0 upright, k: the input turned k times counter-clockwise); ``last_passes``: model passes it took;
    ``last_aligned``: images whose aligned pass was kept.

    ``align`` (default on): after the choice, a person whose body axis (the rule's: head and shoulders over hips,
    knees and ankles) is still tilted by ``ALIGN_MIN_DEGREES`` or more in the chosen view (a 45-degree lean, a
    fall caught mid-way) is run once more on the input turned about the axis' middle by the exact body angle
    (``body_turn``), and that pose is kept when its upright score is higher. Exported ``orientation=any`` files
    do the quarter-turn search only (``align=False``)."""

    def __init__(self, predictor, rule=None, align=True):
        if predictor.multi_pose:
            raise UserError("orientation=any applies to single-pose models (Lightning, Thunder); this model is "
                             "multi-pose: use orientation=upright")
        self.predictor = predictor
        self.rule = rule or TurnRule.of(predictor.schema)
        self.kind = f"{predictor.kind}+orientation"
        self.multi_pose = False
        self.input_size = predictor.input_size
        self.schema = predictor.schema
        self.align = align
        self.last_turns = np.zeros(0, np.int64)
        self.last_passes = 0
        self.last_aligned = np.zeros(0, bool)

    def __call__(self, images):
        images = np.asarray(images)
        if images.shape[1] != images.shape[2]:
            raise UserError(f"orientation=any needs square inputs, got {images.shape[1]}x{images.shape[2]}")
        upright = np.asarray(self.predictor(images))  # [B, 1, N, 3]
        views = np.full((len(images), TURNS) + upright.shape[2:], np.nan)
        views[:, 0] = upright[:, 0]
        search = np.flatnonzero(self.rule.upright_score(upright[:, 0]) < self.rule.gate)
        self.last_passes = len(images) + (TURNS - 1) * len(search)
        if len(search):
            turned = np.stack([np.rot90(images[i], k) for i in search for k in range(1, TURNS)])
            outputs = np.asarray(self.predictor(turned))[:, 0].reshape(len(search), TURNS - 1, *upright.shape[2:])
            views[search, 1:] = outputs
        turns = self.rule.choose(views)
        out = upright.copy()
        for i in np.flatnonzero(turns):
            chosen = views[i, turns[i]]
            out[i, 0, :, :2] = unturn_normalized(chosen[:, :2], turns[i])
            out[i, 0, :, 2] = chosen[:, 2]
        self.last_turns = turns
        self.last_aligned = np.zeros(len(images), bool)
        if self.align:
            self._align(images, out, views[np.arange(len(images)), turns])
        return out

    def _align(self, images, out, chosen_views):
        """Re-runs the people still tilted after the quarter-turn choice on their input turned by the body angle
        (one batch); keeps a pass whose upright score beats the chosen view's. ``out`` is updated in place."""
        size = images.shape[1]
        tilted, matrices = [], []
        for i, pose in enumerate(out[:, 0]):
            turns, residual, centre = body_turn(pose[:, :2] * size, pose[:, 2], (self.rule.upper, self.rule.lower))
            if not residual:
                continue
            tilted.append(i)
            matrices.append(crop_matrix(centre, size, size, turns * math.pi / 2 + residual))
        if not tilted:
            return
        aligned = np.asarray(self.predictor(np.stack([warp(images[i], m, size) for i, m in zip(tilted, matrices)])))
        self.last_passes += len(tilted)
        better = self.rule.upright_score(aligned[:, 0]) > self.rule.upright_score(chosen_views[tilted])
        for i, matrix, pose, keep in zip(tilted, matrices, aligned[:, 0], better):
            if keep:
                out[i, 0, :, :2] = apply(np.linalg.inv(matrix), pose[:, :2] * size) / size
                out[i, 0, :, 2] = pose[:, 2]
                self.last_aligned[i] = True


def turned_back_views(predictor, images):
    """``[B, 4, N, 3]``: ``predictor``'s keypoints on each of the four quarter turns of square ``images``
    (``np.rot90``, k = 0..3), each turned back to the input's frame: what every turn would give as the answer. An
    exported ``orientation=any`` file's choice is the view nearest its output (``nearest_turns``)."""
    images = np.asarray(images)
    views = [np.asarray(predictor(np.ascontiguousarray(np.rot90(images, k, axes=(1, 2)))))[:, 0] for k in range(TURNS)]
    for k, view in enumerate(views):
        view[..., :2] = unturn_normalized(view[..., :2], k)
    return np.stack(views, axis=1)


def nearest_turns(outputs, views):
    """The turn whose turned-back keypoints (``turned_back_views``) are nearest ``outputs`` ``[B, 1, N, 3]`` (mean
    absolute (y, x) difference) -> ``[B]``: the turn a search that gave ``outputs`` picked."""
    distance = np.abs(np.asarray(views)[..., :2] - np.asarray(outputs)[:, :, :, :2]).mean(axis=(2, 3))
    return np.argmin(distance, axis=1)


def with_orientation(predictor, orientation):
    """``predictor`` as is (``upright``) or wrapped in ``OrientationSearch`` (``any``)."""
    if check_orientation(orientation) == "upright":
        return predictor
    return OrientationSearch(predictor)

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

import numpy as np

from movenet_train.geometry import unturn_normalized
from movenet_train.runtime import Predictor

ORIENTATIONS = ("upright", "any")
TURNS = 4
TOP_K = 8
GATE = 0.4
_COCO_UPPER = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder")
_COCO_LOWER = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def check_orientation(orientation):
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation={orientation!r}: expected one of {', '.join(ORIENTATIONS)}")
    return orientation


def body_axis_joints(schema):
    """(upper joint indices, lower joint indices) whose score-weighted centres give the body's up direction:
    COCO's head and shoulders over its hips, knees and ankles when the schema names them, else the schema's
    ``torso`` halves. Raises when the schema has neither (orientation=any cannot tell up)."""
    index = schema.index
    if all(n in index for n in _COCO_UPPER + _COCO_LOWER):
        return tuple(index[n] for n in _COCO_UPPER), tuple(index[n] for n in _COCO_LOWER)
    if schema.torso_axis is None:
        raise ValueError(f"orientation=any needs to know which way is up: the keypoint schema {schema.name!r} "
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


def _weighted_centre(keypoints, joints):
    part = keypoints[..., list(joints), :]
    weights = part[..., 2:3]
    return (part[..., :2] * weights).sum(axis=-2) / np.maximum(weights.sum(axis=-2), 1e-12)


class OrientationSearch(Predictor):
    """A single-pose predictor that finds each person's quarter turn (module docstring); same call, same
    output (keypoints in the input's own frame). ``last_turns``: the turn chosen for each image of the last call
    (0 upright, k: the input turned k times counter-clockwise); ``last_passes``: model passes it took."""

    def __init__(self, predictor, rule=None):
        if predictor.multi_pose:
            raise ValueError("orientation=any applies to single-pose models (Lightning, Thunder); this model is "
                             "multi-pose: use orientation=upright")
        self.predictor = predictor
        self.rule = rule or TurnRule.of(predictor.schema)
        self.kind = f"{predictor.kind}+orientation"
        self.multi_pose = False
        self.input_size = predictor.input_size
        self.schema = predictor.schema
        self.last_turns = np.zeros(0, np.int64)
        self.last_passes = 0

    def __call__(self, images):
        images = np.asarray(images)
        if images.shape[1] != images.shape[2]:
            raise ValueError(f"orientation=any needs square inputs, got {images.shape[1]}x{images.shape[2]}")
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
        return out


def with_orientation(predictor, orientation):
    """``predictor`` as is (``upright``) or wrapped in ``OrientationSearch`` (``any``)."""
    if check_orientation(orientation) == "upright":
        return predictor
    return OrientationSearch(predictor)

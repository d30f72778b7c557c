"""One person, several looks: the views of a multi-transform ensemble and their per-keypoint fusion.

Data Distillation (Radosavovic et al., CVPR 2018) labels an image with one model's predictions on several
transforms of it (flips, scales), mapped back and merged: the merged pose is a better label than a single pass.
Here a person is a square of the image (``people.py``); each view is that square, optionally at another scale,
optionally mirrored, and run through the single-pose model (through ``orientation=any``'s quarter-turn search when
``orientation`` is asked for, which is a choice per view rather than a view to fuse: an upside-down pass of an
upright person is no vote for anything). A mirrored view's joints come back swapped by the keypoint schema's flip
map, so its "left knee" votes for the left knee.

**Fusion.** Per keypoint, the view with the highest score is the anchor; the views whose point lies within the
OKS-0.5 radius of the anchor's (the radius of ``coco_metrics.PCK_OKS_THRESHOLD``, at the person's scale) agree,
and the fused point is their score-weighted mean. The fused score is the agreeing views' score summed over *all*
views: what averaging the views' heatmaps and reading the peak gives, so that views that put the joint elsewhere
(a left/right confusion, a limb taken from a neighbour) lower the score instead of pulling the point half-way.
One view fuses to itself: ``transforms=[]`` is the single pass.
"""

import dataclasses

import numpy as np

from movenet_train.evaluation import crops
from movenet_train.evaluation.coco_metrics import PCK_OKS_THRESHOLD
from movenet_train.evaluation.protocols import Frame
from movenet_train.preprocessing import model_input

@dataclasses.dataclass(frozen=True)
class View:
    """A square of the image, in whole pixels (``crops.crop_square``: zeros outside), seen mirrored or not."""

    top: int
    left: int
    side: int
    flip: bool = False


def person_views(square, transforms, scales):
    """The views of one person whose square is ``(top, left, side)`` (pixels): every scale factor (1 alone without
    ``scales``) about the square's centre, each also mirrored with ``flip``."""
    top, left, side = square
    factors = tuple(scales) if "scales" in transforms else (1.0,)
    flips = (False, True) if "flip" in transforms else (False,)
    views = []
    for factor in factors:
        # person_square of the square itself: the same centring and rounding as the every_person crop
        scaled = crops.person_square([left, top, side, side], factor, 0, 0)
        views.extend(View(*scaled, flip=flip) for flip in flips)
    return views


def view_input(image, view, size):
    """The model input of ``view``: the square cut and resized as ``protocols.person_view`` does, then mirrored."""
    pixels = model_input(crops.crop_square(image, view.top, view.left, view.side), size, size)
    return np.ascontiguousarray(pixels[:, ::-1]) if view.flip else pixels


def unflip(keypoints, schema):
    """``[..., N, 3]`` (y, x, score) normalised over a mirrored input -> over the unmirrored one: x -> 1 - x, and
    joint ``i`` is what the mirrored pass called ``flip_permutation[i]`` (its "right knee" is the left knee)."""
    keypoints = np.asarray(keypoints, np.float64)[..., list(schema.flip_permutation), :].copy()
    keypoints[..., 1] = 1.0 - keypoints[..., 1]
    return keypoints


def view_keypoints(output, view, schema, size):
    """``[N, 3]`` (y, x, score) in pixels of the image from the model's ``[1, N, 3]`` output on ``view``."""
    keypoints = np.asarray(output, np.float64).reshape(schema.num_keypoints, 3)
    if view.flip:
        keypoints = unflip(keypoints, schema)
    yx = Frame(view.side, view.side, size, size, view.top, view.left).to_pixels(keypoints[:, :2])
    return np.concatenate([yx, keypoints[:, 2:]], axis=-1)


def agreement_radius(sigmas, area):
    """Per joint, the distance (pixels) at which the OKS term ``exp(-d^2 / (2 area (2 sigma)^2))`` falls to
    ``PCK_OKS_THRESHOLD``: COCOeval's similarity, with the person's area as its scale."""
    return 2.0 * np.asarray(sigmas, np.float64) * np.sqrt(2.0 * max(float(area), 1.0) * -np.log(PCK_OKS_THRESHOLD))


def fuse(views, sigmas, area):
    """``[V, N, 3]`` (y, x, score) pixel poses of one person -> the fused ``[N, 3]`` (module docstring).

    ``sigmas``: the schema's OKS sigmas; ``area``: the person's area in square pixels (the OKS scale)."""
    views = np.asarray(views, np.float64)
    if views.ndim != 3 or views.shape[-1] != 3 or not len(views):
        raise ValueError(f"expected [V, N, 3] poses with V >= 1, got {views.shape}")
    scores = views[..., 2]
    anchor = views[np.argmax(scores, axis=0), np.arange(views.shape[1]), :2]  # [N, 2]
    distance = np.linalg.norm(views[..., :2] - anchor, axis=-1)  # [V, N]
    weights = np.where(distance <= agreement_radius(sigmas, area), scores, 0.0)
    total = weights.sum(axis=0)
    mean = (weights[..., None] * views[..., :2]).sum(axis=0) / np.maximum(total, 1e-12)[:, None]
    yx = np.where(total[:, None] > 0, mean, anchor)  # every score 0: the anchor, as one pass would give
    return np.concatenate([yx, (total / len(views))[:, None]], axis=-1)


def pose_area(keypoints, min_score, fallback_side):
    """Area (square pixels) of the box around ``keypoints`` ``[N, 3]`` scoring at least ``min_score``, at least a
    tenth of ``fallback_side`` squared: the OKS scale of a person whose box is not known yet."""
    confident = keypoints[keypoints[:, 2] >= min_score, :2]
    floor = (0.1 * fallback_side) ** 2
    if len(confident) < 2:
        return max(floor, (fallback_side / 1.25) ** 2 / 2)
    height, width = confident.max(axis=0) - confident.min(axis=0)
    return max(floor, float(height * width))


def run_views(model, inputs, batch_size):
    """``model``'s outputs on ``inputs`` (a list of ``[S, S, 3]``), ``batch_size`` at a time."""
    outputs = []
    for start in range(0, len(inputs), batch_size):
        outputs.append(np.asarray(model(np.stack(inputs[start:start + batch_size]))))
    return np.concatenate(outputs) if outputs else np.zeros((0,))

"""Skeleton drawing for predict, the notebooks, plots and TensorBoard image summaries.

Colours follow the usual pose-demo convention: the person's left side in one colour, the right side in
another, the centre line (face, shoulders, hips) in a third, so a left/right swap shows at a glance.
"""

import cv2
import numpy as np

from movenet_train.keypoints import KeypointSchema
from movenet_train.modeling.outputs import DRAW_KEYPOINT_THRESHOLD

# RGB
LEFT_COLOR = (255, 140, 0)
RIGHT_COLOR = (0, 160, 255)
CENTER_COLOR = (230, 0, 230)
BOX_COLOR = (255, 255, 0)
UNSURE_COLOR = (160, 160, 160)


def _color(schema, *indices):
    sides = {schema.side(i) for i in indices}
    if sides == {"left"}:
        return LEFT_COLOR
    if sides == {"right"}:
        return RIGHT_COLOR
    return CENTER_COLOR


def line_width(image_shape):
    """Stroke width that stays visible from thumbnails to 4K frames."""
    return max(2, int(round(min(image_shape[:2]) / 200)))


def draw_skeleton(image, keypoints_yx, scores, threshold=DRAW_KEYPOINT_THRESHOLD, *, schema):
    """A copy of RGB uint8 ``image`` with the skeleton drawn over it.

    ``keypoints_yx``: ``[N, 2]`` (y, x) in pixels of ``image``; ``scores``: ``[N]``; ``schema``: the keypoint
    schema (edges, left/right colours), e.g. ``predictor.schema``. Keypoints scoring below ``threshold`` are
    hidden, and so is every edge that touches one.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an RGB uint8 image [H, W, 3], got {image.dtype} {image.shape}")
    if not isinstance(schema, KeypointSchema):
        raise TypeError(f"schema must be a KeypointSchema, got {type(schema).__name__}")
    keypoints_yx, scores = np.asarray(keypoints_yx, np.float64), np.asarray(scores)
    n = schema.num_keypoints
    if keypoints_yx.shape != (n, 2) or scores.shape != (n,):
        raise ValueError(f"expected keypoints [{n}, 2] and scores [{n}], got {keypoints_yx.shape} and {scores.shape}")
    canvas = np.ascontiguousarray(image).copy()
    width = line_width(image.shape)
    visible = (scores >= threshold) & np.isfinite(keypoints_yx).all(axis=-1)
    # cv2 takes integer (x, y) points.
    points = [tuple(int(round(v)) for v in yx[::-1]) for yx in np.nan_to_num(keypoints_yx)]
    for a, b in schema.skeleton_indices:
        if visible[a] and visible[b]:
            cv2.line(canvas, points[a], points[b], _color(schema, a, b), width, cv2.LINE_AA)
    for i in np.flatnonzero(visible):
        cv2.circle(canvas, points[i], width + 1, _color(schema, i), -1, cv2.LINE_AA)
    return canvas


def draw_unsure_joints(image, keypoints_yx, scores, threshold, color=UNSURE_COLOR):
    """A copy of ``image`` with rings (not the filled dots of ``draw_skeleton``) at the joints scoring below
    ``threshold``: where the model put a joint it was not sure of, for a reviewer to confirm or move."""
    canvas = np.ascontiguousarray(image).copy()
    width = line_width(image.shape)
    keypoints_yx = np.asarray(keypoints_yx, np.float64)
    for yx, score in zip(keypoints_yx, np.asarray(scores)):
        if score < threshold and np.isfinite(yx).all():
            cv2.circle(canvas, (int(round(yx[1])), int(round(yx[0]))), width + 2, color, max(1, width // 2),
                       cv2.LINE_AA)
    return canvas


def draw_box(image, box_yxyx, color=BOX_COLOR):
    """A copy of ``image`` with the rectangle ``(ymin, xmin, ymax, xmax)`` (pixels) drawn, e.g. a crop region."""
    canvas = np.ascontiguousarray(image).copy()
    ymin, xmin, ymax, xmax = (int(round(v)) for v in box_yxyx)
    cv2.rectangle(canvas, (xmin, ymin), (xmax, ymax), color, max(1, line_width(image.shape) // 2), cv2.LINE_AA)
    return canvas


def track_color(track_id):
    """An RGB colour for a track id, the same on every frame and distinct for neighbouring ids (golden-ratio
    hue steps)."""
    hue = int((track_id * 0.618033988749895 % 1.0) * 180)  # OpenCV hue range
    hsv = np.array([[[hue, 200, 255]]], np.uint8)
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def draw_label(image, text, top_left_yx, color):
    """A copy of ``image`` with ``text`` on a filled ``color`` tag whose top-left corner is ``(y, x)``."""
    canvas = np.ascontiguousarray(image).copy()
    scale = max(0.4, min(image.shape[:2]) / 600)
    thickness = max(1, int(round(scale * 1.5)))
    (w, h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    y = int(np.clip(round(top_left_yx[0]), 0, max(0, image.shape[0] - h - baseline)))
    x = int(np.clip(round(top_left_yx[1]), 0, max(0, image.shape[1] - w)))
    cv2.rectangle(canvas, (x, y), (x + w, y + h + baseline), color, -1)
    cv2.putText(canvas, text, (x, y + h), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    return canvas

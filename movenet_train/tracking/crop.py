"""Where to look in the next frame: MoveNet's crop region, from the keypoints found in this one.

A single-pose model sees 192 or 256 pixels. Run on a whole HD frame, a person a few hundred pixels tall
shrinks to a few dozen; run on a square around them, they fill the input. TF.js pose-detection
(``movenet/crop_utils.ts``) centres that square on the hips and sizes it from the spread of the torso and of
the confident keypoints; when the torso is not visible it falls back to the whole frame padded to a square.

Regions are ``(ymin, xmin, ymax, xmax)`` normalised to the frame, as ``tf.image.crop_and_resize`` takes
them; a square in pixels is a rectangle in these units when the frame is not square, and may reach outside
``[0, 1]`` (the outside is read as zeros).
"""

import dataclasses

import numpy as np
import tensorflow as tf

from movenet_train.modeling.outputs import KEYPOINT_SCORE_THRESHOLD


@dataclasses.dataclass(frozen=True)
class CropRegion:
    ymin: float
    xmin: float
    ymax: float
    xmax: float

    @property
    def box(self):
        return [self.ymin, self.xmin, self.ymax, self.xmax]

    def to_pixels(self, image_height, image_width):
        """``(ymin, xmin, ymax, xmax)`` in pixels of the frame."""
        return np.array(self.box) * [image_height, image_width, image_height, image_width]

    def to_image(self, yx):
        """Normalised (y, x) over the crop -> normalised over the frame. ``yx``: ``[..., 2]``."""
        yx = np.asarray(yx, np.float64)
        return np.stack([self.ymin + yx[..., 0] * (self.ymax - self.ymin),
                         self.xmin + yx[..., 1] * (self.xmax - self.xmin)], axis=-1)


def full_image_region(image_height, image_width):
    """The whole frame padded on both sides of its short axis to a centred square.

    TF.js starts its very first frame on a centre square cut from the frame instead (a guess that often
    saves one frame); the padded frame never cuts off a person, so it is the one start used here.
    """
    side = max(image_height, image_width)
    ymin = (image_height - side) / 2.0 / image_height
    xmin = (image_width - side) / 2.0 / image_width
    return CropRegion(ymin, xmin, ymin + side / image_height, xmin + side / image_width)


@dataclasses.dataclass(frozen=True)
class TorsoLayout:
    """Where a schema's torso is: the crop centre's joints, groups that each need a confident joint, the torso."""

    centre: tuple
    required: tuple
    torso: tuple

    @classmethod
    def of(cls, schema):
        """TF.js' rule generalised by ``schema.torso_axis`` (COCO: centred on the hip midpoint, a hip and a
        shoulder seen); a schema without that axis: its ``torso`` joints (all joints if it names none), their
        mean, one of them seen."""
        axis = schema.torso_axis
        if axis is not None:
            upper, lower = axis
            return cls(lower, (lower, upper), schema.torso_indices)
        torso = schema.torso_indices or tuple(range(schema.num_keypoints))
        return cls(torso, (torso,), torso)


def torso_visible(scores, min_keypoint_score=KEYPOINT_SCORE_THRESHOLD, *, layout):
    """Every group of ``layout.required`` has a joint scoring above ``min_keypoint_score`` (COCO: a hip and a
    shoulder, either side)."""
    scores = np.asarray(scores)
    return bool(all(max(scores[i] for i in group) > min_keypoint_score for group in layout.required))


def next_crop_region(keypoints_yx, scores, image_height, image_width, min_keypoint_score=KEYPOINT_SCORE_THRESHOLD,
                     torso_expansion=1.9, body_expansion=1.2, *, layout):
    """The square to crop from the next frame, given ``keypoints_yx`` ``[N, 2]`` in pixels of this one.

    ``layout``: ``TorsoLayout.of(schema)`` of the model's keypoint schema.
    """
    keypoints_yx, scores = np.asarray(keypoints_yx, np.float64), np.asarray(scores)
    if not torso_visible(scores, min_keypoint_score, layout=layout):
        return full_image_region(image_height, image_width)

    center = keypoints_yx[list(layout.centre)].mean(axis=0)  # COCO: the hip midpoint
    # The torso sets a minimum size even when its keypoints are unsure (TF.js ignores their scores here);
    # the confident limbs widen it so that stretched arms and legs stay in the crop.
    torso_range = np.abs(keypoints_yx[list(layout.torso)] - center).max(axis=0)
    confident = scores >= min_keypoint_score
    body_range = np.abs(keypoints_yx[confident] - center).max(axis=0) if confident.any() else np.zeros(2)
    half = max(torso_expansion * torso_range.max(), body_expansion * body_range.max())

    cy, cx = center
    # Beyond the farthest edge the square would only add padding.
    half = min(half, max(cy, image_height - cy, cx, image_width - cx))
    if half > max(image_height, image_width) / 2.0:
        return full_image_region(image_height, image_width)
    return CropRegion((cy - half) / image_height, (cx - half) / image_width,
                      (cy + half) / image_height, (cx + half) / image_width)


def crop_and_resize(frame, region, size):
    """uint8 ``[size, size, 3]``: ``region`` of ``frame`` resized bilinearly, zeros outside the frame."""
    crop = tf.image.crop_and_resize(
        tf.cast(frame[None], tf.float32), [region.box], [0], [size, size], method="bilinear", extrapolation_value=0
    )
    # Truncation to integers, as the released TF.js runtime casts its crop to int32.
    return tf.cast(crop[0], tf.uint8).numpy()

"""AP by body orientation: the ground-truth torso angle puts each person in a slice (upright, horizontal,
inverted), and pycocotools scores the same results once per slice.

Torso angle: the angle between the vector from the hip midpoint to the shoulder midpoint (the body's "up") and
the image's up direction, 0-180 degrees. The joints are the schema's ``torso``, upper half then lower half
(``KeypointSchema.torso_axis``; COCO: shoulders, hips). A midpoint is that of the labelled points of its half
(one shoulder is enough); a person without a labelled upper or lower joint has no angle (slice ``unknown``). A
schema without such a torso has no slices (``torso_axis`` is None): ``evaluate`` notes why instead.

- ``upright``: angle < 45 (standing, sitting, walking; the released models' training distribution),
- ``horizontal``: 45 <= angle <= 135 (lying, fallen, planks, side-lying, a photo turned by 90 degrees),
- ``inverted``: angle > 135 (handstands, hanging, a photo upside down).

A slice is scored on the images with at least one person in it; the people of those images that belong to other
slices are marked crowd (``iscrowd=1``) in the ground truth given to COCOeval, so a detection of them is neither a
true nor a false positive (COCOeval's own rule for regions it must not score). Under the single_person protocol
every image has one person, so a slice is simply a subset of the images.
"""

import math

import numpy as np

from movenet_train.errors import UserError
from movenet_train.evaluation import coco_metrics
from movenet_train.evaluation.protocols import is_person_with_keypoints

SLICES = ("upright", "horizontal", "inverted")
UPRIGHT_MAX_DEGREES = 45.0
INVERTED_MIN_DEGREES = 135.0


def no_slices_note(schema):
    """Why ``schema`` has no orientation slices, or None when it has them."""
    if schema.torso_axis is not None:
        return None
    return (f"no orientation slices: the keypoint schema {schema.name!r} ({schema.source}) has keypoints.torso "
            f"{list(schema.torso)}, which needs the upper joints then as many lower ones (COCO: left_shoulder, "
            "right_shoulder, left_hip, right_hip)")


def torso_angle(annotation, schema):
    """Degrees (0-180) between the lower-to-upper torso vector (COCO: hips to shoulders) and the image's up
    direction; None without a labelled joint in each half, or when ``schema`` has no torso axis."""
    axis = schema.torso_axis
    points = np.asarray(annotation.get("keypoints") or [], np.float64).reshape(-1, 3)
    if axis is None or not len(points):
        return None
    if len(points) != schema.num_keypoints:
        raise UserError(f"annotation {annotation.get('id')!r} has {len(points)} keypoints but the keypoint schema "
                        f"{schema.name!r} ({schema.source}) has {schema.num_keypoints}")
    upper, lower = (points[list(half)] for half in axis)
    upper, lower = upper[upper[:, 2] > 0, :2], lower[lower[:, 2] > 0, :2]
    if not len(upper) or not len(lower):
        return None
    dx, dy = upper.mean(axis=0) - lower.mean(axis=0)
    if dx == 0 and dy == 0:
        return None
    return math.degrees(math.atan2(abs(dx), -dy))  # image y grows downwards: up is -y


def orientation(annotation, schema):
    """``upright``, ``horizontal``, ``inverted`` or ``unknown`` (see the module docstring for the thresholds)."""
    angle = torso_angle(annotation, schema)
    if angle is None:
        return "unknown"
    if angle < UPRIGHT_MAX_DEGREES:
        return "upright"
    if angle <= INVERTED_MIN_DEGREES:
        return "horizontal"
    return "inverted"


def slice_ground_truth(ground_truth, image_ids, name, schema):
    """(ground truth with the other slices' people marked crowd, the ids of ``image_ids`` with a person in ``name``)."""
    image_ids = set(image_ids)
    annotations, members = [], set()
    for ann in ground_truth["annotations"]:
        if ann["image_id"] in image_ids and is_person_with_keypoints(ann):
            if orientation(ann, schema) == name:
                members.add(ann["image_id"])
            else:
                ann = {**ann, "iscrowd": 1}
        annotations.append(ann)
    return {**ground_truth, "annotations": annotations}, sorted(members)


def orientation_ap(ground_truth, results, image_ids, schema, names=SLICES):
    """{slice: {"AP", "AP50", ..., "num_images", "num_people"}} over the images ``image_ids``, people in
    ``schema``'s joints; slices without a person are left out (all of them when ``no_slices_note(schema)``)."""
    out = {}
    for name in names:
        sliced, members = slice_ground_truth(ground_truth, image_ids, name, schema)
        if not members:
            continue
        member_set = set(members)
        in_slice = [r for r in results if r["image_id"] in member_set]
        stats = coco_metrics.keypoint_ap(sliced, in_slice, members, schema).stats
        people = sum(1 for a in sliced["annotations"]
                     if a["image_id"] in member_set and is_person_with_keypoints(a))
        out[name] = {**stats, "num_images": len(members), "num_people": people}
    return out

"""AP by body orientation: the ground-truth torso angle puts each person in a slice (upright, horizontal,
inverted), and pycocotools scores the same results once per slice.

Torso angle: the angle between the vector from the hip midpoint to the shoulder midpoint (the body's "up") and
the image's up direction, 0-180 degrees. A midpoint is that of the labelled points of the pair (one shoulder is
enough); a person without a labelled shoulder or hip has no angle (slice ``unknown``).

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

from movenet_train.evaluation import coco_metrics
from movenet_train.evaluation.protocols import is_person_with_keypoints
from movenet_train.keypoints import KEYPOINT_NAMES

SLICES = ("upright", "horizontal", "inverted")
UPRIGHT_MAX_DEGREES = 45.0
INVERTED_MIN_DEGREES = 135.0
_SHOULDERS = [KEYPOINT_NAMES.index(n) for n in ("left_shoulder", "right_shoulder")]
_HIPS = [KEYPOINT_NAMES.index(n) for n in ("left_hip", "right_hip")]


def torso_angle(annotation):
    """Degrees (0-180) between the hip-to-shoulder vector and the image's up direction; None without a torso."""
    points = np.asarray(annotation.get("keypoints", []), np.float64).reshape(-1, 3)
    if len(points) != len(KEYPOINT_NAMES):
        return None
    shoulders = points[_SHOULDERS][points[_SHOULDERS, 2] > 0, :2]
    hips = points[_HIPS][points[_HIPS, 2] > 0, :2]
    if not len(shoulders) or not len(hips):
        return None
    dx, dy = shoulders.mean(axis=0) - hips.mean(axis=0)
    if dx == 0 and dy == 0:
        return None
    return math.degrees(math.atan2(abs(dx), -dy))  # image y grows downwards: up is -y


def orientation(annotation):
    """``upright``, ``horizontal``, ``inverted`` or ``unknown`` (see the module docstring for the thresholds)."""
    angle = torso_angle(annotation)
    if angle is None:
        return "unknown"
    if angle < UPRIGHT_MAX_DEGREES:
        return "upright"
    if angle <= INVERTED_MIN_DEGREES:
        return "horizontal"
    return "inverted"


def slice_ground_truth(ground_truth, image_ids, name):
    """(ground truth with the other slices' people marked crowd, the ids of ``image_ids`` with a person in ``name``)."""
    image_ids = set(image_ids)
    annotations, members = [], set()
    for ann in ground_truth["annotations"]:
        if ann["image_id"] in image_ids and is_person_with_keypoints(ann):
            if orientation(ann) == name:
                members.add(ann["image_id"])
            else:
                ann = {**ann, "iscrowd": 1}
        annotations.append(ann)
    return {**ground_truth, "annotations": annotations}, sorted(members)


def orientation_ap(ground_truth, results, image_ids, names=SLICES):
    """{slice: {"AP", "AP50", ..., "num_images", "num_people"}} over the images ``image_ids``; slices without a
    person are left out."""
    out = {}
    for name in names:
        sliced, members = slice_ground_truth(ground_truth, image_ids, name)
        if not members:
            continue
        member_set = set(members)
        in_slice = [r for r in results if r["image_id"] in member_set]
        stats = coco_metrics.keypoint_ap(sliced, in_slice, members).stats
        people = sum(1 for a in sliced["annotations"]
                     if a["image_id"] in member_set and is_person_with_keypoints(a))
        out[name] = {**stats, "num_images": len(members), "num_people": people}
    return out

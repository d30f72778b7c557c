"""The every_person protocol on hand-made images: a stand-in predictor reads each person's joints from marker
pixels drawn into the image, so it returns the ground truth without seeing the annotation file."""

import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from movenet_train.evaluation.evaluator import run_evaluation
from movenet_train.keypoints import DEFAULT_SCHEMA
from movenet_train.runtime import Predictor

BOX = 80  # square boxes: the 1.25 crop is a 100-pixel square, the stand-in model's input size, so no resampling
INPUT = 100
MARKER_GREEN = 201  # a marker pixel: green 201, red 10 + joint index


class MarkerPredictor(Predictor):
    """Single-pose stand-in: each joint at the centre of the marker pixels of its colour, score 0.9."""

    schema = DEFAULT_SCHEMA
    multi_pose = False
    input_size = INPUT
    kind = "markers"

    def __call__(self, images):
        out = np.zeros((len(images), 1, DEFAULT_SCHEMA.num_keypoints, 3), np.float32)
        for b, image in enumerate(np.asarray(images)):
            for j in range(DEFAULT_SCHEMA.num_keypoints):
                rows, cols = np.nonzero((image[..., 0] == 10 + j) & (image[..., 1] == MARKER_GREEN))
                if len(rows):
                    out[b, 0, j] = ((rows.mean() + 0.5) / INPUT, (cols.mean() + 0.5) / INPUT, 0.9)
        return out


def person(ann_id, image_id, left, top, joints_xy):
    keypoints = []
    for x, y in joints_xy:
        keypoints += [float(x), float(y), 2]
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0, "area": float(BOX * BOX),
            "bbox": [left, top, BOX, BOX], "num_keypoints": len(joints_xy), "keypoints": keypoints}


def joints_in_box(left, top, rng):
    """17 distinct pixel centres inside the box (x + 0.5, y + 0.5)."""
    cells = rng.choice(BOX * BOX, DEFAULT_SCHEMA.num_keypoints, replace=False)
    return [(left + c % BOX + 0.5, top + c // BOX + 0.5) for c in cells]


def draw(pixels, joints_xy):
    for j, (x, y) in enumerate(joints_xy):
        pixels[int(y), int(x)] = (10 + j, MARKER_GREEN, 0)


# With make_set(in_crowd=True): a crowd region in image 1 and a person standing in it (annotation id, image, box
# corner). Image 1's poses come first in COCOeval's order of equal scores, so a false positive there costs AP.
CROWD_REGION = {"id": 25, "image_id": 1, "category_id": 1, "iscrowd": 1, "area": 12000.0, "bbox": [300, 180, 120, 100],
                "num_keypoints": 0, "keypoints": [0] * 51, "segmentation": [[300, 180, 420, 180, 420, 280, 300, 280]]}
CROWD_PERSON = (24, 1, (320, 190))


def make_set(tmp_path, shift=None, in_crowd=False):
    """Two images: three people apart; one person beside a crowd region and a keypoint-less person; with
    ``in_crowd``, also a crowd region in image 1 and a person standing in it (``CROWD_PERSON``).

    ``shift``: (annotation id, dx), or {annotation id: dx}, moves those people's marker pixels, not their
    annotations.
    """
    rng = np.random.default_rng(3)
    images = [{"id": 1, "file_name": "a.png", "height": 300, "width": 500},
              {"id": 2, "file_name": "b.png", "height": 300, "width": 500}]
    annotations, drawn = [], {}
    people = ((11, 1, (20, 30)), (12, 1, (200, 150)), (13, 1, (380, 40)), (21, 2, (40, 60)))
    for ann_id, image_id, (left, top) in people + ((CROWD_PERSON,) if in_crowd else ()):
        joints = joints_in_box(left, top, rng)
        annotations.append(person(ann_id, image_id, left, top, joints))
        dx = (dict([shift]) if isinstance(shift, tuple) else shift or {}).get(ann_id, 0)
        drawn.setdefault(image_id, []).append([(x + dx, y) for x, y in joints])
    # Image 2 also has a crowd region and a person without keypoints: neither is cropped nor counted.
    annotations.append({"id": 22, "image_id": 2, "category_id": 1, "iscrowd": 1, "area": 6400.0,
                        "bbox": [300, 150, 120, 100], "num_keypoints": 0, "keypoints": [0] * 51,
                        "segmentation": [[300, 150, 420, 150, 420, 250, 300, 250]]})
    annotations.append({"id": 23, "image_id": 2, "category_id": 1, "iscrowd": 0, "area": 3000.0,
                        "bbox": [200, 20, 50, 60], "num_keypoints": 0, "keypoints": [0] * 51})
    if in_crowd:
        annotations.append(CROWD_REGION)
    categories = [{"id": 1, "name": "person", "supercategory": "person",
                   "keypoints": list(DEFAULT_SCHEMA.names), "skeleton": []}]
    (tmp_path / "images").mkdir(exist_ok=True)
    for image in images:
        pixels = np.zeros((image["height"], image["width"], 3), np.uint8)
        for joints in drawn[image["id"]]:
            draw(pixels, joints)
        Image.fromarray(pixels).save(tmp_path / "images" / image["file_name"])
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path, tmp_path / "images"


def evaluate_set(path, images):
    return run_evaluation(MarkerPredictor(), str(path), str(images), protocol="every_person", progress=False,
                          orientation_slices=False)


def test_the_ground_truth_scores_ap_one_and_every_person_is_counted(tmp_path):
    evaluation = evaluate_set(*make_set(tmp_path))
    metrics = evaluation.metrics
    assert metrics["AP"] == pytest.approx(1.0)
    # Four people with keypoints in two images; the crowd region and the keypoint-less person get no crop.
    assert (metrics["num_images"], metrics["num_people"], metrics["num_detections"]) == (2, 4, 4)
    assert metrics["protocol"] == "every_person" and metrics["crop"] == "person"
    assert all(evaluation.ap.person_oks[i] > 0.99 for i in (11, 12, 13, 21))


def test_moving_one_person_lowers_only_that_persons_oks(tmp_path):
    (tmp_path / "base").mkdir()
    base = evaluate_set(*make_set(tmp_path / "base"))
    moved = evaluate_set(*make_set(tmp_path, shift=(12, 6)))
    assert moved.ap.person_oks[12] < base.ap.person_oks[12] - 0.1
    for other in (11, 13, 21):
        assert moved.ap.person_oks[other] == pytest.approx(base.ap.person_oks[other], abs=1e-12)
    assert moved.metrics["AP"] < 1.0


def cocoeval_stats(path, poses, drop=()):
    """pycocotools run directly: COCOeval's stats of ``poses`` against the annotation file ``path`` (without the
    annotations ``drop``)."""
    data = json.loads(path.read_text())
    data["annotations"] = [ann for ann in data["annotations"] if ann["id"] not in drop]
    gt = COCO()
    gt.dataset = data
    gt.createIndex()
    reference = COCOeval(gt, gt.loadRes(poses), iouType="keypoints")
    reference.evaluate()
    reference.accumulate()
    reference.summarize()
    return reference.stats


def test_crowd_and_keypoint_less_people_score_as_cocoeval_says(tmp_path):
    """The protocol's AP equals pycocotools run directly on the poses the markers define. One person is moved
    (4 px) and one, standing in the crowd region, is drawn 8 px off its annotation: too far for its own match at
    the stricter OKS thresholds, where COCOeval matches the pose to the crowd region instead and ignores it (a
    false positive if the crowd region were not in the ground truth scored)."""
    moved = {21: 4, CROWD_PERSON[0]: 8}
    path, images = make_set(tmp_path, shift=moved, in_crowd=True)
    evaluation = evaluate_set(path, images)
    data = json.loads(path.read_text())
    expected_poses = []
    for ann in data["annotations"]:
        if ann["num_keypoints"]:
            points = np.asarray(ann["keypoints"], float).reshape(-1, 3)
            points[:, 0] += moved.get(ann["id"], 0)
            points[:, 2] = 0.9
            expected_poses.append({"image_id": ann["image_id"], "category_id": 1, "score": 0.9,
                                   "keypoints": points.reshape(-1).tolist()})
    assert evaluation.metrics["num_people"] == 5 and evaluation.metrics["num_detections"] == 5
    reference = cocoeval_stats(path, expected_poses)
    assert evaluation.metrics["AP"] == pytest.approx(reference[0], abs=1e-3)
    assert evaluation.metrics["AR"] == pytest.approx(reference[5], abs=1e-3)
    # The crowd region decides: without it the misplaced pose counts against the AP.
    without_crowd = cocoeval_stats(path, expected_poses, drop=(CROWD_REGION["id"],))
    assert without_crowd[0] < reference[0] - 0.01

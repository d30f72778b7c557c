"""AP by body orientation: torso angles by hand, slices scored by pycocotools on the right people."""

import numpy as np
import pytest

from movenet_train.evaluation import coco_metrics, slices
from movenet_train.keypoints import KEYPOINT_NAMES

SHOULDERS = (KEYPOINT_NAMES.index("left_shoulder"), KEYPOINT_NAMES.index("right_shoulder"))
HIPS = (KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip"))


def _person(image_id, ann_id, shoulder_mid, hip_mid, offset=(0.0, 0.0)):
    """A person whose shoulders sit 10 px either side of ``shoulder_mid`` (x, y), hips around ``hip_mid``,
    and a few more keypoints along the torso so OKS has something to score."""
    points = np.zeros((17, 3))
    ox, oy = offset
    for (left, right), (x, y) in ((SHOULDERS, shoulder_mid), (HIPS, hip_mid)):
        points[left] = (x + ox - 10, y + oy, 2)
        points[right] = (x + ox + 10, y + oy, 2)
    points[0] = (shoulder_mid[0] + ox + 2 * (shoulder_mid[0] - hip_mid[0]) / 3,
                 shoulder_mid[1] + oy + 2 * (shoulder_mid[1] - hip_mid[1]) / 3, 2)  # nose beyond the shoulders
    xs, ys = points[points[:, 2] > 0, 0], points[points[:, 2] > 0, 1]
    box = [xs.min() - 5, ys.min() - 5, xs.max() - xs.min() + 10, ys.max() - ys.min() + 10]
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0, "area": box[2] * box[3],
            "bbox": box, "num_keypoints": 5, "keypoints": points.reshape(-1).tolist()}


def test_torso_angle_by_hand():
    assert slices.torso_angle(_person(1, 1, (50, 20), (50, 80))) == pytest.approx(0.0)  # standing
    assert slices.torso_angle(_person(1, 1, (20, 50), (80, 50))) == pytest.approx(90.0)  # lying, head left
    assert slices.torso_angle(_person(1, 1, (80, 50), (20, 50))) == pytest.approx(90.0)  # lying, head right
    assert slices.torso_angle(_person(1, 1, (50, 80), (50, 20))) == pytest.approx(180.0)  # handstand
    assert slices.torso_angle(_person(1, 1, (60, 20), (50, 30))) == pytest.approx(45.0)  # leaning, dx = -dy
    # One shoulder is enough; no hip means no angle.
    person = _person(1, 1, (50, 20), (50, 80))
    person["keypoints"][3 * SHOULDERS[0] + 2] = 0
    assert slices.torso_angle(person) == pytest.approx(math_degrees(10, 60))
    for hip in HIPS:
        person["keypoints"][3 * hip + 2] = 0
    assert slices.torso_angle(person) is None and slices.orientation(person) == "unknown"


def math_degrees(dx, dy):
    return float(np.degrees(np.arctan2(dx, dy)))


def test_thresholds():
    lean = lambda dx: _person(1, 1, (50 + dx, 20), (50, 80))  # noqa: E731 - dy is 60
    assert slices.orientation(lean(59)) == "upright"  # 44.5 degrees
    assert slices.orientation(lean(61)) == "horizontal"  # 45.5
    assert slices.orientation(_person(1, 1, (110, 79), (50, 20))) == "horizontal"  # 134.6
    assert slices.orientation(_person(1, 1, (110, 81), (50, 20))) == "inverted"  # 135.5


def _dataset(annotations, image_ids):
    return {"images": [{"id": i, "width": 400, "height": 400, "file_name": f"{i}.jpg"} for i in image_ids],
            "annotations": annotations,
            "categories": [{"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES), "skeleton": []}]}


def _result(ann, shift=0.0, score=1.0):
    points = np.asarray(ann["keypoints"], float).reshape(-1, 3).copy()
    points[:, 0] += shift
    return {"image_id": ann["image_id"], "category_id": 1, "keypoints": points.reshape(-1).tolist(), "score": score}


def test_single_person_slices_equal_pycocotools_on_the_image_subsets():
    people = [_person(1, 1, (100, 50), (100, 150)), _person(2, 2, (100, 50), (100, 150)),
              _person(3, 3, (50, 100), (150, 100)), _person(4, 4, (100, 150), (100, 50))]
    gt = _dataset(people, [1, 2, 3, 4])
    results = [_result(people[0]), _result(people[1], shift=8.0), _result(people[2], shift=3.0),
               _result(people[3], shift=30.0)]
    out = slices.orientation_ap(gt, results, [1, 2, 3, 4])
    assert {k: v["num_images"] for k, v in out.items()} == {"upright": 2, "horizontal": 1, "inverted": 1}
    for name, ids in (("upright", [1, 2]), ("horizontal", [3]), ("inverted", [4])):
        subset = _dataset([p for p in people if p["image_id"] in ids], ids)
        expected = coco_metrics.keypoint_ap(subset, [r for r in results if r["image_id"] in ids], ids).stats["AP"]
        assert out[name]["AP"] == pytest.approx(expected)
    assert out["upright"]["AP"] > out["inverted"]["AP"]  # the shifted skeleton scores lower


def test_people_of_other_slices_are_neither_hits_nor_false_positives():
    upright = _person(1, 1, (100, 50), (100, 150))
    lying = _person(1, 2, (200, 300), (320, 300))
    gt = _dataset([upright, lying], [1])
    # Perfect detections of both people, the lying one scored higher: were it a false positive of the upright
    # slice, that slice's precision at full recall would be 1/2.
    results = [_result(upright, score=0.5), _result(lying, score=0.9)]
    out = slices.orientation_ap(gt, results, [1])
    assert out["upright"]["AP"] == pytest.approx(1.0)
    assert out["horizontal"]["AP"] == pytest.approx(1.0)
    assert out["upright"]["num_people"] == 1 and out["horizontal"]["num_people"] == 1
    # The input ground truth is left as it was.
    assert gt["annotations"][1]["iscrowd"] == 0

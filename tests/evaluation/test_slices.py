"""AP by body orientation: torso angles by hand, slices scored by pycocotools on the right people, in any
keypoint schema whose torso says where up is."""

import json

import numpy as np
import pytest
from omegaconf import OmegaConf

from movenet_train.config import default_config
from movenet_train.errors import UserError
from movenet_train.evaluation import coco_metrics, evaluate, slices
from movenet_train.evaluation.protocols import is_person_with_keypoints
from movenet_train.keypoints import COCO_17, KeypointSchema
from movenet_train.preprocessing import letterbox_window
from tests.helpers import REPO, ReplayPredictor

SHOULDERS = (COCO_17.index["left_shoulder"], COCO_17.index["right_shoulder"])
HIPS = (COCO_17.index["left_hip"], COCO_17.index["right_hip"])
INPUT_SIZE = 192


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
    assert slices.torso_angle(_person(1, 1, (50, 20), (50, 80)), COCO_17) == pytest.approx(0.0)  # standing
    assert slices.torso_angle(_person(1, 1, (20, 50), (80, 50)), COCO_17) == pytest.approx(90.0)  # lying, head left
    assert slices.torso_angle(_person(1, 1, (80, 50), (20, 50)), COCO_17) == pytest.approx(90.0)  # lying, head right
    assert slices.torso_angle(_person(1, 1, (50, 80), (50, 20)), COCO_17) == pytest.approx(180.0)  # handstand
    assert slices.torso_angle(_person(1, 1, (60, 20), (50, 30)), COCO_17) == pytest.approx(45.0)  # leaning, dx = -dy
    # One shoulder is enough; no hip means no angle.
    person = _person(1, 1, (50, 20), (50, 80))
    person["keypoints"][3 * SHOULDERS[0] + 2] = 0
    assert slices.torso_angle(person, COCO_17) == pytest.approx(math_degrees(10, 60))
    for hip in HIPS:
        person["keypoints"][3 * hip + 2] = 0
    assert slices.torso_angle(person, COCO_17) is None and slices.orientation(person, COCO_17) == "unknown"


def math_degrees(dx, dy):
    return float(np.degrees(np.arctan2(dx, dy)))


def test_thresholds():
    lean = lambda dx: _person(1, 1, (50 + dx, 20), (50, 80))  # noqa: E731 - dy is 60
    assert slices.orientation(lean(59), COCO_17) == "upright"  # 44.5 degrees
    assert slices.orientation(lean(61), COCO_17) == "horizontal"  # 45.5
    assert slices.orientation(_person(1, 1, (110, 79), (50, 20)), COCO_17) == "horizontal"  # 134.6
    assert slices.orientation(_person(1, 1, (110, 81), (50, 20)), COCO_17) == "inverted"  # 135.5


def _dataset(annotations, image_ids):
    return {"images": [{"id": i, "width": 400, "height": 400, "file_name": f"{i}.jpg"} for i in image_ids],
            "annotations": annotations,
            "categories": [{"id": 1, "name": "person", "keypoints": list(COCO_17.names), "skeleton": []}]}


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
    out = slices.orientation_ap(gt, results, [1, 2, 3, 4], COCO_17)
    assert {k: v["num_images"] for k, v in out.items()} == {"upright": 2, "horizontal": 1, "inverted": 1}
    for name, ids in (("upright", [1, 2]), ("horizontal", [3]), ("inverted", [4])):
        subset = _dataset([p for p in people if p["image_id"] in ids], ids)
        expected = coco_metrics.keypoint_ap(subset, [r for r in results if r["image_id"] in ids], ids,
                                            COCO_17).stats["AP"]
        assert out[name]["AP"] == pytest.approx(expected)
    assert out["upright"]["AP"] > out["inverted"]["AP"]  # the shifted skeleton scores lower


def test_people_of_other_slices_are_neither_hits_nor_false_positives():
    upright = _person(1, 1, (100, 50), (100, 150))
    lying = _person(1, 2, (200, 300), (320, 300))
    gt = _dataset([upright, lying], [1])
    # Perfect detections of both people, the lying one scored higher: were it a false positive of the upright
    # slice, that slice's precision at full recall would be 1/2.
    results = [_result(upright, score=0.5), _result(lying, score=0.9)]
    out = slices.orientation_ap(gt, results, [1], COCO_17)
    assert out["upright"]["AP"] == pytest.approx(1.0)
    assert out["horizontal"]["AP"] == pytest.approx(1.0)
    assert out["upright"]["num_people"] == 1 and out["horizontal"]["num_people"] == 1
    # The input ground truth is left as it was.
    assert gt["annotations"][1]["iscrowd"] == 0


# --- schemas other than COCO-17 ------------------------------------------------------------------------------

def load(name):
    return KeypointSchema.from_config(OmegaConf.load(REPO / "configs" / "keypoints" / f"{name}.yaml"))


def _annotation(schema, points):
    """A person of ``schema`` with ``points`` ({name: (x, y)}) labelled, every other joint unlabelled."""
    keypoints = np.zeros((schema.num_keypoints, 3))
    for name, (x, y) in points.items():
        keypoints[schema.index[name]] = (x, y, 2)
    return {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 1000.0, "bbox": [0, 0, 100, 100],
            "num_keypoints": len(points), "keypoints": keypoints.reshape(-1).tolist()}


def test_torso_angle_by_hand_in_other_schemas():
    body13 = load("body13")  # shoulders at indices 1, 2 and hips at 7, 8, not COCO's 5, 6 and 11, 12
    # Shoulder midpoint (100, 60), hip midpoint (40, 60): up is +x, a quarter turn from the image's up.
    lying = _annotation(body13, {"left_shoulder": (100, 50), "right_shoulder": (100, 70),
                                 "left_hip": (40, 50), "right_hip": (40, 70)})
    assert slices.torso_angle(lying, body13) == pytest.approx(90.0)
    assert slices.orientation(lying, body13) == "horizontal"
    # One hip at (50, 80), shoulders' midpoint (70, 20): dx 20, dy -60 -> atan(20 / 60).
    leaning = _annotation(body13, {"left_shoulder": (60, 20), "right_shoulder": (80, 20), "left_hip": (50, 80)})
    assert slices.torso_angle(leaning, body13) == pytest.approx(18.434948822922)
    # A torso of other joints entirely: neck above pelvis, upper then lower.
    spine = KeypointSchema(names=("pelvis", "tail", "neck"), torso=("neck", "pelvis"), sigmas=(0.1,) * 3)
    assert slices.torso_angle(_annotation(spine, {"neck": (30, 30), "pelvis": (60, 60)}), spine) == pytest.approx(45.0)
    assert slices.torso_angle(_annotation(spine, {"neck": (60, 90), "pelvis": (60, 60)}), spine) == pytest.approx(180.0)
    assert slices.torso_angle(_annotation(spine, {"tail": (60, 90), "pelvis": (60, 60)}), spine) is None
    with pytest.raises(UserError, match="17 keypoints but the keypoint schema 'body13'"):
        slices.torso_angle(_person(1, 1, (50, 20), (50, 80)), body13)


def _single_person_set(tmp_path, schema, num_images, angles=(0,)):
    """Synthetic single-person images labelled in ``schema`` (turned by ``angles``): (annotations, images, the
    ground truth as the model outputs that would give it, in the order evaluate() runs the images)."""
    from movenet_train.data.rotate import ANNOTATIONS_FILE, IMAGES_DIR, rotate_coco
    from movenet_train.data.synthetic import GeneratorConfig, generate_synthetic

    config = default_config(GeneratorConfig, seed=7, extra_people=(0, 0))
    upright = generate_synthetic(str(tmp_path / "upright"), num_images, config, schema=schema)
    turned = rotate_coco(upright, tmp_path / "upright" / "images", tmp_path / "turned", angles=angles, schema=schema)
    with open(turned) as f:
        data = json.load(f)
    outputs = []
    for image in data["images"]:
        people = [a for a in data["annotations"] if a["image_id"] == image["id"]]
        if len(people) != 1 or not is_person_with_keypoints(people[0]):
            continue  # not scored by single_person
        points = np.asarray(people[0]["keypoints"], np.float64).reshape(-1, 3)
        top, left, scaled_h, scaled_w = letterbox_window(image["height"], image["width"], INPUT_SIZE, INPUT_SIZE)
        y = (points[:, 1] / image["height"] * scaled_h + top) / INPUT_SIZE
        x = (points[:, 0] / image["width"] * scaled_w + left) / INPUT_SIZE
        outputs.append(np.stack([y, x, np.where(points[:, 2] > 0, 0.9, 0.1)], axis=-1)[None].astype(np.float32))
    assert turned.endswith(ANNOTATIONS_FILE)
    return turned, str(tmp_path / "turned" / IMAGES_DIR), outputs


@pytest.mark.parametrize("name, num_keypoints", [("coco19_neck_pelvis", 19), ("body13", 13)])
def test_evaluate_slices_other_schemas(tmp_path, name, num_keypoints):
    """The real evaluate() path: a model that predicts the ground truth scores AP 1 in every slice, and the
    quarter turns of upright figures fill all three slices."""
    schema = load(name)
    annotations, images, outputs = _single_person_set(tmp_path, schema, 6, angles=(0, 90, 180, 270))
    predictor = ReplayPredictor(outputs, schema, input_size=INPUT_SIZE)
    metrics = evaluate(predictor, annotations, images, batch_size=8, progress=False)
    assert metrics["num_keypoints"] == num_keypoints and metrics["AP"] == pytest.approx(1.0)
    assert "slices_note" not in metrics
    found = metrics["slices"]
    assert set(found) == {"upright", "horizontal", "inverted"}
    for name_, values in found.items():
        assert values["AP"] == pytest.approx(1.0), name_
        assert values["num_people"] == values["num_images"]  # one person per image
    # Every image has its torso labelled, so it is in one slice; a half turn swaps upright and inverted, and
    # the 90 and 270 degree copies are half turns of each other: as many upright as inverted images.
    assert sum(v["num_images"] for v in found.values()) == metrics["num_images"] == 24
    assert found["upright"]["num_images"] == found["inverted"]["num_images"]
    assert found["horizontal"]["num_images"] >= 6  # at least the quarter turns of the upright figures


def test_schema_without_torso_says_why_it_has_no_slices(tmp_path):
    schema = KeypointSchema.from_dict({**load("body13").to_dict(), "name": "body13_no_torso", "torso": []})
    annotations, images, outputs = _single_person_set(tmp_path, schema, 2)
    predictor = ReplayPredictor(outputs, schema, input_size=INPUT_SIZE)
    with pytest.warns(UserWarning, match="body13_no_torso.*keypoints.torso") as caught:
        metrics = evaluate(predictor, annotations, images, progress=False)
    assert metrics["slices"] == {} and metrics["AP"] == pytest.approx(1.0)
    assert metrics["slices_note"] == str(caught[0].message)
    assert "keypoints.torso" in metrics["slices_note"] and "'body13_no_torso'" in metrics["slices_note"]
    # Without slices asked for, nothing is said.
    quiet = evaluate(ReplayPredictor(outputs, schema, input_size=INPUT_SIZE), annotations, images, progress=False,
                     orientation_slices=False)
    assert "slices" not in quiet and "slices_note" not in quiet

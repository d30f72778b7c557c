"""Protocol pieces against hand-computed cases and pycocotools, with stand-in predictors (no model)."""

import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from movenet_train.errors import UserError
from movenet_train.evaluation import coco_metrics, crops, evaluate, protocols
from movenet_train.keypoints import COCO_17, KeypointSchema
from movenet_train.modeling import MoveNetSpec
from movenet_train.modeling.outputs import pose_score, unpack
from tests.helpers import COCO_SAMPLE, ReplayPredictor

ANNOTATIONS = COCO_SAMPLE / "person_keypoints_sample.json"
IMAGES = COCO_SAMPLE / "images"


def test_person_square_by_hand():
    # Box x=10, y=20, w=30, h=40: centre (y 40, x 25), side 1.25 * 40 = 50.
    assert crops.person_square([10, 20, 30, 40], 1.25, 480, 640) == (15, 0, 50)
    assert crops.person_square([0, 0, 3, 1], 2.0, 10, 10) == (-2, -1, 6)


def test_crop_square_pads_with_zeros():
    image = np.arange(1, 17, dtype=np.uint8).reshape(4, 4, 1)
    got = crops.crop_square(image, -1, 2, 3)[..., 0]
    np.testing.assert_array_equal(got, [[0, 0, 0], [3, 4, 0], [7, 8, 0]])
    np.testing.assert_array_equal(crops.crop_square(image, 10, 10, 2), 0)  # entirely outside


@pytest.mark.parametrize("height,width,expected", [
    (480, 640, (192, 256)), (427, 640, (192, 256)), (640, 427, (256, 192)), (100, 1000, (32, 256)),
    (512, 512, (256, 256)), (300, 200, (256, 192))])
def test_multi_person_input_shape_by_hand(height, width, expected):
    assert protocols.MultiPerson(num_keypoints=17).input_shape(height, width) == expected


def test_pose_score_is_mean_above_threshold():
    assert pose_score(np.array([0.1, 0.3, 0.5, 0.2])) == pytest.approx(0.4)
    assert pose_score(np.array([0.1, 0.2])) == 0.0


def test_unpack_reads_both_layouts_by_hand():
    single = np.array([[[0.1, 0.2, 0.9], [0.3, 0.4, 0.1]]])  # [1, N=2, 3]
    people = unpack(single, 2, multi_pose=False)
    assert people.keypoints.shape == (1, 2, 3) and people.boxes is None
    assert people.scores[0] == pytest.approx(0.9)
    multi = np.zeros([6, 3 * 2 + 5])
    multi[0, :6] = [0.1, 0.2, 0.9, 0.3, 0.4, 0.8]
    multi[0, 6:] = [0.05, 0.1, 0.5, 0.6, 0.7]
    multi[1, -1] = 0.2
    people = unpack(multi, 2, multi_pose=True)
    np.testing.assert_allclose(people.keypoints[0], [[0.1, 0.2, 0.9], [0.3, 0.4, 0.8]])
    np.testing.assert_allclose(people.boxes[0], [0.05, 0.1, 0.5, 0.6])
    kept = people.above(0.25)
    assert len(kept) == 1 and kept.scores[0] == pytest.approx(0.7)


def test_per_joint_terms_average_to_pycocotools_oks(coco_sample):
    """The per-keypoint table's terms: their mean over labelled joints is COCOeval.computeOks."""
    rng = np.random.default_rng(0)
    gt = COCO(str(ANNOTATIONS))
    annotation = next(a for a in coco_sample["annotations"] if a["num_keypoints"] >= 10 and not a["iscrowd"])
    truth = np.array(annotation["keypoints"], np.float64).reshape(17, 3)
    guess = np.concatenate([truth[:, :2] + rng.normal(0, 8, (17, 2)), rng.uniform(0, 1, (17, 1))], axis=1)
    result = {"image_id": annotation["image_id"], "category_id": 1, "keypoints": guess.reshape(-1).tolist(),
              "score": 0.9}
    evaluator = COCOeval(gt, gt.loadRes([result]), "keypoints")
    evaluator.params.imgIds = [annotation["image_id"]]
    evaluator._prepare()
    oks = evaluator.computeOks(annotation["image_id"], 1)
    column = [a["id"] for a in evaluator._gts[annotation["image_id"], 1]].index(annotation["id"])
    terms = coco_metrics.keypoint_similarities(annotation, result["keypoints"], evaluator.params.kpt_oks_sigmas)
    assert np.isnan(terms).sum() == 17 - annotation["num_keypoints"]
    assert np.nanmean(terms) == pytest.approx(oks[0, column], rel=1e-9)


def _to_input(yx, frame_top, frame_left, region_h, region_w, size_h, size_w):
    """Pixels -> normalised model input, by hand: centred letterbox of the region (top, left, h, w)."""
    scale = min(size_h / region_h, size_w / region_w)
    pad_y, pad_x = (size_h - region_h * scale) / 2, (size_w - region_w * scale) / 2
    y = ((yx[:, 0] - frame_top) * scale + pad_y) / size_h
    x = ((yx[:, 1] - frame_left) * scale + pad_x) / size_w
    return np.stack([y, x], axis=-1)


@pytest.mark.parametrize("crop", ["none", "person"])
def test_ground_truth_fed_back_scores_ap_1(crop, coco_sample, single_person_images):
    """A predictor that returns the ground truth (in model-input coordinates) gets AP 1 from pycocotools."""
    by_name = {image["file_name"]: image for image in coco_sample["images"]}
    outputs = []
    for name in single_person_images:
        image = by_name[name]
        annotation = next(a for a in coco_sample["annotations"] if a["image_id"] == image["id"])
        kp = np.array(annotation["keypoints"], np.float64).reshape(17, 3)
        if crop == "person":
            x, y, w, h = annotation["bbox"]
            side = np.floor(1.25 * max(w, h) + 0.5)
            region = (np.floor(y + h / 2 - side / 2 + 0.5), np.floor(x + w / 2 - side / 2 + 0.5), side, side)
        else:
            region = (0, 0, image["height"], image["width"])
        yx = _to_input(kp[:, [1, 0]], *region, 192, 192)
        outputs.append(np.concatenate([yx, np.where(kp[:, 2:] > 0, 0.9, 0.1)], axis=1)[None])
    predictor = ReplayPredictor(outputs, COCO_17, input_size=192)
    metrics = evaluate(predictor, ANNOTATIONS, IMAGES, crop=crop, batch_size=5, progress=False)
    assert metrics["AP"] == pytest.approx(1.0) and metrics["AR"] == pytest.approx(1.0)
    assert (metrics["num_images"], metrics["num_people"], metrics["num_detections"]) == (16, 16, 16)
    assert set(predictor.shapes) == {(192, 192, 3)}


def test_multi_person_ground_truth_fed_back_scores_ap_1(coco_sample, tmp_path):
    """Every person of every image (at most 6, the model's limit) at the multi-person input shape."""
    people = {}
    for ann in coco_sample["annotations"]:
        if protocols.is_person_with_keypoints(ann):
            people.setdefault(ann["image_id"], []).append(ann)
    images = [image for image in coco_sample["images"] if len(people.get(image["id"], [])) <= 6]
    kept = {image["id"] for image in images}
    subset = dict(coco_sample, images=images,
                  annotations=[ann for ann in coco_sample["annotations"] if ann["image_id"] in kept])
    (tmp_path / "subset.json").write_text(json.dumps(subset))
    proto = protocols.MultiPerson(num_keypoints=17)
    outputs = []
    for image in images:
        h, w = proto.input_shape(image["height"], image["width"])
        output = np.zeros((6, 56), np.float32)
        for i, ann in enumerate(people.get(image["id"], [])):
            kp = np.array(ann["keypoints"], np.float64).reshape(17, 3)
            yx = _to_input(kp[:, [1, 0]], 0, 0, image["height"], image["width"], h, w)
            output[i, :51] = np.concatenate([yx, np.full((17, 1), 0.5)], axis=1).reshape(-1)
            output[i, 55] = 0.9
        output[5, 55] = 0.1  # below score_threshold: dropped (it would be a false positive at (0, 0))
        outputs.append(output)
    predictor = ReplayPredictor(outputs, COCO_17, multi_pose=True)
    metrics = evaluate(predictor, tmp_path / "subset.json", IMAGES, protocol="multi_person", progress=False)
    assert metrics["AP"] == pytest.approx(1.0)
    assert metrics["num_images"] == len(images)
    assert metrics["num_people"] == sum(len(people.get(image["id"], [])) for image in images)
    assert max(max(shape[:2]) for shape in predictor.shapes) == 256
    assert all(shape[0] % 32 == 0 and shape[1] % 32 == 0 for shape in predictor.shapes)


def test_protocol_and_model_must_fit():
    single, multi = ReplayPredictor([], COCO_17, input_size=192), ReplayPredictor([], COCO_17, multi_pose=True)
    with pytest.raises(UserError, match="protocol=multi_person"):
        protocols.build("single_person", multi)
    with pytest.raises(UserError, match="protocol=single_person"):
        protocols.build("multi_person", single)
    with pytest.raises(UserError, match="single_person only"):
        protocols.build("multi_person", multi, crop="person")
    with pytest.raises(UserError, match="crop='box'"):
        protocols.build("single_person", single, crop="box")
    with pytest.raises(UserError, match="expected one of single_person, every_person, multi_person"):
        protocols.build("video_frames", single)
    with pytest.raises(UserError, match="unknown key eval.long_sid"):
        protocols.build("single_person", single, long_sid=256)


def test_protocol_reads_the_joint_count_of_a_predictor_or_a_spec():
    """export picks its calibration images with the spec, eval with the predictor: both say the schema."""
    three = KeypointSchema(names=("head", "hip", "foot"), sigmas=(0.1, 0.1, 0.1))
    single = protocols.build("single_person", MoveNetSpec("lightning", 1.0, 192, keypoints=three), crop="person")
    assert (single.input_size, single.num_keypoints, single.crop) == (192, 3, "person")
    multi = protocols.build("multi_person", ReplayPredictor([], three, multi_pose=True), long_side=128)
    assert (multi.num_keypoints, multi.long_side) == (3, 128)
    with pytest.raises(TypeError, match="num_keypoints"):  # no COCO-17 default
        protocols.SinglePerson(192)

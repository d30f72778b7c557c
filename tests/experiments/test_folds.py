"""Cross-validation with K >= 2 folds (experiments/folds.py through the fixed-point experiment), against pycocotools
run directly on the whole set.

No model trains: the run is a no-op and two stand-in models read each person's joints from marker pixels drawn in
the images (tests/evaluation/test_every_person.py's scheme: 80-pixel boxes, so the every_person crop is the model's
100-pixel input, pixel for pixel). Each marker also carries, in its blue value, how far each model misplaces that
person's joints, so the detections of both models are known by hand, per person, without running anything. Every
image is held out in exactly one fold, so the pooled held-out figures are those of the whole set.
"""

import copy
import json

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from movenet_train.evaluation import bootstrap
from movenet_train.keypoints import DEFAULT_SCHEMA
from movenet_train.runtime import Predictor
from tests.helpers import REPO

BOX, INPUT = 80, 100
MARKER = 150  # a marker pixel: red 10 + joint index, green from MARKER up: the person's score, 255ths
N = DEFAULT_SCHEMA.num_keypoints
FOLDS, RESAMPLES = 3, 20
INITIAL = "initial-model"  # checkpoint=: the stand-in loader tells the two models apart by their paths


class ShiftedMarkers(Predictor):
    """Each joint at its marker pixel (red 10 + j), moved down by the person's error for this model (the low four
    bits of the marker's blue value for the initial model, the high four for the other), scored green / 255 (one
    score per person: a tie would leave the order of a resample's copies to chance)."""

    schema, multi_pose, input_size, kind = DEFAULT_SCHEMA, False, INPUT, "markers"

    def __init__(self, initial):
        self.initial = initial

    def __call__(self, images):
        out = np.zeros((len(images), 1, N, 3), np.float32)
        for b, image in enumerate(np.asarray(images)):
            for j in range(N):
                rows, cols = np.nonzero((image[..., 0] == 10 + j) & (image[..., 1] >= MARKER))
                if len(rows):
                    _, green, blue = image[rows[0], cols[0]].astype(int)
                    error = blue % 16 if self.initial else blue // 16
                    out[b, 0, j] = ((rows[0] + 0.5 + error) / INPUT, (cols[0] + 0.5) / INPUT, green / 255)
        return out


def make_set(folder, rng):
    """Nine 300 x 500 images of one to three people each, each person with errors (initial, fine-tuned) drawn from
    2-11 and 0-7 pixels (the fine-tuned model better on most people, not all). Returns (annotation file, image folder, {annotation id: (initial error, fine-tuned error)})."""
    images, annotations, errors = [], [], {}
    (folder / "images").mkdir(parents=True)
    corners = [(20, 30), (200, 150), (380, 40)]
    for image_id in range(1, 10):
        pixels = np.zeros((300, 500, 3), np.uint8)
        for left, top in corners[:1 + image_id % 3]:
            ann_id = len(annotations) + 1
            cells = rng.choice((BOX - 12) * BOX, N, replace=False)  # room below for the largest error
            joints = [(left + c % BOX + 0.5, top + c // BOX + 0.5) for c in cells]
            errors[ann_id] = int(rng.integers(2, 12)), int(rng.integers(0, 8))
            for j, (x, y) in enumerate(joints):
                pixels[int(y), int(x)] = (10 + j, MARKER + 3 * ann_id, errors[ann_id][0] + 16 * errors[ann_id][1])
            annotations.append({"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                                "area": float(BOX * BOX), "bbox": [left, top, BOX, BOX], "num_keypoints": N,
                                "keypoints": [v for x, y in joints for v in (x, y, 2)]})
        images.append({"id": image_id, "file_name": f"{image_id}.png", "height": 300, "width": 500})
        Image.fromarray(pixels).save(folder / "images" / f"{image_id}.png")
    categories = [{"id": 1, "name": "person", "keypoints": list(DEFAULT_SCHEMA.names), "skeleton": []}]
    path = folder / "people.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path, folder / "images", errors


def poses_by_hand(data, errors, model):
    """The detections the stand-in model ``model`` (0: initial, 1: fine-tuned) makes: each annotated joint moved
    down by that person's error."""
    poses = []
    for ann in data["annotations"]:
        points = np.asarray(ann["keypoints"], float).reshape(-1, 3)
        points[:, 1] += errors[ann["id"]][model]
        score = (MARKER + 3 * ann["id"]) / 255
        points[:, 2] = score
        poses.append({"image_id": ann["image_id"], "category_id": 1, "score": score,
                      "keypoints": points.ravel().tolist()})
    return poses


def cocoeval_ap(data, poses, counts=None):
    """pycocotools' AP of ``poses``; ``counts`` {image id: n} scores a set in which each image appears n times
    (copies under new ids: a bootstrap resample)."""
    if counts is not None:
        copied, copied_poses, next_id = {**data, "images": [], "annotations": []}, [], 1
        for image in data["images"]:
            for _ in range(counts[image["id"]]):
                copied["images"].append({**image, "id": next_id})
                copied["annotations"] += [{**a, "image_id": next_id, "id": 1000 * next_id + a["id"]}
                                          for a in data["annotations"] if a["image_id"] == image["id"]]
                copied_poses += [{**p, "image_id": next_id} for p in poses if p["image_id"] == image["id"]]
                next_id += 1
        data, poses = copied, copied_poses
    gt = COCO()
    gt.dataset = copy.deepcopy(data)
    gt.createIndex()
    evaluator = COCOeval(gt, gt.loadRes(copy.deepcopy(poses)), iouType="keypoints")
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return evaluator.stats[0]


def subset(data, image_ids):
    return {**data, "images": [i for i in data["images"] if i["id"] in image_ids],
            "annotations": [a for a in data["annotations"] if a["image_id"] in image_ids]}


@pytest.mark.slow  # no training, but three folds of data preparation and twelve evaluations: about 3 s
def test_pooled_folds_are_cocoeval_on_the_whole_set(tmp_path, monkeypatch):
    from movenet_train import training
    from movenet_train.evaluation import evaluator
    from movenet_train.experiments import fixed_point, folds

    annotations, images, errors = make_set(tmp_path / "set", np.random.default_rng(0))
    monkeypatch.setattr(training, "train", lambda cfg: None)  # the run is not what is tested
    monkeypatch.setattr(folds, "load_predictor", lambda path: ShiftedMarkers(initial=str(path) == INITIAL))
    # the per-evaluation plots take seconds and have their own tests (tests/evaluation/test_compare.py)
    monkeypatch.setattr(evaluator.plots, "precision_recall_figure", lambda *args: None)
    monkeypatch.setattr(evaluator.plots, "per_keypoint_figure", lambda *args: None)
    monkeypatch.setattr(evaluator.outputs, "write_png", lambda path, figure: None)
    output = tmp_path / "exp"
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        report = fixed_point.run(compose("fixed_point", overrides=[
            f"annotations={annotations}", f"images={images}", f"checkpoint={INITIAL}", f"output={output}",
            f"folds={FOLDS}", "protocol=every_person", f"bootstrap.resamples={RESAMPLES}"]))

    data = json.loads(annotations.read_text())
    splits = [json.loads((output / f"fold_{k}" / "split.json").read_text()) for k in range(FOLDS)]
    held_out = sorted(i for split in splits for i in split["held_out"])
    assert held_out == list(range(1, 10))  # every image held out exactly once
    assert all(sorted(s["train"] + s["held_out"]) == held_out for s in splits)

    initial, fine_tuned = (cocoeval_ap(data, poses_by_hand(data, errors, m)) for m in (0, 1))
    assert 0.2 < initial < 0.95 and 0.2 < fine_tuned < 0.95 and abs(fine_tuned - initial) > 0.02  # not trivial
    entries = report["entries"]
    assert entries["initial held_out"]["AP"] == pytest.approx(initial, abs=1e-9)
    assert entries["fine_tuned held_out"]["AP"] == pytest.approx(fine_tuned, abs=1e-9)
    assert entries["initial held_out"]["num_people"] == len(data["annotations"])

    change = report["changes"]["held_out"]
    assert change["difference"] == pytest.approx(fine_tuned - initial, abs=1e-9)
    assert (change["num_images"], change["num_people"], change["resamples"]) == (9, len(data["annotations"]),
                                                                                  RESAMPLES)
    # The interval: the same image draws, each resample scored by pycocotools on a set with the images copied.
    differences = []
    for counts in bootstrap.resample_weights(9, RESAMPLES, seed=0):
        drawn = dict(zip(range(1, 10), counts))
        differences.append(cocoeval_ap(data, poses_by_hand(data, errors, 1), drawn)
                           - cocoeval_ap(data, poses_by_hand(data, errors, 0), drawn))
    low, high = np.percentile(differences, [2.5, 97.5])
    assert (change["low"], change["high"]) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))

    # Training images: a change per fold (each image trains in K - 1 folds), and their mean.
    for fold, split in zip(report["folds"], splits):
        part = subset(data, set(split["train"]))
        expected = cocoeval_ap(part, poses_by_hand(part, errors, 1)) - cocoeval_ap(part, poses_by_hand(part, errors, 0))
        assert fold["train"]["AP_change"] == pytest.approx(expected, abs=1e-9)
    assert report["mean_fold_change"]["train"] == pytest.approx(np.mean([f["train"]["AP_change"]
                                                                         for f in report["folds"]]))
    assert report["headline"]["folds"] == FOLDS and report["headline"]["held_out_people"] == len(data["annotations"])

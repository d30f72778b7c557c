"""Paired bootstrap intervals re-accumulated from one COCOeval pass, against pycocotools itself.

Detections are made by hand from the sample's ground truth (noisy copies, misses, false positives, random scores),
so no model runs: the identity resample must equal COCOeval's AP exactly, and a resample must equal COCOeval run
on a set where the drawn images are copied as often as they were drawn.
"""

import copy
import json

import numpy as np
import pytest
from pycocotools.cocoeval import COCOeval

from movenet_train.errors import UserError
from movenet_train.evaluation import bootstrap, coco_metrics
from movenet_train.keypoints import DEFAULT_SCHEMA
from tests.helpers import COCO_SAMPLE, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"


@pytest.fixture(scope="module")
def sample():
    require_shared(SAMPLE_JSON)
    return json.loads(SAMPLE_JSON.read_text())


def noisy_detections(data, seed, noise):
    """Per person with keypoints: its joints moved by ``noise`` x box size (some people missed); plus a few
    false positives; every score random."""
    rng = np.random.default_rng(seed)
    out = []
    for ann in data["annotations"]:
        if ann.get("iscrowd") or not ann.get("num_keypoints") or rng.random() < 0.1:
            continue
        points = np.asarray(ann["keypoints"], float).reshape(-1, 3)
        scale = max(ann["bbox"][2], ann["bbox"][3])
        points[:, :2] += rng.normal(0, noise * scale, size=(len(points), 2))
        points[:, 2] = 1
        out.append({"image_id": ann["image_id"], "category_id": 1, "keypoints": points.reshape(-1).tolist(),
                    "score": float(rng.random())})
    for image in rng.choice(data["images"], 8, replace=False):
        points = np.c_[rng.uniform(0, image["width"], 17), rng.uniform(0, image["height"], 17), np.ones(17)]
        out.append({"image_id": image["id"], "category_id": 1, "keypoints": points.reshape(-1).tolist(),
                    "score": float(rng.random())})
    return out


def cocoeval_ap(data, results, image_ids):
    """pycocotools' AP, run directly."""
    gt = coco_metrics.coco_from_dict(copy.deepcopy(data))
    dt = gt.loadRes(copy.deepcopy(results))
    evaluator = COCOeval(gt, dt, iouType="keypoints")
    evaluator.params.imgIds = sorted(image_ids)
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return evaluator.stats[0]


def test_identity_resample_is_cocoevals_ap_exactly(sample):
    ids = [i["id"] for i in sample["images"]]
    for seed, noise in ((0, 0.03), (1, 0.08), (2, 0.15)):
        results = noisy_detections(sample, seed, noise)
        ap = coco_metrics.keypoint_ap(sample, results, ids, DEFAULT_SCHEMA)
        assert ap.matches.ap() == ap.stats["AP"] == cocoeval_ap(sample, results, ids)
        assert ap.matches.ap(np.ones(len(ids), int)) == ap.stats["AP"]


def test_a_resample_is_cocoeval_on_the_images_copied(sample):
    ids = sorted(i["id"] for i in sample["images"])
    results = noisy_detections(sample, 5, 0.06)
    matches = coco_metrics.keypoint_ap(sample, results, ids, DEFAULT_SCHEMA).matches
    assert list(matches.image_ids) == ids
    for counts in bootstrap.resample_weights(len(ids), resamples=3, seed=7):
        copied = {**sample, "images": [], "annotations": []}
        copied_results, copied_ids = [], []
        for copy_index in range(int(counts.max())):
            for image_id, count in zip(ids, counts):  # copy k of every image drawn more than k times
                if count <= copy_index:
                    continue
                new_id = image_id * 10 + copy_index
                copied_ids.append(new_id)
                copied["images"].append({**next(i for i in sample["images"] if i["id"] == image_id), "id": new_id})
                copied["annotations"] += [{**a, "id": a["id"] * 10 + copy_index, "image_id": new_id}
                                          for a in sample["annotations"] if a["image_id"] == image_id]
                copied_results += [{**r, "image_id": new_id} for r in results if r["image_id"] == image_id]
        # COCOeval concatenates images in id order; copies of one image are adjacent in score order there too.
        assert matches.ap(counts) == pytest.approx(cocoeval_ap(copied, copied_results, copied_ids), abs=1e-12)


def test_paired_difference_of_a_model_with_itself_is_zero_and_seeded(sample):
    ids = [i["id"] for i in sample["images"]]
    better = coco_metrics.keypoint_ap(sample, noisy_detections(sample, 0, 0.02), ids, DEFAULT_SCHEMA).matches
    worse = coco_metrics.keypoint_ap(sample, noisy_detections(sample, 0, 0.10), ids, DEFAULT_SCHEMA).matches
    same = bootstrap.paired_difference(worse, worse, resamples=50)
    assert same["difference"] == same["low"] == same["high"] == 0
    result = bootstrap.paired_difference(worse, better, resamples=200, seed=3)
    assert result == bootstrap.paired_difference(worse, better, resamples=200, seed=3)
    assert result["low"] <= result["difference"] <= result["high"]
    assert result["low"] > 0  # the same people with 5x less noise: the interval excludes zero
    assert result["difference"] == pytest.approx(result["AP_after"] - result["AP_before"])


def test_a_comparison_of_different_images_is_refused(sample):
    ids = [i["id"] for i in sample["images"]]
    results = noisy_detections(sample, 0, 0.05)
    all_images = coco_metrics.keypoint_ap(sample, results, ids, DEFAULT_SCHEMA).matches
    fewer = coco_metrics.keypoint_ap(sample, results, ids[:-3], DEFAULT_SCHEMA).matches
    with pytest.raises(UserError, match="same images"):
        bootstrap.paired_difference(all_images, fewer)

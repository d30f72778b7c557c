"""The released models' AP on the COCO sample, single_person, crop=none, through load_predictor.

Truth: the figures in ../shared/reference_models/README.md, measured with this exact protocol.
"""

import csv
import hashlib
import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from movenet_train.evaluation import evaluate
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, TFJS, TFLITE_INT8_LIGHTNING, require_shared

ANNOTATIONS = COCO_SAMPLE / "person_keypoints_sample.json"
IMAGES = COCO_SAMPLE / "images"
# reference_models/README.md, "Checks done": AP (AP50) on the 16 single-person images.
REFERENCE = {"lightning": (TFJS["lightning"], 0.433, 0.640), "thunder": (TFJS["thunder"], 0.629, 0.871),
             "int8_tflite_lightning": (TFLITE_INT8_LIGHTNING, 0.356, 0.717)}


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(REFERENCE))
def test_released_model_reproduces_reference_ap(model, coco_sample):
    path, ap, ap50 = REFERENCE[model]
    require_shared(path)
    predictor = load_predictor(path)
    assert predictor.kind == ("tflite" if model.endswith("tflite_lightning") else "keras")
    metrics = evaluate(predictor, ANNOTATIONS, IMAGES, protocol="single_person", crop="none", progress=False)
    assert metrics["AP"] == pytest.approx(ap, abs=0.01)
    assert metrics["AP50"] == pytest.approx(ap50, abs=0.01)
    assert (metrics["num_images"], metrics["num_people"]) == (16, 16)


@pytest.mark.slow
def test_output_files(tmp_path, coco_sample, single_person_images):
    """The files of an eval: re-scored by pycocotools from the written results, they give the same AP."""
    require_shared(TFJS["lightning"])
    out = tmp_path / "eval"
    metrics = evaluate(load_predictor(TFJS["lightning"]), ANNOTATIONS, IMAGES, output_dir=out,
                       checkpoint=str(TFJS["lightning"]), progress=False)
    assert sorted(p.name for p in out.iterdir()) == [
        "keypoints_results.json", "metrics.json", "per_keypoint.csv", "per_keypoint.png", "precision_recall.png"]

    written = json.loads((out / "metrics.json").read_text())
    assert written == metrics
    # sha256 over the model's files: movenet-lightning.json, then its weight shard.
    digest = hashlib.sha256(TFJS["lightning"].read_bytes() + TFJS["lightning"].with_suffix(".bin").read_bytes())
    assert written["checkpoint_sha256"] == digest.hexdigest()

    gt = COCO(str(ANNOTATIONS))
    image_ids = [i["id"] for i in coco_sample["images"] if i["file_name"] in single_person_images]
    results = json.loads((out / "keypoints_results.json").read_text())
    assert sorted(r["image_id"] for r in results) == sorted(image_ids)
    assert all(set(r) == {"image_id", "category_id", "keypoints", "score"} for r in results)  # COCO results format
    scorer = COCOeval(gt, gt.loadRes(results), "keypoints")
    scorer.params.imgIds = image_ids
    scorer.evaluate()
    scorer.accumulate()
    scorer.summarize()
    assert scorer.stats[0] == pytest.approx(metrics["AP"], abs=1e-9)
    assert metrics["AP"] == pytest.approx(0.433, abs=0.01)

    with open(out / "per_keypoint.csv") as f:
        rows = list(csv.DictReader(f))
    labelled = np.sum([np.reshape(a["keypoints"], (17, 3))[:, 2] > 0 for a in coco_sample["annotations"]
                       if a["image_id"] in image_ids], axis=0)
    assert [r["keypoint"] for r in rows] == coco_sample["categories"][0]["keypoints"]
    assert [int(r["labelled"]) for r in rows] == labelled.tolist()
    assert all(0 <= float(r["mean_oks"]) <= 1 and 0 <= float(r["pck"]) <= 1 for r in rows)
    for name in ("precision_recall.png", "per_keypoint.png"):
        with Image.open(out / name) as image:
            assert image.format == "PNG" and min(image.size) >= 300

"""The synthetic person set: valid COCO keypoints, left/right colour-coded, generated and converted once."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from movenet_train.config import default_config
from movenet_train.data.synthetic import GeneratorConfig, ensure_synthetic_dataset, generate_synthetic
from movenet_train.keypoints import COCO_17
from tests.helpers import REPO
from tests.data.conftest import compose_config


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    output = tmp_path_factory.mktemp("synthetic")
    return output, generate_synthetic(str(output), 24, default_config(GeneratorConfig, seed=5), schema=COCO_17)


def test_annotations_are_coco_keypoints_that_cocoeval_accepts(small_set):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    output, path = small_set
    gt = COCO(path)
    assert len(gt.getImgIds()) == 24 and len(gt.getAnnIds()) >= 24
    for ann in gt.loadAnns(gt.getAnnIds()):
        image = gt.imgs[ann["image_id"]]
        kp = np.array(ann["keypoints"]).reshape(17, 3)
        labelled = kp[:, 2] > 0
        assert ann["num_keypoints"] == labelled.sum() > 0
        assert (kp[labelled, 0] < image["width"]).all() and (kp[labelled, 1] < image["height"]).all()
        x, y, w, h = ann["bbox"]
        assert 0 <= x and 0 <= y and x + w <= image["width"] and y + h <= image["height"]
        assert 0 < ann["area"] <= w * h
    with Image.open(os.path.join(output, "images", gt.imgs[1]["file_name"])) as image:
        assert image.size == (gt.imgs[1]["width"], gt.imgs[1]["height"]) and image.mode == "RGB"
    # The ground truth as detections scores AP 1.
    results = [dict(image_id=a["image_id"], category_id=1, keypoints=a["keypoints"], score=1.0)
               for a in gt.loadAnns(gt.getAnnIds())]
    evaluator = COCOeval(gt, gt.loadRes(results), "keypoints")
    evaluator.evaluate(), evaluator.accumulate(), evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)


def test_left_limbs_are_warm_and_right_limbs_cool(small_set):
    """Read the pixels under the middle of each upper arm and thigh: left is red/magenta, right blue/green."""
    output, path = small_set
    with open(path) as f:
        coco = json.load(f)
    files = {image["id"]: image["file_name"] for image in coco["images"]}
    votes = []
    for ann in coco["annotations"]:
        kp = np.array(ann["keypoints"]).reshape(17, 3)
        pixels = np.asarray(Image.open(os.path.join(output, "images", files[ann["image_id"]])), np.int64)
        for a, b in (("shoulder", "elbow"), ("hip", "knee")):
            for side in ("left", "right"):
                i, j = COCO_17.index[f"{side}_{a}"], COCO_17.index[f"{side}_{b}"]
                if kp[i, 2] and kp[j, 2]:
                    x, y = ((kp[i, :2] + kp[j, :2]) / 2).astype(int)
                    r, g, bl = pixels[y, x]
                    votes.append((side == "left") == (r > bl))
    # Limbs of one person can hide another's; nearly every vote must still agree.
    assert len(votes) > 50 and np.mean(votes) > 0.9


def test_generation_is_deterministic(small_set, tmp_path):
    _, path = small_set
    again = generate_synthetic(str(tmp_path), 24, default_config(GeneratorConfig, seed=5), schema=COCO_17)
    with open(path) as f, open(again) as g:
        assert json.load(f) == json.load(g)


def test_ensure_generates_converts_and_caches(tmp_path):
    cfg = compose_config(f"data.root={tmp_path}/synthetic", "data.num_train_images=12", "data.num_val_images=6")
    ensure_synthetic_dataset(cfg.data, progress=False, schema=COCO_17)
    root = tmp_path / "synthetic"
    with open(root / "records" / "train-manifest.json") as f:
        assert json.load(f)["counts"]["examples"] == 12
    with open(cfg.data.val_annotations) as f:
        val = json.load(f)
    assert len(val["images"]) == 6 and os.path.isdir(cfg.data.val_images)
    with open(root / "train" / "annotations.json") as f:
        train_files = {image["file_name"] for image in json.load(f)["images"]}
    assert not train_files & {image["file_name"] for image in val["images"]}  # held out
    stamp = os.path.getmtime(root / "records" / "train-manifest.json")
    ensure_synthetic_dataset(cfg.data, progress=False, schema=COCO_17)  # present: nothing to do
    assert os.path.getmtime(root / "records" / "train-manifest.json") == stamp
    assert [p.name for p in tmp_path.iterdir()] == ["synthetic"]  # no temporary folder left

    foreign = compose_config(f"data.root={tmp_path}/mine")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("user data")
    with pytest.raises(FileExistsError, match="not removing it"):
        ensure_synthetic_dataset(foreign.data, schema=COCO_17)


@pytest.mark.slow
def test_command_line_make_prepare_show(tmp_path):
    """The README's commands: generate, convert with worker processes, render samples."""
    def run(*args):
        result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    run("data/make_synthetic.py", f"output={tmp_path}/set", "num_images=8")
    run("data/prepare_coco.py", f"annotations={tmp_path}/set/annotations.json", f"images={tmp_path}/set/images",
        f"output={tmp_path}/records", "num_workers=2", "num_shards=2")
    assert sorted(os.listdir(tmp_path / "records")) == ["train-00000-of-00002.tfrecord",
                                                         "train-00001-of-00002.tfrecord", "train-manifest.json"]
    run("data/show_samples.py", "data=coco", f"data.train_records={tmp_path}/records/train-*.tfrecord",
        f"output={tmp_path}/samples.png", "num_images=4", "columns=2")
    with Image.open(tmp_path / "samples.png") as image:
        assert image.size == (2 * (192 + 4), 2 * (192 + 4))
    bad = subprocess.run([sys.executable, "data/prepare_coco.py", f"annotations={tmp_path}/set/images/000001.jpg",
                          f"images={tmp_path}", f"output={tmp_path}/x"], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and "not valid JSON" in bad.stderr

"""``python eval/evaluate.py``: config composition, the printed AP line, one-line errors."""

import inspect
import json
import subprocess
import sys

import numpy as np
import pytest
from hydra import compose, initialize
from omegaconf import OmegaConf

from movenet_train.evaluation import evaluate
from movenet_train.keypoints import COCO_17
from tests.helpers import COCO_SAMPLE, REPO, TFJS, TFLITE_INT8_LIGHTNING, require_shared

DATA = [f"annotations={COCO_SAMPLE / 'person_keypoints_sample.json'}", f"images={COCO_SAMPLE / 'images'}"]


def test_eval_group_keys_are_evaluate_arguments():
    """configs/eval/default.yaml is what training passes to evaluate(); every key must be an argument."""
    keys = set(OmegaConf.load(REPO / "configs" / "eval" / "default.yaml"))
    parameters = set(inspect.signature(evaluate).parameters)
    options = {"long_side", "multiple", "score_threshold"}  # **protocol_options of multi_person
    assert keys - options <= parameters
    with initialize(version_base="1.3", config_path="../../configs"):
        train = compose("train", overrides=["exp=thunder"])
        job = compose("eval", overrides=["exp=thunder", "checkpoint=x.tflite", "protocol=multi_person"])
    assert set(train.eval) == keys
    assert job.model.name == "thunder" and job.protocol == "multi_person" and job.crop == "none"
    assert keys | {"checkpoint", "output", "num_threads", "progress", "model"} <= set(job)


def _run(*overrides):
    return subprocess.run([sys.executable, "eval/evaluate.py", *overrides], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_job_prints_ap_last_and_writes_outputs(tmp_path):
    require_shared(TFLITE_INT8_LIGHTNING, COCO_SAMPLE)
    out = tmp_path / "out"
    result = _run("+exp=lightning", f"checkpoint={TFLITE_INT8_LIGHTNING}", *DATA, "protocol=single_person",
                  f"output={out}", f"hydra.run.dir={tmp_path / 'hydra'}")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("AP=")
    assert float(last[3:]) == pytest.approx(0.356, abs=0.01)  # reference_models/README.md, int8 TFLite
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model_kind"] == "tflite" and metrics["protocol"] == "single_person"
    # sha256 of the file as reference_models/README.md lists it.
    assert metrics["checkpoint_sha256"] == "cd7cc22fa946e5d146a7b98d496853e1923e22828d3972d579973f27f91bb105"


@pytest.mark.slow
def test_wrong_variant_is_one_line(tmp_path):
    """The 192 int8 Lightning file with the Thunder config (256); the library errors are in test_bad_input."""
    require_shared(TFLITE_INT8_LIGHTNING, COCO_SAMPLE)
    result = _run("+exp=thunder", f"checkpoint={TFLITE_INT8_LIGHTNING}", *DATA, f"hydra.run.dir={tmp_path}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and ("takes 192x192 input but the config asks for 256x256 input (MoveNet "
                                           "thunder): pass model.input_size=192") in last


@pytest.mark.slow
def test_every_person_comparison_prints_both_aps_and_the_paired_interval(tmp_path, capsys):
    """The released Lightning against Thunder on every annotated person of the sample (122 people, 44 images)."""
    require_shared(TFJS["lightning"], TFJS["thunder"], COCO_SAMPLE)
    from movenet_train.jobs.evaluate import run

    out = tmp_path / "out"
    with initialize(version_base="1.3", config_path="../../configs"):
        cfg = compose("eval", overrides=[f"checkpoint={TFJS['lightning']}", f"compare={TFJS['thunder']}", *DATA,
                                         "protocol=every_person", f"output={out}", "progress=false",
                                         "bootstrap.resamples=500"])
    metrics = run(cfg)
    printed = capsys.readouterr().out
    assert metrics["num_people"] == 122 and metrics["num_images"] == 44 and metrics["num_detections"] == 122
    report = json.loads((out / "compare.json").read_text())
    paired = report["paired"]
    thunder = json.loads((out / "compare" / "metrics.json").read_text())
    assert paired["AP_before"] == metrics["AP"] and paired["AP_after"] == thunder["AP"]
    assert paired["num_people"] == 122 and paired["resamples"] == 500
    # Thunder is the better model on the same people, and the interval says so.
    assert paired["low"] <= paired["difference"] <= paired["high"] and paired["low"] > 0
    assert f"AP {metrics['AP']:.4f} on 44 images, 122 people" in printed
    assert f"{paired['difference']:+.3f} [{paired['low']:+.3f}, {paired['high']:+.3f}]" in printed


def test_compare_orientation_runs_the_second_model_with_the_search(tmp_path, monkeypatch, capsys):
    """``checkpoint=M compare=M compare_orientation=any``: the same stand-in model (tests/test_orientation.py's
    blob model, exact on upright people only, 10 px off and unsure on any other) plain, then inside the
    quarter-turn search, on one person drawn upright and turned three ways. The search finds every person
    exactly and the plain model only the upright one: both APs, and the paired difference, are pycocotools' on
    the poses worked out by hand."""
    from PIL import Image
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from movenet_train import runtime
    from movenet_train.jobs.evaluate import run
    from tests.test_orientation import BLOB_SIZE, MISS, UPRIGHT, TiltSensitiveModel, blob_centres, blob_image, turned

    (tmp_path / "images").mkdir()
    images, annotations, poses = [], [], {"plain": [], "any": []}
    for k in range(4):
        xy = (blob_centres(turned(UPRIGHT, k)) * BLOB_SIZE)[:, ::-1]  # pixels, (x, y)
        Image.fromarray(blob_image(turned(UPRIGHT, k))).save(tmp_path / "images" / f"{k}.png")
        images.append({"id": k + 1, "file_name": f"{k}.png", "height": BLOB_SIZE, "width": BLOB_SIZE})
        low, high = xy.min(axis=0) - 8, xy.max(axis=0) + 8
        annotations.append({"id": k + 1, "image_id": k + 1, "category_id": 1, "iscrowd": 0, "num_keypoints": 17,
                            "bbox": [*low, *(high - low)], "area": float(np.prod(high - low)),
                            "keypoints": np.c_[xy, np.full(17, 2)].ravel().tolist()})
        missed = xy + ([0, 0] if k == 0 else [0, MISS * BLOB_SIZE])  # the plain model, 10 px low unless upright
        for name, points, score in (("plain", missed, 0.9 if k == 0 else 0.3), ("any", xy, 0.9)):
            poses[name].append({"image_id": k + 1, "category_id": 1, "score": score,
                                "keypoints": np.c_[points, np.full(17, score)].ravel().tolist()})
    categories = [{"id": 1, "name": "person", "keypoints": list(COCO_17.names), "skeleton": []}]
    annotation_file = tmp_path / "people.json"
    annotation_file.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))

    def cocoeval_ap(results):
        gt = COCO(str(annotation_file))
        evaluator = COCOeval(gt, gt.loadRes(results), iouType="keypoints")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
        return evaluator.stats[0]

    monkeypatch.setattr(runtime, "_load_runtime",
                        lambda checkpoint, spec, num_threads, input_size=None: TiltSensitiveModel())
    with initialize(version_base="1.3", config_path="../../configs"):
        cfg = compose("eval", overrides=["checkpoint=blobs", "compare=blobs", "compare_orientation=any",
                                         f"annotations={annotation_file}", f"images={tmp_path / 'images'}",
                                         "protocol=single_person", "output=null", "progress=false",
                                         "bootstrap.resamples=200"])
    metrics = run(cfg)  # output=null: the comparison is printed only (no plots to draw: a fast test)
    printed = "\n".join(" ".join(line.split()) for line in capsys.readouterr().out.splitlines())  # columns: 1 space
    plain, searched = cocoeval_ap(poses["plain"]), cocoeval_ap(poses["any"])
    assert searched == pytest.approx(1.0) and plain < 0.9
    assert metrics["orientation"] == "upright" and metrics["AP"] == pytest.approx(plain, abs=1e-6)
    assert f"checkpoint blobs AP {plain:.4f} on 4 images, 4 people" in printed
    assert f"compare blobs (any) AP {searched:.4f} on 4 images, 4 people" in printed
    assert f"blobs (stand-in+orientation), protocol=single_person: AP {searched:.4f}" in printed
    assert f"AP difference (second - first): {searched - plain:+.3f} [" in printed

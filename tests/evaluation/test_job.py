"""``python eval/evaluate.py``: config composition, the printed AP line, one-line errors."""

import inspect
import json
import subprocess
import sys

import pytest
from hydra import compose, initialize
from omegaconf import OmegaConf

from movenet_train.evaluation import evaluate
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

"""A shortened distillation experiment: two folds, a few steps, a Lightning teacher (the plumbing; the real
recipe's figures are in docs/experiments.md, "Distillation")."""

import json

import pytest
from hydra import compose, initialize_config_dir

from movenet_train.evaluation import evaluate
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, REPO, SHARED, TFJS, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"
GOOGLE_INT8 = SHARED / "reference_models" / "tflite" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"
VIDEO = SHARED / "data" / "video_sample" / "pose_1.mp4"
STEPS = 3
SHORT = (f"'train.steps={STEPS}','train.validate_every={STEPS}','train.checkpoint_every={STEPS}',"
         "'train.optimizer.warmup_steps=1','train.batch_size=4','train.progress_bar=false','eval.max_images=1'")
OVERRIDES = [
    f"annotations={SAMPLE_JSON}", f"images={COCO_SAMPLE / 'images'}", f"checkpoint={TFJS['lightning']}",
    # The released Lightning teaches itself here: the test is about what the experiment trains and scores.
    f"teacher={TFJS['lightning']}", f"reference_int8={GOOGLE_INT8}", "folds=2",
    "~unlabeled", f"+unlabeled={{clip:{{media:{VIDEO},frame_step:40,weight:0.5}}}}",
    f"train_overrides=['exp=lightning','data=coco','train/schedule@train=distill',{SHORT}]",
    "baseline_overrides=null", "export.calibration_images=4", "export.initial=false",
]


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    require_shared(TFJS["lightning"], SAMPLE_JSON, GOOGLE_INT8, VIDEO)
    from movenet_train.experiments.distill import run

    output = tmp_path_factory.mktemp("distill") / "exp"
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        report = run(compose("distill", overrides=OVERRIDES + [f"output={output}"]))
    return output, report


@pytest.mark.slow
def test_folds_pool_every_person_and_the_report_agrees_with_independent_evaluations(experiment):
    output, report = experiment
    entries, changes = report["entries"], report["changes"]
    # Every annotated person of the sample is held out once: the 122 people of the every_person protocol.
    for model in ("initial", "fine_tuned", "teacher", "fine_tuned_int8", "reference_int8"):
        assert entries[f"{model} held_out"]["num_people"] == 122
    splits = [json.loads((output / f"fold_{k}" / "split.json").read_text()) for k in range(2)]
    assert not set(splits[0]["held_out"]) & set(splits[1]["held_out"])
    assert len(splits[0]["held_out"]) + len(splits[1]["held_out"]) == 55
    # The released weights on all 122 people: the README's every_person figure, computed by the eval code.
    assert entries["initial held_out"]["AP"] == pytest.approx(0.314, abs=1e-3)
    # Pooling: one model's predictions on the union of the folds' held-out images are scored as one COCOeval,
    # which must be the whole sample's AP when that model is the same in every fold (Google's int8 file).
    whole = evaluate(load_predictor(GOOGLE_INT8), str(SAMPLE_JSON), str(COCO_SAMPLE / "images"),
                     protocol="every_person", progress=False)
    assert entries["reference_int8 held_out"]["AP"] == pytest.approx(whole["AP"], abs=1e-12)
    # One fold's distilled run and its INT8 export, scored again on that fold's held-out people.
    fold = output / "fold_0"
    again = evaluate(load_predictor(fold / "run"), str(fold / "held_out.json"), str(COCO_SAMPLE / "images"),
                     protocol="every_person", progress=False)
    assert again["AP"] == pytest.approx(report["folds"][0]["fine_tuned held_out"], abs=1e-9)
    int8 = fold / "export" / "movenet_lightning_int8.tflite"
    again = evaluate(load_predictor(int8), str(fold / "held_out.json"), str(COCO_SAMPLE / "images"),
                     protocol="every_person", progress=False)
    assert again["AP"] == pytest.approx(report["folds"][0]["fine_tuned_int8 held_out"], abs=1e-9)
    # The paired changes are the pooled APs' differences; the baseline was switched off, so it has none.
    headline = changes["distilled - released Lightning"]
    assert headline["difference"] == pytest.approx(entries["fine_tuned held_out"]["AP"] - entries["initial held_out"]["AP"])
    assert headline["low"] <= headline["difference"] <= headline["high"] and headline["num_people"] == 122
    assert "distilled - finetune schedule" not in changes
    assert report["train"]["unlabeled"]["clip"]["frame_step"] == 40
    assert (output / "results.json").exists() and (output / "results.png").exists()


@pytest.mark.slow
def test_a_second_call_trains_and_exports_nothing_again(experiment):
    output, _ = experiment
    fold = output / "fold_1"
    written = [fold / "run" / "model", fold / "export" / "movenet_lightning_int8.tflite"]
    stamps = [path.stat().st_mtime_ns for path in written]
    from movenet_train.experiments.distill import run

    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        report = run(compose("distill", overrides=OVERRIDES + [f"output={output}", "only_folds=[1]"]))
    assert report == {"folds_done": [1]}
    assert [path.stat().st_mtime_ns for path in written] == stamps

"""A shortened fixed-point experiment (the full run and its figures are in docs/experiments.md)."""

import json

import pytest
from hydra import compose, initialize_config_dir

from movenet_train.evaluation import evaluate
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, REPO, TFJS, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"
STEPS = 20


@pytest.mark.slow
def test_fixed_point_experiment_split_and_report(tmp_path):
    require_shared(TFJS["lightning"], SAMPLE_JSON)
    from movenet_train.experiments.fixed_point import run

    output = tmp_path / "exp"
    overrides = [
        f"annotations={SAMPLE_JSON}", f"images={COCO_SAMPLE / 'images'}", f"checkpoint={TFJS['lightning']}",
        f"output={output}",
        f"train_overrides=['exp=lightning','data=coco','train/schedule@train=finetune','train.steps={STEPS}',"
        f"'train.validate_every={STEPS}','train.checkpoint_every={STEPS}','train.progress_bar=false',"
        "'eval.max_images=1']",
    ]
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        report = run(compose("fixed_point", overrides=overrides))
    entries = report["entries"]
    # The rotation experiment's split: 10 held-out single-person images; 45 train, 6 of them single-person.
    split = json.loads((output / "split.json").read_text())
    assert len(split["held_out"]) == 10 and len(split["train"]) == 45
    assert not set(split["held_out"]) & set(split["train"])
    assert entries["initial held_out"]["num_images"] == 10 and entries["initial train"]["num_images"] == 6
    # The released weights on the held-out images: the figure of the rotation experiment (docs/experiments.md).
    assert entries["initial held_out"]["AP"] == pytest.approx(0.626, abs=1e-3)
    # The fine-tuned entry is the run's model, scored by the eval code independently of the report.
    again = evaluate(load_predictor(output / "run"), str(output / "held_out.json"), str(COCO_SAMPLE / "images"),
                     protocol="single_person", progress=False)
    assert again["AP"] == pytest.approx(entries["fine_tuned held_out"]["AP"], abs=1e-9)
    assert report["headline"]["held_out_AP_change"] == pytest.approx(
        entries["fine_tuned held_out"]["AP"] - entries["initial held_out"]["AP"])
    assert report["train"]["steps"] == STEPS and report["train"]["learning_rate"] == pytest.approx(3e-5)
    assert (output / "results.json").exists() and (output / "results.png").exists()

"""A shortened rotation experiment (the full run and its figures are in docs/experiments.md).

The experiment's goal (rotated held-out AP up by >= 0.10 over the released weights, upright down by <= 0.02) is
not met by the recipes measured so far (docs/experiments.md, "Rotation experiment"). The goal check is therefore a strict
xfail: it records the target and turns into a failure (XPASS) the day a recipe reaches it, so that the marker
gets removed.
"""

import json

import pytest
from hydra import compose, initialize_config_dir

from movenet_train.evaluation import evaluate
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, REPO, TFJS, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"
STEPS = 60


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    require_shared(TFJS["lightning"], SAMPLE_JSON)
    from movenet_train.experiments.rotation import run

    output = tmp_path_factory.mktemp("rotation") / "exp"
    overrides = [
        f"annotations={SAMPLE_JSON}", f"images={COCO_SAMPLE / 'images'}", f"checkpoint={TFJS['lightning']}",
        f"output={output}",
        f"train_overrides=['exp=rotation_finetune','train.steps={STEPS}','train.validate_every={STEPS}',"
        f"'train.checkpoint_every={STEPS}','train.progress_bar=false','eval.max_images=1']",
    ]
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("rotation_finetune", overrides=overrides)
        report = run(cfg)
    return output, report


@pytest.mark.slow
def test_split_counts_and_report_agree_with_an_independent_evaluation(experiment):
    output, report = experiment
    entries = report["entries"]
    # 10 of the 16 single-person images held out, scored upright and turned three ways; all other images train.
    assert entries["initial upright"]["num_images"] == 10 and entries["initial rotated"]["num_images"] == 30
    split = json.loads((output / "split.json").read_text())
    assert len(split["train"]) == 45 and not set(split["held_out"]) & set(split["train"])
    rotated = json.loads((output / "held_out_rotated" / "person_keypoints.json").read_text())
    assert {i["original_id"] for i in rotated["images"]} == set(split["held_out"])
    # The released weights fail on turned people: the gap the experiment is about.
    assert entries["initial upright"]["AP"] > entries["initial rotated"]["AP"] + 0.3
    # The fine-tuned entry is the run's model, scored by the eval code independently of the report.
    again = evaluate(load_predictor(output / "run"), str(output / "held_out_upright.json"), str(COCO_SAMPLE / "images"),
                     protocol="single_person", progress=False)
    assert again["AP"] == pytest.approx(entries["fine_tuned upright"]["AP"], abs=1e-9)
    assert report["train"]["steps"] == STEPS
    assert (output / "results.json").exists() and (output / "results.png").exists()


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="the experiment's goal is not met by any measured recipe yet, equivariant "
                   "teaching included (docs/experiments.md)")
def test_rotated_ap_rises_and_upright_holds(experiment):
    _, report = experiment
    # The goal of the experiment (docs/experiments.md, "Rotation experiment").
    assert report["headline"]["rotated_AP_gain"] >= 0.10, report["headline"]
    assert report["headline"]["upright_AP_change"] >= -0.02, report["headline"]

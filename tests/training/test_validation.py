"""Validation during training scores the model with the ``eval`` group's keys (as eval/evaluate.py does)."""

import json

import pytest
from hydra import compose, initialize_config_dir

from movenet_train.config import config_from
from movenet_train.modeling import MoveNetSpec, build_model
from movenet_train.training.config import TrainConfig
from movenet_train.training import validation
from tests.helpers import REPO


@pytest.fixture
def val_files(tmp_path):
    annotations = tmp_path / "val.json"
    annotations.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    (tmp_path / "images").mkdir()
    return annotations, tmp_path / "images"


def _config(overrides):
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        return compose("train", overrides=["exp=lightning", "data=synthetic", *overrides])


def test_training_validation_passes_the_eval_group_to_evaluate(val_files, tmp_path, monkeypatch):
    annotations, images = val_files
    cfg = _config([f"data.val_annotations={annotations}", f"data.val_images={images}", "eval.crop=person",
                   "eval.crop_scale=1.5", "eval.batch_size=3", "eval.max_images=7", "train.precise_batch_norm_batches=0",
                   "train.val_summary_images=0"])
    calls = []

    def fake_evaluate(predictor, **kwargs):
        calls.append(kwargs)
        return {"AP": 0.5}

    import movenet_train.evaluation as evaluation

    monkeypatch.setattr(evaluation, "evaluate", fake_evaluate)
    spec = MoveNetSpec.from_config(cfg.model)
    train_cfg = config_from(TrainConfig, cfg.train, "train")
    validate = validation.validation_callback(cfg, train_cfg, spec, str(tmp_path / "run"), chief=True, worker=0)
    output = validate(build_model(spec), step=5)

    assert output == {"coco/AP": 0.5}
    (kwargs,) = calls
    assert kwargs["crop"] == "person" and kwargs["crop_scale"] == 1.5
    assert kwargs["batch_size"] == 3 and kwargs["max_images"] == 7
    assert kwargs["annotations"] == str(annotations) and kwargs["images"] == str(images)
    assert kwargs["protocol"] == "single_person"  # from the model, as eval.protocol is null
    assert (tmp_path / "run" / "model" / "movenet.json").exists()


def test_eval_annotations_override_the_data_split_and_multi_pose_defaults_to_multi_person(val_files):
    annotations, images = val_files
    cfg = _config([f"eval.annotations={annotations}", f"eval.images={images}", "data.val_annotations=/nonexistent"])
    options = validation.validation_eval_options(cfg, MoveNetSpec(name="m", alpha=1.5, input_size=256, multi_pose=True))
    assert options["annotations"] == str(annotations) and options["protocol"] == "multi_person"
    assert options["max_images"] == 500  # configs/train.yaml's validation default


def test_no_validation_files_means_no_coco_ap(tmp_path):
    cfg = _config([f"data.val_annotations={tmp_path}/missing.json"])
    spec = MoveNetSpec.from_config(cfg.model)
    assert validation.validation_eval_options(cfg, spec) is None

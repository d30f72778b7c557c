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


def test_without_validation_records_or_annotations_the_run_has_no_validation_and_says_why(tmp_path):
    """``data.val_records=null`` once ended a run in a TypeError (a glob of None); now the run has no validation
    loss, and without annotations no AP: one log line says so, and the last line replaces ``AP=``."""
    spec = MoveNetSpec.from_config(_config([]).model)
    cfg = _config(["data.val_records=null", "data.val_annotations=null"])
    plan = validation.validation_plan(cfg, config_from(TrainConfig, cfg.train, "train"), spec)
    assert plan.records is None and plan.eval_options is None
    assert plan.skipped().startswith("no validation set (data.val_records=null, data.val_annotations=null)")
    assert plan.final_line() == "no AP: no validation set was given (data.val_records=null, data.val_annotations=null)"
    # Annotations without records: the AP stays, the loss goes.
    annotations = tmp_path / "val.json"
    annotations.write_text("{}")
    cfg = _config(["data.val_records=null", f"data.val_annotations={annotations}", f"data.val_images={tmp_path}"])
    plan = validation.validation_plan(cfg, config_from(TrainConfig, cfg.train, "train"), spec)
    assert plan.records is None and plan.eval_options["annotations"] == str(annotations)
    assert plan.skipped() == "no validation loss (data.val_records=null)"
    # train.validate_every=0: neither, whatever the data gives.
    cfg = _config(["train.validate_every=0"])
    plan = validation.validation_plan(cfg, config_from(TrainConfig, cfg.train, "train"), spec)
    assert plan.off and plan.records is None and plan.eval_options is None
    assert plan.final_line() == "no AP: validation is off (train.validate_every=0)"
    with pytest.raises(ValueError, match="train.validate_every must be >= 0, got -1"):
        config_from(TrainConfig, _config(["train.validate_every=-1"]).train, "train")


def test_a_validation_point_without_records_runs_the_callback_alone():
    """Orbit would iterate over the missing dataset; the evaluator runs its callback (precise BatchNorm, model/,
    AP) on the EMA weights instead, with no loss reported."""
    import orbit
    import tensorflow as tf

    from movenet_train.training.trainer import MoveNetEvaluator

    spec = MoveNetSpec.from_config(_config([]).model)
    step = tf.Variable(7, dtype=tf.int64)
    calls = []

    def validate(model, at):
        calls.append(at)
        return {}

    evaluator = MoveNetEvaluator(object(), spec, type("Optimizer", (), {"iterations": step})(), None, None,
                                 tf.distribute.get_strategy(), validate)
    controller = orbit.Controller(global_step=step, evaluator=evaluator, strategy=tf.distribute.get_strategy())
    output = controller.evaluate(steps=2)
    assert calls == [7]
    assert not any(key.startswith("loss/") for key in output), output


def test_reading_null_records_names_the_key():
    from omegaconf import OmegaConf

    from movenet_train.data.pipeline import record_files
    from movenet_train.errors import UserError

    with pytest.raises(UserError, match="data.val_records is null"):
        record_files(OmegaConf.create({"val_records": None, "skip_corrupt": False}), "val")

"""model_files: the format of every kind of path, what a run folder resolves to, and the one compatibility check."""

import json
import os
import re
import types

import pytest
import tensorflow as tf
from omegaconf import OmegaConf

from movenet_train import model_files
from movenet_train.errors import UserError
from movenet_train.keypoints import DEFAULT_SCHEMA, KeypointSchema
from movenet_train.model_files import IncompatibleModelError, check_compatible, describe, file_format
from movenet_train.modeling import MoveNetSpec
from tests.helpers import REPO, TFJS, TFLITE_INT8_LIGHTNING, require_shared

LIGHTNING = MoveNetSpec("lightning", 1.0, 192)
THUNDER = MoveNetSpec("thunder", 1.75, 256)
MULTIPOSE = MoveNetSpec("multipose_lightning", 1.5, 256, multi_pose=True)


def body13():
    path = REPO / "configs" / "keypoints" / "body13.yaml"
    return KeypointSchema.from_config(OmegaConf.load(path), source="configs/keypoints/body13.yaml")


def _write_checkpoint(folder, number):
    """A small tf.train checkpoint with its 'checkpoint' state file, as CheckpointManager leaves it."""
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(float(number))), str(folder), 5)
    return manager.save(checkpoint_number=number)


def _run_folder(root, model=LIGHTNING, schema=None):
    """A training run's folder as train.py leaves it before its first validation: config and checkpoints."""
    run = root / "run"
    run.mkdir()
    cfg = {"model": {"name": model.name, "alpha": model.alpha, "input_size": model.input_size,
                     "multi_pose": model.multi_pose},
           "keypoints": None if schema is None else schema.to_dict()}
    OmegaConf.save(OmegaConf.create(cfg), run / model_files.TRAIN_CONFIG_FILE)
    _write_checkpoint(run / model_files.CHECKPOINTS_DIR, 3)
    return run, _write_checkpoint(run / model_files.CHECKPOINTS_DIR, 7)


def _write_model_folder(run, spec):
    """``<run>/model`` as validation writes it: a checkpoint and its movenet.json."""
    folder = run / model_files.MODEL_DIR
    prefix = tf.train.Checkpoint(v=tf.Variable(1.0)).write(str(folder / "model"))
    model_files.write_spec(str(folder), spec.with_schema(), prefix)
    return prefix


# -- format ------------------------------------------------------------------------------------------------

def test_format_of_google_files():
    require_shared(TFJS["lightning"], TFLITE_INT8_LIGHTNING)
    assert file_format(TFJS["lightning"]) == "tfjs"
    assert file_format(TFLITE_INT8_LIGHTNING) == "tflite"


def test_format_of_saved_model_onnx_and_checkpoints(tmp_path):
    saved_model = tmp_path / "saved_model"
    tf.saved_model.save(tf.Module(), str(saved_model))
    assert file_format(saved_model) == "saved_model"
    onnx = tmp_path / "movenet_lightning_heads.onnx"
    onnx.write_bytes(b"")  # the format goes by the extension; onnxruntime reads the content
    assert file_format(onnx) == "onnx"
    run, prefix = _run_folder(tmp_path)
    assert file_format(run) == "checkpoint"
    assert file_format(run / "checkpoints") == "checkpoint"
    assert file_format(prefix) == "checkpoint"  # a prefix: no file of that name, only prefix.index / .data-*
    assert not os.path.exists(prefix)


def test_format_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(f"model file {tmp_path / 'nothing.tflite'} does not exist")):
        file_format(tmp_path / "nothing.tflite")
    _, prefix = _run_folder(tmp_path)
    with pytest.raises(UserError, match=r"ckpt-7\.index is not a model file: .*goes by its prefix, without \.index"):
        file_format(prefix + ".index")


# -- resolution --------------------------------------------------------------------------------------------

def test_run_folder_without_model_resolves_to_its_latest_checkpoint(tmp_path):
    run, latest = _run_folder(tmp_path, schema=body13())
    found = describe(run)
    assert (found.format, found.resolved) == ("checkpoint", latest)
    assert found.spec_file == str(run / "train_config.yaml")
    assert (found.spec.name, found.spec.alpha, found.spec.input_size) == ("lightning", 1.0, 192)
    assert found.schema == body13()
    # Its checkpoints/ folder and an earlier checkpoints/ckpt-N get the run's spec too.
    assert describe(run / "checkpoints").resolved == latest
    earlier = describe(run / "checkpoints" / "ckpt-3")
    assert earlier.resolved == str(run / "checkpoints" / "ckpt-3") and earlier.spec == found.spec


def test_run_folder_with_model_resolves_to_it(tmp_path):
    run, _ = _run_folder(tmp_path)
    prefix = _write_model_folder(run, LIGHTNING)
    found = describe(run)
    assert found.resolved == prefix and found.spec_file == str(run / "model" / "movenet.json")
    assert found.spec == LIGHTNING.with_schema() and found.schema == DEFAULT_SCHEMA
    assert model_files.loaded_files(run) == [found.spec_file] + sorted(
        str(p) for p in (run / "model").glob("model.*"))


def test_folder_without_a_checkpoint_and_loose_prefix(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(f"{tmp_path} holds no checkpoint")):
        describe(tmp_path)
    prefix = _write_checkpoint(tmp_path / "loose", 1)
    found = describe(prefix)
    assert (found.resolved, found.spec, found.schema, found.spec_file) == (prefix, None, None, None)


def test_google_and_exported_files(tmp_path):
    require_shared(TFJS["lightning"])
    found = describe(TFJS["lightning"])
    assert (found.format, found.resolved, found.spec) == ("tfjs", str(TFJS["lightning"]), None)
    assert found.schema is DEFAULT_SCHEMA  # Google's files carry no keypoints.json
    assert model_files.loaded_files(TFJS["lightning"]) == [str(TFJS["lightning"]),
                                                           str(TFJS["lightning"].with_suffix(".bin"))]
    # An exported file's schema is the keypoints.json export wrote beside it.
    exported = tmp_path / "movenet_lightning_heads.onnx"
    exported.write_bytes(b"")
    (tmp_path / model_files.SCHEMA_FILE).write_text(json.dumps(body13().to_dict()))
    assert describe(exported).schema == body13()
    with pytest.raises(UserError, match=r"predicts 17 keypoints but its schema .* has 13; put the keypoints.json"):
        model_files.exported_schema(exported, 17)


# -- the compatibility check -------------------------------------------------------------------------------

def test_variant_mismatch():
    with pytest.raises(IncompatibleModelError) as err:
        check_compatible("thunder.json", THUNDER, LIGHTNING)
    assert str(err.value) == ("thunder.json holds MoveNet thunder (alpha 1.75, single-pose) but the config asks for "
                              "MoveNet lightning (alpha 1.0, single-pose): pass +exp=thunder, or leave +exp= out to "
                              "use the file's own variant")
    # A .tflite / SavedModel / ONNX predictor knows single- or multi-pose, not its width.
    single = types.SimpleNamespace(multi_pose=False, input_size=192, schema=DEFAULT_SCHEMA)
    with pytest.raises(IncompatibleModelError, match=r"^m.tflite holds a single-pose MoveNet but the config asks for "
                       r"MoveNet multipose_lightning \(alpha 1.5, multi-pose\): leave \+exp= out"):
        check_compatible("m.tflite", single, MULTIPOSE)


def test_input_size_mismatch(tmp_path):
    predictor = types.SimpleNamespace(multi_pose=False, input_size=192, schema=DEFAULT_SCHEMA)
    with pytest.raises(IncompatibleModelError) as err:
        check_compatible("m.tflite", predictor, THUNDER)
    assert str(err.value) == ("m.tflite takes 192x192 input but the config asks for 256x256 input (MoveNet thunder): "
                              "pass model.input_size=192, or leave +exp= out to use the file's own variant")
    # A checkpoint is checked against the size it was trained at; Keras would run it at any, but only on purpose
    # (input_size=, tests/test_input_size.py).
    run, _ = _run_folder(tmp_path)
    with pytest.raises(IncompatibleModelError) as err:
        check_compatible(run, describe(run), MoveNetSpec("lightning", 1.0, 256))
    assert str(err.value) == (f"{run} was trained at 192x192 input but the config asks for 256x256 input (MoveNet "
                              "lightning): pass model.input_size=192 or +exp=lightning, or leave +exp= out to use the "
                              "file's own variant; to run it at 256 px on purpose, pass input_size=256 (eval, export, "
                              "predict)")
    check_compatible(run, describe(run), model_files.asked_of_file(MoveNetSpec("lightning", 1.0, 256), 256))


def test_schema_mismatch(tmp_path):
    run, _ = _run_folder(tmp_path, schema=body13())
    with pytest.raises(IncompatibleModelError) as err:
        check_compatible(run, describe(run), MoveNetSpec("lightning", 1.0, 192, keypoints=DEFAULT_SCHEMA))
    assert str(err.value) == (
        f"{run} predicts the keypoint schema 'body13' (13 joints) but the config asks for the keypoint schema "
        f"'coco17' (17 joints, {DEFAULT_SCHEMA.source}): leave keypoints= out to use the file's own schema; to train "
        "'coco17' from these weights, pass the file as checkpoint= to train.py (fine-tuning copies the joints that "
        "keep their name)")
    # keypoints= without a model: only the schema is compared.
    with pytest.raises(IncompatibleModelError, match="predicts the keypoint schema 'body13'"):
        check_compatible(run, describe(run), DEFAULT_SCHEMA)
    check_compatible(run, describe(run), body13())
    # A config without keypoints= leaves the schema to the file.
    check_compatible(run, describe(run), LIGHTNING)


def test_nothing_asked_and_the_callers_fix():
    check_compatible("any", THUNDER, None)
    with pytest.raises(IncompatibleModelError, match=r"^run folder r holds MoveNet thunder .*: start a new run$"):
        check_compatible("run folder r", THUNDER, LIGHTNING, fix="start a new run")


def test_a_run_resumes_only_with_the_model_it_was_started_with(tmp_path):
    from movenet_train.training.run_folder import check_run_model

    run, _ = _run_folder(tmp_path, schema=body13())
    check_run_model(str(run), MoveNetSpec("lightning", 1.0, 192, keypoints=body13()))
    with pytest.raises(IncompatibleModelError, match=f"^run folder {re.escape(str(run))} predicts the keypoint schema "
                       f"'body13' .*: resume it with .*{re.escape(str(run / 'train_config.yaml'))}\\), or pass "
                       "another run_name="):
        check_run_model(str(run), LIGHTNING.with_schema())
    with pytest.raises(IncompatibleModelError, match=r"holds MoveNet lightning .* asks for MoveNet thunder"):
        check_run_model(str(run), MoveNetSpec("thunder", 1.75, 256, keypoints=body13()))
    # a config without a train section (older runs) is a float run
    with pytest.raises(UserError, match=r"holds a float run .*: resume it with train.qat=false"):
        check_run_model(str(run), MoveNetSpec("lightning", 1.0, 192, keypoints=body13()), qat=True)
    cfg = OmegaConf.load(run / model_files.TRAIN_CONFIG_FILE)
    cfg.train = {"qat": True}
    OmegaConf.save(cfg, run / model_files.TRAIN_CONFIG_FILE)
    check_run_model(str(run), MoveNetSpec("lightning", 1.0, 192, keypoints=body13()), qat=True)
    with pytest.raises(UserError, match=r"holds a quantisation-aware run .*: resume it with train.qat=true"):
        check_run_model(str(run), MoveNetSpec("lightning", 1.0, 192, keypoints=body13()))

"""Exporting a quantisation-aware run with ``+exp`` (issue #30): the variant ``+exp`` names is only checked against
the run; the network is the run's own (``checkpoints.restored_spec``), quantisation-aware where its ``train.qat``
is, so ``export/export.py +exp=lightning checkpoint=<qat run> formats=[tflite_int8]`` exports it, and a run of
another variant is one ``error:`` line."""

import dataclasses

import pytest
import tensorflow as tf
from omegaconf import OmegaConf

from movenet_train import model_files
from movenet_train.checkpoints import restored_spec
from movenet_train.jobs import export
from movenet_train.keypoints import DEFAULT_SCHEMA
from movenet_train.model_files import IncompatibleModelError
from movenet_train.modeling import MoveNetSpec
from tests.in_process import run_main

LIGHTNING = MoveNetSpec("lightning", 1.0, 192)
THUNDER = MoveNetSpec("thunder", 1.75, 256)


def fake_qat_run(root, with_model):
    """A ``train.qat`` run folder as training leaves it, with placeholder weights: ``train_config.yaml``,
    ``checkpoints/ckpt-4``, and with ``with_model`` the ``model/`` validation writes (its movenet.json records the
    quantisation-aware spec); without it, the spec comes from ``train_config.yaml`` and its ``train.qat``."""
    run = root / "run"
    run.mkdir()
    config = {"model": {"name": "lightning", "alpha": 1.0, "input_size": 192, "multi_pose": False},
              "keypoints": None, "train": {"qat": True}}
    OmegaConf.save(OmegaConf.create(config), run / model_files.TRAIN_CONFIG_FILE)
    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
    tf.train.CheckpointManager(checkpoint, str(run / model_files.CHECKPOINTS_DIR), 2).save(checkpoint_number=4)
    if with_model:
        folder = run / model_files.MODEL_DIR
        prefix = checkpoint.write(str(folder / "model"))
        model_files.write_spec(str(folder), dataclasses.replace(LIGHTNING.with_schema(), qat=True), prefix)
    return run


@pytest.mark.parametrize("with_model", [True, False], ids=["model_folder", "checkpoints_only"])
def test_exp_is_checked_and_the_run_builds_its_own_network(tmp_path, with_model):
    run = fake_qat_run(tmp_path, with_model)
    _, own = restored_spec(str(run))  # no +exp
    _, spec = restored_spec(str(run), LIGHTNING)  # +exp=lightning: checked, not built
    assert spec.qat and own == spec
    assert spec.name == "lightning" and spec.schema == DEFAULT_SCHEMA
    with pytest.raises(IncompatibleModelError, match=r"was trained at 192x192 input .*: pass model.input_size=192"):
        restored_spec(str(run), dataclasses.replace(LIGHTNING, input_size=256))  # not at another size by chance
    assert restored_spec(str(run), LIGHTNING, input_size=256)[1].input_size == 256  # on purpose (input_size=256)
    with pytest.raises(IncompatibleModelError, match=r"holds MoveNet lightning .* asks for MoveNet thunder"):
        restored_spec(str(run), THUNDER)


def test_exporting_a_run_as_another_variant_is_one_error_line(tmp_path):
    run = fake_qat_run(tmp_path, with_model=True)
    output = tmp_path / "exported"
    result = run_main(export.main, "exp=thunder", f"checkpoint={run}", "formats=[tflite_int8]", f"output={output}")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {run} holds MoveNet lightning (alpha 1.0, single-pose) but the config asks for "
                      "MoveNet thunder (alpha 1.75, single-pose): pass +exp=lightning, or leave +exp= out to use the "
                      "file's own variant"], result.stderr[-3000:]
    assert not output.exists()

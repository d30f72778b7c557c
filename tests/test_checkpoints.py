"""Checkpoint folders: what is hashed is what is loaded; training runs restore without +exp."""

import numpy as np
import pytest
import tensorflow as tf
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from movenet_train import checkpoints
from movenet_train.errors import UserError
from movenet_train.modeling import MoveNetSpec, build_model
from tests.helpers import REPO

LIGHTNING = MoveNetSpec("lightning", 1.0, 192)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A training run as train.py leaves it: train_config.yaml, checkpoints/ckpt-N, model/, events."""
    run = tmp_path_factory.mktemp("run")
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=["exp=lightning", f"output_dir={run}"])
    OmegaConf.save(cfg, run / "train_config.yaml")
    model = build_model(LIGHTNING)
    model.get_layer("Conv1").kernel.assign_add(tf.ones_like(model.get_layer("Conv1").kernel))
    prefix = tf.train.Checkpoint(model=model).write(str(run / "checkpoints" / "ckpt-7"))
    return run, prefix, model


def test_run_folder_hash_is_its_model_folder_not_events_or_other_checkpoints(run_folder, tmp_path):
    run, prefix, model = run_folder
    checkpoints.save_model_checkpoint(model, LIGHTNING, str(run / "model"), overwrite=True)
    before = checkpoints.sha256_of(run)
    assert before == checkpoints.sha256_of(run / "model")
    (run / "tensorboard").mkdir(exist_ok=True)
    (run / "tensorboard" / "events.out").write_bytes(b"more events")
    tf.train.Checkpoint(model=build_model(LIGHTNING)).write(str(run / "checkpoints" / "ckpt-9"))
    assert checkpoints.sha256_of(run) == before
    # The prefix alone hashes its own .index and .data files.
    assert checkpoints.sha256_of(prefix) != before


def test_training_checkpoint_prefix_restores_with_the_runs_spec(run_folder):
    _, prefix, model = run_folder
    restored, spec = checkpoints.restore_model(prefix)
    assert (spec.name, spec.alpha, spec.input_size) == ("lightning", 1.0, 192)
    np.testing.assert_array_equal(restored.get_layer("Conv1").kernel.numpy(), model.get_layer("Conv1").kernel.numpy())


def test_checkpoint_without_any_spec_names_what_to_pass(tmp_path):
    prefix = tf.train.Checkpoint(model=build_model(LIGHTNING)).write(str(tmp_path / "loose" / "ckpt-1"))
    with pytest.raises(UserError, match=r"no movenet.json and is not in a training run folder .*\+exp="):
        checkpoints.restore_model(prefix)
    model, spec = checkpoints.restore_model(prefix, default_spec=LIGHTNING)  # what fine-tuning passes
    assert spec == LIGHTNING.with_schema() or spec == LIGHTNING

"""Multi-worker resume: a worker's checkpoints cut back to the step all workers have (the end-to-end restart is
``test_train_distributed.py::test_multi_worker_resumes_after_a_worker_dies``)."""

import os

import pytest
import tensorflow as tf

from movenet_train.checkpoints import checkpoint_step
from movenet_train.errors import UserError
from movenet_train.training.resume import agree_on_resume_step, keep_checkpoints_up_to


def _checkpoints(directory, steps):
    """Training-like checkpoints (an ``optimizer/iter`` step counter) of ``steps`` in ``directory``."""
    iterations = tf.Variable(0, dtype=tf.int64)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(optimizer=tf.train.Checkpoint(iter=iterations)),
                                         str(directory), max_to_keep=3)
    for step in steps:
        iterations.assign(step)
        manager.save(checkpoint_number=step)


def test_the_one_unmatched_newest_checkpoint_is_discarded(tmp_path):
    _checkpoints(tmp_path, [2, 4, 6])
    keep_checkpoints_up_to(str(tmp_path), 4)
    assert checkpoint_step(tf.train.latest_checkpoint(str(tmp_path))) == 4
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index",
                                            "ckpt-4.data-00000-of-00001", "ckpt-4.index"]
    keep_checkpoints_up_to(str(tmp_path), 4)  # nothing newer: unchanged
    assert checkpoint_step(tf.train.latest_checkpoint(str(tmp_path))) == 4


def test_a_first_checkpoint_another_worker_lacks_means_starting_afresh(tmp_path):
    _checkpoints(tmp_path, [2])
    keep_checkpoints_up_to(str(tmp_path), 0)
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


@pytest.mark.parametrize("step", [2, 3], ids=["two_newer", "step_missing"])
def test_folders_of_different_runs_are_an_error(tmp_path, step):
    _checkpoints(tmp_path, [2, 4, 6] if step == 2 else [2, 4])
    with pytest.raises(UserError, match=rf"the workers' checkpoints do not match: .* another worker's newest is "
                                         rf"step {step}"):
        keep_checkpoints_up_to(str(tmp_path), step)
    assert checkpoint_step(tf.train.latest_checkpoint(str(tmp_path))) in (4, 6)  # nothing deleted


def test_one_process_has_nothing_to_agree_on(tmp_path):
    _checkpoints(tmp_path, [2, 4])
    assert agree_on_resume_step(tf.distribute.get_strategy(), str(tmp_path)) is None
    assert checkpoint_step(tf.train.latest_checkpoint(str(tmp_path))) == 4

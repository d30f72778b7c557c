"""End-to-end training on several replicas: mirrored on two logical CPUs, multi-worker (resuming when a worker
dies), and with its batches from tf.data service workers."""

import gc
import re
import subprocess
import sys

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from movenet_train.checkpoints import checkpoint_step
from movenet_train.training.resume import keep_checkpoints_up_to
from tests.helpers import REPO, newest_checkpoint_step, start_workers, wait_until
from tests.training.synthetic_runs import RUNNER, assert_same_weights, run_overrides, scalars, teacher_overrides


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus(synthetic_root, tmp_path):
    """With a teacher in the step (its own upright view carried to each replica's examples)."""
    run_dir = tmp_path / "mirrored"
    overrides = run_overrides(synthetic_root, run_dir, steps=2, strategy="mirrored",
                           devices='["/cpu:0","/cpu:1"]', **teacher_overrides(True))
    result = subprocess.run([sys.executable, RUNNER, "2", *overrides], cwd=REPO, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "final step 2" in result.stdout
    assert "num_replicas_in_sync=2" in result.stdout + result.stderr
    distill = scalars(run_dir / "tensorboard" / "train", "loss/distill/total")
    assert distill and all(np.isfinite(v) and v > 0 for _, v in distill), distill


@pytest.mark.slow
def test_multi_worker_resumes_after_a_worker_dies(synthetic_root, tmp_path):
    """Two workers on this machine; worker 1 is killed mid-run, then the chief, which cannot go on without it (a
    cluster manager restarts the whole job). Worker 1 is left one checkpoint behind, as when it dies while they
    save. Restarted, both resume from the same step and end with the same weights."""
    run_dir = tmp_path / "multi_worker"
    chief_dir, other_dir = run_dir / "checkpoints", run_dir / "checkpoints" / "worker_1"
    command = [sys.executable, RUNNER, "1", *run_overrides(synthetic_root, run_dir, steps=6, steps_per_loop=1,
                                                        checkpoint_every=1, strategy="multi_worker")]
    (tmp_path / "first").mkdir()
    workers, logs = start_workers(command, 2, tmp_path / "first")
    two_saved = wait_until(lambda: (other_dir / "checkpoint").exists() and newest_checkpoint_step(other_dir) >= 2,
                           workers, timeout=600)
    for worker in reversed(workers):
        worker.kill()
        worker.wait()
    assert two_saved, logs[1].read_text()[-3000:]
    if newest_checkpoint_step(other_dir) == newest_checkpoint_step(chief_dir):
        # What a worker that died while the workers saved leaves: no newest checkpoint.
        keep_checkpoints_up_to(str(other_dir), newest_checkpoint_step(other_dir) - 1)
    agreed = min(newest_checkpoint_step(other_dir), newest_checkpoint_step(chief_dir))
    assert 1 <= agreed < 6
    chief_ahead = newest_checkpoint_step(chief_dir) > agreed

    (tmp_path / "restart").mkdir()
    workers, logs = start_workers(command, 2, tmp_path / "restart")
    for worker, log in zip(workers, logs):
        assert worker.wait(timeout=600) == 0, log.read_text()[-3000:]
    chief_log, other_log = (log.read_text() for log in logs)
    assert re.search(r"resuming from (\S+)", chief_log).group(1) == str(chief_dir / f"ckpt-{agreed}")
    assert re.search(r"resuming from (\S+)", other_log).group(1) == str(other_dir / f"ckpt-{agreed}")
    assert (f"not every worker saved step {agreed + 1}" in chief_log) == chief_ahead
    assert "final step 6" in chief_log
    # The workers' replicas stayed in step: the same weights and step counter in both final checkpoints.
    assert_same_weights(chief_dir / "ckpt-6", other_dir / "ckpt-6")
    assert checkpoint_step(str(chief_dir / "ckpt-6")) == checkpoint_step(str(other_dir / "ckpt-6")) == 6


@pytest.mark.slow
def test_trains_from_tf_data_service_workers(synthetic_root, tmp_path, capsys):
    """``data.service``: an in-process dispatcher and two workers on localhost run the training pipeline (the run
    has no other source of batches: without them it would wait forever)."""
    from movenet_train.data import service
    from movenet_train.training import train

    dispatcher = service.start_dispatcher()
    workers = [service.start_worker(dispatcher.target) for _ in range(2)]
    run_dir = tmp_path / "service"
    overrides = run_overrides(synthetic_root, run_dir, steps=4, checkpoint_every=4) + [f"data.service={dispatcher.target}"]
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=overrides)
    try:
        train(cfg)
    finally:
        gc.collect()  # the run's iterator, whose client would call the stopped dispatcher every second
        for server in workers + [dispatcher]:
            server.stop()
    assert f"training input pipeline on the tf.data service {dispatcher.target}" in capsys.readouterr().out
    losses = scalars(run_dir / "tensorboard" / "train", "loss/total")
    assert [step for step, _ in losses] == [2, 4] and all(np.isfinite(v) for _, v in losses), losses

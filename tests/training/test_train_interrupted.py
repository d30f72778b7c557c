"""End-to-end training resumes after SIGKILL and SIGTERM with the weights of an uninterrupted run."""

import os
import re
import signal
import subprocess

import pytest

from movenet_train.checkpoints import checkpoint_step
from tests.helpers import REPO, kill_at_first_checkpoint, wait_until
from tests.training.synthetic_runs import assert_same_weights, teacher_overrides, train_command


@pytest.fixture(scope="module")
def uninterrupted(synthetic_root, tmp_path_factory):
    """``final_checkpoint(**train)``: the last checkpoint of an uninterrupted deterministic 12-step run with these
    train overrides, trained once for the module: what an interrupted and resumed run must end with."""
    runs = {}

    def final_checkpoint(**train):
        key = tuple(sorted(train.items()))
        if key not in runs:
            run_dir = tmp_path_factory.mktemp("uninterrupted")
            result = subprocess.run(train_command(synthetic_root, run_dir, steps=12, deterministic=True, **train),
                                    cwd=REPO, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
            assert "final step 12" in result.stdout + result.stderr
            runs[key] = run_dir / "checkpoints" / "ckpt-12"
        return runs[key]

    return final_checkpoint


def _resume(command, saved):
    """Runs ``command`` again; checks that it resumed from ``ckpt-<saved>`` and reached step 12."""
    resumed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert re.search(r"resuming from \S+", log).group(0).endswith(f"ckpt-{saved}")
    assert "final step 12" in log


@pytest.mark.slow
def test_resume_after_sigkill(synthetic_root, tmp_path, uninterrupted):
    run_dir = tmp_path / "killed"
    command = train_command(synthetic_root, run_dir, steps=12, deterministic=True)
    saved = kill_at_first_checkpoint(command, run_dir, final_step=12, timeout=300)
    _resume(command, saved)
    # Same step counter, schedule and data position: the resumed run ends with the same weights.
    assert_same_weights(run_dir / "checkpoints" / "ckpt-12", uninterrupted())


@pytest.mark.slow
def test_resume_after_sigterm(synthetic_root, tmp_path, uninterrupted):
    """SIGTERM (a cluster's notice before it preempts the job) in the middle of a loop: a checkpoint of the step
    reached, exit 0 with the way to resume; the same command ends with an uninterrupted run's weights. With a
    teacher in the step (its upright view and carried maps), so that one interrupted run checks both: the teacher
    and its view resume at the same example as the student (the SIGKILL test resumes a plain run)."""
    run_dir = tmp_path / "preempted"
    teacher = teacher_overrides(True)
    # No checkpoint but the one the signal writes (the uninterrupted run saves every 2 steps: no matter).
    command = train_command(synthetic_root, run_dir, steps=12, deterministic=True, steps_per_loop=4,
                             checkpoint_every=1000, **teacher)
    log = tmp_path / "preempted.log"
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
    # Orbit logs "train | step: 4 | ..." after the first loop of 4 steps; the signal comes after it.
    started = wait_until(lambda: re.search(r"train \| step: +[1-9]", log.read_text()), [process], timeout=300)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=300) == 0, log.read_text()[-3000:]
    assert started, log.read_text()[-3000:]
    stopped = re.search(r"preempted at step (\d+) \(SIGTERM\): checkpoint written to (\S+); run the same command "
                        r"again to resume", log.read_text())
    assert stopped, log.read_text()[-3000:]
    saved = int(stopped.group(1))
    assert 4 <= saved < 12, "the signal came after the run ended"
    assert stopped.group(2) == str(run_dir / "checkpoints" / f"ckpt-{saved}")
    assert checkpoint_step(stopped.group(2)) == saved
    assert sorted(os.listdir(run_dir / "checkpoints")) == ["checkpoint", f"ckpt-{saved}.data-00000-of-00001",
                                                          f"ckpt-{saved}.index"]

    _resume(command, saved)
    assert_same_weights(run_dir / "checkpoints" / "ckpt-12", uninterrupted(**teacher))

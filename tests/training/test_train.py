"""End-to-end training: it learns, it resumes after SIGKILL and SIGTERM, it runs mirrored and multi-worker (and
resumes when a worker dies), it reads its batches from tf.data service workers."""

import gc
import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from hydra import compose, initialize_config_dir

from movenet_train.preprocessing import letterbox, load_rgb, unletterbox
from movenet_train.runtime import load_predictor
from movenet_train.checkpoints import checkpoint_step
from movenet_train.training.resume import keep_checkpoints_up_to
from tests.helpers import (REPO, TFJS, kill_at_first_checkpoint, newest_checkpoint_step, require_shared, start_workers,
                           wait_until)

RUNNER = os.path.join(os.path.dirname(__file__), "run_training.py")


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    """A handful of synthetic images, generated once for the module."""
    from movenet_train.data import ensure_synthetic_dataset
    from movenet_train.keypoints import KeypointSchema

    root = tmp_path_factory.mktemp("synthetic") / "data"
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=["data=synthetic", f"data.root={root}", "data.num_train_images=8",
                                          "data.num_val_images=4"])
    ensure_synthetic_dataset(cfg.data, progress=False, schema=KeypointSchema.from_config(cfg.keypoints))
    return root


def _overrides(root, run_dir, **train):
    settings = {"batch_size": 4, "steps_per_loop": 2, "checkpoint_every": 2, "validate_every": 1000,
                "val_batches": 1, "val_summary_images": 1, "progress_bar": False,
                "optimizer.warmup_steps": 2, **train}
    return (["exp=lightning", "data=synthetic", f"data.root={root}", "data.num_train_images=8",
             "data.num_val_images=4", f"output_dir={run_dir}", "eval.max_images=2"] + [f"train.{k}={v}" for k, v in settings.items()])


def _scalars(event_dir, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(event_dir), size_guidance={"tensors": 0})
    events.Reload()
    return [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]


@pytest.mark.slow
def test_lightning_learns_a_handful_of_synthetic_images(synthetic_root, tmp_path):
    from movenet_train.training import train

    run_dir = tmp_path / "run"
    overrides = _overrides(synthetic_root, run_dir, steps=300, batch_size=8, steps_per_loop=25,
                           checkpoint_every=300, ema_decay="null", **{"optimizer.learning_rate": 3e-3,
                                                                     "optimizer.warmup_steps": 20})
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=overrides + ["data/augment=none"])
    train(cfg)
    losses = _scalars(run_dir / "tensorboard" / "train", "loss/total")
    assert losses[-1][0] == 300
    assert losses[-1][1] < 0.25 * losses[0][1], losses

    # Decode the trained model on the training images: keypoints within a few pixels of their labels.
    with open(synthetic_root / "train" / "annotations.json") as f:
        coco = json.load(f)
    predictor = load_predictor(run_dir)
    errors = []
    for image_info in coco["images"]:
        people = [a for a in coco["annotations"] if a["image_id"] == image_info["id"] and a["num_keypoints"]]
        image = load_rgb(synthetic_root / "train" / "images" / image_info["file_name"])
        out = predictor(tf.cast(letterbox(image[None], 192, 192), tf.uint8).numpy())[0, 0]
        yx = unletterbox(out[:, :2], image.shape[0], image.shape[1], 192, 192)
        # The labelled person nearest the prediction (images can hold extra people).
        label = min((np.array(a["keypoints"], float).reshape(17, 3) for a in people),
                    key=lambda k: np.abs(k[:, [1, 0]] - yx)[k[:, 2] > 0].mean())
        visible = label[:, 2] > 0
        errors.append(np.linalg.norm(label[visible][:, [1, 0]] - yx[visible], axis=1))
    errors = np.concatenate(errors)
    assert np.median(errors) < 4.0, f"median keypoint error {np.median(errors):.1f} px"


def _train_command(root, run_dir, **train):
    # The same command line a user types (train.py), with the run folder pinned.
    overrides = [o for o in _overrides(root, run_dir, **train) if not o.startswith("output_dir=")]
    return [sys.executable, str(REPO / "train.py"), *overrides, f"hydra.run.dir={run_dir}"]


def _teacher(teacher):
    """Train overrides of a teacher run: released Lightning teaching from its own upright view."""
    if not teacher:
        return {}
    require_shared(TFJS["lightning"])
    return {"teacher": str(TFJS["lightning"]), "distill.view": "upright"}


def _model_weights(prefix):
    """{name: value} of the model's variables in a training checkpoint."""
    reader = tf.train.load_checkpoint(str(prefix))
    names = [n for n in reader.get_variable_to_shape_map() if n.startswith("model/") and n.endswith("VARIABLE_VALUE")]
    assert len(names) > 100
    return {name: reader.get_tensor(name) for name in names}


def _assert_same_weights(a, b):
    a, b = _model_weights(a), _model_weights(b)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.fixture(scope="module")
def uninterrupted(synthetic_root, tmp_path_factory):
    """``final_checkpoint(**train)``: the last checkpoint of an uninterrupted deterministic 12-step run with these
    train overrides, trained once for the module: what an interrupted and resumed run must end with."""
    runs = {}

    def final_checkpoint(**train):
        key = tuple(sorted(train.items()))
        if key not in runs:
            run_dir = tmp_path_factory.mktemp("uninterrupted")
            result = subprocess.run(_train_command(synthetic_root, run_dir, steps=12, deterministic=True, **train),
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
    command = _train_command(synthetic_root, run_dir, steps=12, deterministic=True)
    saved = kill_at_first_checkpoint(command, run_dir, final_step=12, timeout=300)
    _resume(command, saved)
    # Same step counter, schedule and data position: the resumed run ends with the same weights.
    _assert_same_weights(run_dir / "checkpoints" / "ckpt-12", uninterrupted())


@pytest.mark.slow
def test_resume_after_sigterm(synthetic_root, tmp_path, uninterrupted):
    """SIGTERM (a cluster's notice before it preempts the job) in the middle of a loop: a checkpoint of the step
    reached, exit 0 with the way to resume; the same command ends with an uninterrupted run's weights. With a
    teacher in the step (its upright view and carried maps), so that one interrupted run checks both: the teacher
    and its view resume at the same example as the student (the SIGKILL test resumes a plain run)."""
    run_dir = tmp_path / "preempted"
    teacher = _teacher(True)
    # No checkpoint but the one the signal writes (the uninterrupted run saves every 2 steps: no matter).
    command = _train_command(synthetic_root, run_dir, steps=12, deterministic=True, steps_per_loop=4,
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
    _assert_same_weights(run_dir / "checkpoints" / "ckpt-12", uninterrupted(**teacher))


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus(synthetic_root, tmp_path):
    """With a teacher in the step (its own upright view carried to each replica's examples)."""
    run_dir = tmp_path / "mirrored"
    overrides = _overrides(synthetic_root, run_dir, steps=2, strategy="mirrored",
                           devices='["/cpu:0","/cpu:1"]', **_teacher(True))
    result = subprocess.run([sys.executable, RUNNER, "2", *overrides], cwd=REPO, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "final step 2" in result.stdout
    assert "num_replicas_in_sync=2" in result.stdout + result.stderr
    distill = _scalars(run_dir / "tensorboard" / "train", "loss/distill/total")
    assert distill and all(np.isfinite(v) and v > 0 for _, v in distill), distill


@pytest.mark.slow
def test_multi_worker_resumes_after_a_worker_dies(synthetic_root, tmp_path):
    """Two workers on this machine; worker 1 is killed mid-run, then the chief, which cannot go on without it (a
    cluster manager restarts the whole job). Worker 1 is left one checkpoint behind, as when it dies while they
    save. Restarted, both resume from the same step and end with the same weights."""
    run_dir = tmp_path / "multi_worker"
    chief_dir, other_dir = run_dir / "checkpoints", run_dir / "checkpoints" / "worker_1"
    command = [sys.executable, RUNNER, "1", *_overrides(synthetic_root, run_dir, steps=6, steps_per_loop=1,
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
    _assert_same_weights(chief_dir / "ckpt-6", other_dir / "ckpt-6")
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
    overrides = _overrides(synthetic_root, run_dir, steps=4, checkpoint_every=4) + [f"data.service={dispatcher.target}"]
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=overrides)
    try:
        train(cfg)
    finally:
        gc.collect()  # the run's iterator, whose client would call the stopped dispatcher every second
        for server in workers + [dispatcher]:
            server.stop()
    assert f"training input pipeline on the tf.data service {dispatcher.target}" in capsys.readouterr().out
    losses = _scalars(run_dir / "tensorboard" / "train", "loss/total")
    assert [step for step, _ in losses] == [2, 4] and all(np.isfinite(v) for _, v in losses), losses

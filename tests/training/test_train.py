"""End-to-end training: it learns, it resumes after SIGKILL, it runs mirrored and multi-worker."""

import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from hydra import compose, initialize_config_dir

from movenet_train.preprocessing import letterbox, load_rgb, unletterbox
from movenet_train.runtime import load_predictor
from tests.helpers import REPO, TFJS, kill_at_first_checkpoint, require_shared

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


@pytest.mark.slow
@pytest.mark.parametrize("teacher", [False, True], ids=["plain", "teacher"])
def test_resume_after_sigkill(synthetic_root, tmp_path, teacher):
    run_dir = tmp_path / "killed"
    teacher = _teacher(teacher)
    command = _train_command(synthetic_root, run_dir, steps=12, deterministic=True, **teacher)
    saved = kill_at_first_checkpoint(command, run_dir, final_step=12, timeout=300)

    resumed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert f"ckpt-{saved}" in re.search(r"resuming from \S+", log).group(0)
    assert "final step 12" in log

    fresh_dir = tmp_path / "uninterrupted"
    fresh = subprocess.run(_train_command(synthetic_root, fresh_dir, steps=12, deterministic=True, **teacher), cwd=REPO,
                           capture_output=True, text=True, timeout=600)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "final step 12" in fresh.stdout + fresh.stderr
    # Same step counter, schedule and data position: the resumed run ends with the same weights.
    a = tf.train.load_checkpoint(str(run_dir / "checkpoints" / "ckpt-12"))
    b = tf.train.load_checkpoint(str(fresh_dir / "checkpoints" / "ckpt-12"))
    names = [n for n in a.get_variable_to_shape_map() if n.startswith("model/") and n.endswith("VARIABLE_VALUE")]
    assert len(names) > 100
    for name in names:
        np.testing.assert_allclose(a.get_tensor(name), b.get_tensor(name), atol=1e-5, err_msg=name)


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


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_weights_agree(synthetic_root, tmp_path):
    run_dir = tmp_path / "multi_worker"
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    overrides = _overrides(synthetic_root, run_dir, steps=1, steps_per_loop=1, checkpoint_every=1,
                           strategy="multi_worker")
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        workers.append(subprocess.Popen([sys.executable, RUNNER, "1", *overrides], cwd=REPO, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    assert "final step 1" in outputs[0][0]
    chief = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "checkpoints")))
    other = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "checkpoints" / "worker_1")))
    names = [n for n in chief.get_variable_to_shape_map() if n.startswith("model/") and n.endswith("VARIABLE_VALUE")]
    assert len(names) > 100
    for name in names:
        np.testing.assert_array_equal(chief.get_tensor(name), other.get_tensor(name), err_msg=name)
    (step_key,) = [n for n in chief.get_variable_to_shape_map() if n.startswith("optimizer/") and "/iter/" in n]
    assert int(chief.get_tensor(step_key)) == int(other.get_tensor(step_key)) == 1

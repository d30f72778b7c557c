"""Paths of the shared reference files and helpers that tests import (fixtures live in conftest.py)."""

import os
import pathlib

import numpy as np
import pytest

from movenet_train.runtime import Predictor

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("MOVENET_SHARED_DIR", REPO.parent / "shared"))
REFERENCE_MODELS = SHARED / "reference_models"
COCO_SAMPLE = SHARED / "data" / "coco_sample"
TFJS = {
    "lightning": REFERENCE_MODELS / "tfjs_human_models" / "movenet-lightning.json",
    "thunder": REFERENCE_MODELS / "tfjs_human_models" / "movenet-thunder.json",
    "multipose_lightning": REFERENCE_MODELS / "tfjs_human_models" / "movenet-multipose.json",
}
TFLITE_INT8_LIGHTNING = REFERENCE_MODELS / "tflite" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"


def require_shared(*paths):
    """Skip (or fail under MOVENET_REQUIRE_SHARED=1) when a ../shared file is absent."""
    missing = [str(p) for p in paths if not pathlib.Path(p).exists()]
    if missing:
        skip_unless_required(f"../shared data not found: {missing[0]} (set MOVENET_SHARED_DIR or place shared/ "
                             "beside the repo)")


def skip_unless_required(message):
    """Skips with ``message``, or fails under MOVENET_REQUIRE_SHARED=1 (CI: everything a test needs from outside
    the checkout must be there, so that a skip cannot pass for a success)."""
    if os.environ.get("MOVENET_REQUIRE_SHARED") == "1":
        pytest.fail(message + "; MOVENET_REQUIRE_SHARED=1 requires it")
    pytest.skip(message)


class ReplayPredictor(Predictor):
    """Returns prepared outputs in call order (evaluate() runs the selected images in file order), of the keypoint
    schema ``schema``."""

    kind = "replay"

    def __init__(self, outputs, schema, input_size=None, multi_pose=False):
        self.outputs, self.schema, self.input_size, self.multi_pose = list(outputs), schema, input_size, multi_pose
        self.shapes = []

    def __call__(self, images):
        self.shapes.extend(image.shape for image in images)
        assert images.dtype == np.uint8
        batch, self.outputs = self.outputs[:len(images)], self.outputs[len(images):]
        return np.stack(batch)


def wait_until(condition, processes, timeout):
    """Polls ``condition()`` until it holds, one of ``processes`` (``subprocess.Popen``) ends or ``timeout`` seconds
    pass; returns whether it holds."""
    import time

    deadline = time.time() + timeout
    while not condition() and all(p.poll() is None for p in processes) and time.time() < deadline:
        time.sleep(0.05)
    return condition()


def newest_checkpoint_step(checkpoints_dir):
    """The step in the name of the newest checkpoint the index of ``checkpoints_dir`` lists (``ckpt-<step>``)."""
    import re

    return int(re.search(r'^model_checkpoint_path: ".*ckpt-(\d+)"', (pathlib.Path(checkpoints_dir) / "checkpoint")
                         .read_text(), re.M).group(1))


def kill_at_first_checkpoint(command, run_dir, final_step, timeout=600):
    """Starts the training ``command``, SIGKILLs it as soon as its first checkpoint is written under
    ``run_dir/checkpoints`` and returns that checkpoint's step (checked to be before ``final_step``)."""
    import signal
    import subprocess

    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = pathlib.Path(run_dir) / "checkpoints" / "checkpoint"
    wait_until(index.exists, [process], timeout)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert index.exists(), "no checkpoint was written before the kill"
    saved = newest_checkpoint_step(index.parent)
    assert saved < final_step, "the run finished before it could be killed"
    return saved


def free_ports(n):
    """``n`` TCP ports free on localhost now."""
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(command, count, log_dir):
    """Starts ``command`` as the ``count`` workers of a ``MultiWorkerMirroredStrategy`` cluster on this machine
    (``TF_CONFIG`` on fresh ports); returns the processes and their output files ``log_dir/worker_<i>.log``."""
    import json
    import subprocess

    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(count)]}
    processes, logs = [], []
    for index in range(count):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        logs.append(pathlib.Path(log_dir) / f"worker_{index}.log")
        with open(logs[-1], "w") as log:
            processes.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
    return processes, logs

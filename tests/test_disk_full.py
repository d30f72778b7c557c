"""A full disk (ENOSPC) while writing a checkpoint, ``model/`` or an export: a clear error naming what could not be
written, no partial file left, and every earlier checkpoint still restorable.

ENOSPC is injected where the project writes; ``test_training_checkpoints_on_a_full_tmpfs`` fills a real 1 MB tmpfs
(in a user and mount namespace of its own) and skips where the machine does not allow one.
"""

import errno
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from movenet_train import checkpoints
from movenet_train.atomic import DiskFull, atomic_path, staging_folder
from movenet_train.modeling import MoveNetSpec, build_model
from tests.helpers import REPO

LIGHTNING = MoveNetSpec("lightning", 1.0, 192)


def _no_space(path="somewhere"):
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


def test_staging_folder_on_a_full_disk_keeps_the_previous_output(tmp_path):
    output = tmp_path / "exported"
    output.mkdir()
    (output / "model.tflite").write_bytes(b"previous")
    with pytest.raises(DiskFull, match=rf"disk full: could not write {output}"):
        with staging_folder(output, overwrite=True) as staging:
            (tmp_path / staging / "model.tflite").write_bytes(b"half")
            raise _no_space()
    assert (output / "model.tflite").read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["exported"]  # the staging folder is gone


def test_atomic_path_on_a_full_disk_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "report.json"
    with pytest.raises(DiskFull, match=rf"disk full: could not write {target}"):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as f:
                f.write("{")
            raise _no_space(tmp)
    assert os.listdir(tmp_path) == []


def test_other_errors_are_not_called_disk_full(tmp_path):
    with pytest.raises(PermissionError):
        with staging_folder(tmp_path / "out"):
            raise PermissionError(errno.EACCES, "denied")


def test_model_folder_on_a_full_disk_keeps_the_previous_model(tmp_path, monkeypatch):
    model = build_model(LIGHTNING)
    target = tmp_path / "run" / "model"
    checkpoints.save_model_checkpoint(model, LIGHTNING, target)
    before = model.get_layer("Conv1").kernel.numpy()
    model.get_layer("Conv1").kernel.assign_add(tf.ones_like(before))

    def full(*args, **kwargs):  # the checkpoint is written, then the disk fills up on movenet.json
        raise _no_space()

    monkeypatch.setattr(checkpoints.model_files, "write_spec", full)
    with pytest.raises(DiskFull, match=rf"could not write {target}"):
        checkpoints.save_model_checkpoint(model, LIGHTNING, target, overwrite=True)
    assert sorted(os.listdir(target.parent)) == ["model"]
    restored, _ = checkpoints.restore_model(str(target))
    np.testing.assert_array_equal(restored.get_layer("Conv1").kernel.numpy(), before)


def _manager(directory):
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(weights=tf.Variable(np.zeros([1000], np.float32)), step=step)
    return checkpoints.CheckpointManager(checkpoint, str(directory), max_to_keep=2, step_counter=step,
                                         checkpoint_interval=1), checkpoint, step


def test_training_checkpoint_on_a_full_disk_leaves_the_earlier_ones(tmp_path):
    directory = tmp_path / "checkpoints"
    manager, checkpoint, step = _manager(directory)
    for value in (1, 2):
        step.assign(value)
        checkpoint.weights.assign(tf.fill([1000], float(value)))
        manager.save(checkpoint_number=step)
    kept = sorted(os.listdir(directory))

    def full(prefix, options=None):  # TensorFlow's SaveV2 leaves its temporary folder behind on ENOSPC
        os.makedirs(f"{prefix}_temp")
        with open(f"{prefix}_temp/part-00000-of-00001.data-00000-of-00001.tempstate1", "wb") as f:
            f.write(b"half")
        raise tf.errors.ResourceExhaustedError(None, None, f"{prefix}_temp/part-00000-of-00001.data-00000-of-00001"
                                               f".tempstate1; {os.strerror(errno.ENOSPC)} [Op:SaveV2]")

    checkpoint._write = full
    step.assign(3)
    with pytest.raises(DiskFull, match=rf"disk full: could not write {directory / 'ckpt-3'} .*{directory / 'ckpt-2'}"):
        manager.save(checkpoint_number=step)
    assert sorted(os.listdir(directory)) == kept  # ckpt-1 and ckpt-2 (max_to_keep=2) and the index, nothing else
    for value in (1, 2):
        np.testing.assert_array_equal(tf.train.load_checkpoint(str(directory / f"ckpt-{value}")).get_tensor(
            "weights/.ATTRIBUTES/VARIABLE_VALUE"), np.full([1000], float(value)))
    assert tf.train.latest_checkpoint(str(directory)) == str(directory / "ckpt-2")  # what a resumed run restores


TMPFS_SAVES = """
import os, sys
import numpy as np
import tensorflow as tf
from movenet_train.atomic import DiskFull
from movenet_train.checkpoints import CheckpointManager

directory = sys.argv[1]
step = tf.Variable(0, dtype=tf.int64)
checkpoint = tf.train.Checkpoint(weights=tf.Variable(np.ones([100_000], np.float32)), step=step)  # 400 kB
manager = CheckpointManager(checkpoint, directory, max_to_keep=5, step_counter=step, checkpoint_interval=1)
for value in range(1, 10):
    step.assign(value)
    try:
        manager.save(checkpoint_number=step)
    except DiskFull as err:
        print("ERROR", err)
        break
print("FILES", sorted(os.listdir(directory)))
print("LATEST", tf.train.latest_checkpoint(directory))
for name in sorted(os.listdir(directory)):
    if name.endswith(".index"):
        reader = tf.train.load_checkpoint(os.path.join(directory, name[:-len(".index")]))
        print("RESTORED", name, int(reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE")))
"""


@pytest.mark.slow  # end to end: a training run on a full tmpfs (about 9 s)
def test_training_checkpoints_on_a_full_tmpfs(tmp_path):
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    shell = f"mount -t tmpfs -o size=1m tmpfs {mount} && exec {sys.executable} -c \"$0\" {mount}/checkpoints"
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {mount}"],
                           capture_output=True, text=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode:
        pytest.skip(f"no tmpfs in a user namespace here: {probe.stderr.strip() if probe else 'no unshare'}")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", shell, TMPFS_SAVES], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.split(" ", 1)[0].isupper())
    # Two 400 kB checkpoints fit in 1 MB; the third one fills the disk.
    assert lines["ERROR"].startswith(f"disk full: could not write {mount}/checkpoints/ckpt-3 "), lines["ERROR"]
    assert lines["FILES"] == str(["checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index",
                                  "ckpt-2.data-00000-of-00001", "ckpt-2.index"])
    assert lines["LATEST"] == f"{mount}/checkpoints/ckpt-2"
    restored = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("RESTORED")]
    assert restored == [["ckpt-1.index", "1"], ["ckpt-2.index", "2"]]

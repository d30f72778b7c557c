"""Model checkpoints: one format for imported weights and training runs, restored by ``restore_model``.

A checkpoint directory holds ``movenet.json`` (the model spec and where the weights came from) and a
``tf.train.Checkpoint`` whose ``model`` slot is the Keras model. Training runs keep the same ``model`` slot
(plus optimizer and step), so any of them loads wherever ``checkpoint=PATH`` is accepted. Which folder or prefix
a path resolves to, and whether it fits the config, is ``model_files``'s.
"""

import hashlib
import os

import tensorflow as tf

from movenet_train import model_files
from movenet_train.atomic import disk_full, is_disk_full, staging_folder
from movenet_train.errors import UserError
from movenet_train.modeling.movenet import build_model


def sha256_of(path):
    """sha256 over the files a model is loaded from (``model_files.loaded_files``), or of any one file, in a
    fixed order."""
    digest = hashlib.sha256()
    paths = model_files.loaded_files(path)
    if not paths:
        raise FileNotFoundError(f"{path}: nothing to checksum")
    for p in paths:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def save_model_checkpoint(model, spec, directory, metadata=None, overwrite=False):
    """Writes ``directory`` atomically: a temporary sibling folder is renamed into place at the end."""
    directory = os.path.abspath(directory)
    spec = spec.with_schema()  # eval, export and predict of the checkpoint read its keypoint schema from here
    with staging_folder(directory, overwrite) as tmp:
        prefix = tf.train.Checkpoint(model=model).write(os.path.join(tmp, "model"))
        model_files.write_spec(tmp, spec, prefix, metadata)
    return directory


def checkpoint_step(prefix):
    """The optimizer step stored in a training checkpoint (0 for none)."""
    if not prefix:
        return 0
    reader = tf.train.load_checkpoint(prefix)
    (key,) = [k for k in reader.get_variable_to_shape_map() if k.startswith("optimizer/") and "/iter/" in k]
    return int(reader.get_tensor(key))


class CheckpointManager(tf.train.CheckpointManager):
    """``tf.train.CheckpointManager`` whose failed save leaves nothing behind: the files it had begun are deleted
    (TensorFlow leaves a ``ckpt-N_temp`` folder), the index still lists the earlier checkpoints, which are kept
    (old ones are only deleted after a save succeeds), and a full disk is a ``DiskFull`` error naming the
    checkpoint and the one a resumed run restores."""

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        before = set(tf.io.gfile.listdir(self.directory)) if tf.io.gfile.isdir(self.directory) else set()
        try:
            return super().save(checkpoint_number=checkpoint_number, check_interval=check_interval, options=options)
        except Exception as err:
            for name in set(tf.io.gfile.listdir(self.directory)) - before:
                path = os.path.join(self.directory, name)
                tf.io.gfile.rmtree(path) if tf.io.gfile.isdir(path) else tf.io.gfile.remove(path)
            if not is_disk_full(err):
                raise
            number = checkpoint_number if checkpoint_number is not None else self.checkpoint.save_counter
            number = number.numpy() if hasattr(number, "numpy") else number
            target = os.path.join(self.directory, f"ckpt-{int(number)}")
            restored = tf.train.latest_checkpoint(self.directory)  # the index on disk, written whole or not at all
            raise disk_full(target, f"a resumed run restores {restored or 'nothing (no checkpoint yet)'}") from err


def restored_spec(path, spec=None, default_spec=None, input_size=None):
    """(The ``ModelFile`` of checkpoint ``path``, the spec its model is built with).

    The checkpoint's own spec (its ``movenet.json``, else its run's ``train_config.yaml``) builds the network: its
    variant, keypoint schema, whether it is quantisation-aware (``train.qat``) and the input size it was trained
    at. ``spec``, the config's (+exp), is only checked against it (``IncompatibleModelError`` on a mismatch, its
    input size included). ``input_size`` runs the weights at that size on purpose (``input_size=`` of eval, export
    and predict: ``model_files.at_input_size``), and the config's size is then not compared. ``default_spec``
    builds a checkpoint that records no spec at all (when ``spec`` is not given).
    """
    found = model_files.describe(path)
    if found.format != "checkpoint":
        raise UserError(f"{path} is a {found.format} file, not a checkpoint: runtime.load_keras imports Google's "
                        "released files, runtime.load_predictor runs any model file")
    if found.spec is not None and spec is not None:
        model_files.check_compatible(path, found, model_files.asked_of_file(spec, input_size))
        own = found.spec
    else:
        own = spec or found.spec or default_spec
    if own is None:
        raise UserError(f"{path} has no {model_files.SPEC_FILE} and is not in a training run folder (no "
                        f"{model_files.TRAIN_CONFIG_FILE}); pass the model config (+exp=...) to restore it")
    return found, model_files.at_input_size(path, own, input_size)


def restore_model(path, spec=None, default_spec=None, input_size=None):
    """Keras model restored from a checkpoint, built with ``restored_spec``; (model, spec).

    A training run's folder resolves to its inference model (``<run>/model``, EMA weights), which training
    writes at every validation and at the end; a run with no ``model/`` yet, or a ``<run>/checkpoints/ckpt-N``
    prefix, restores the training checkpoint with the spec of the run's ``train_config.yaml``.
    """
    found, spec = restored_spec(path, spec, default_spec, input_size)
    model = build_model(spec)
    status = tf.train.Checkpoint(model=model).read(found.resolved)
    status.assert_existing_objects_matched().expect_partial()
    return model, spec

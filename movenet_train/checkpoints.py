"""Model checkpoints: one format for imported weights and training runs, restored by ``restore_model``.

A checkpoint directory holds ``movenet.json`` (the model spec and where the weights came from) and a
``tf.train.Checkpoint`` whose ``model`` slot is the Keras model. Training runs keep the same ``model`` slot
(plus optimizer and step), so any of them loads wherever ``checkpoint=PATH`` is accepted. Which folder or prefix
a path resolves to, and whether it fits the config, is ``model_files``'s.
"""

import dataclasses
import hashlib
import os

import tensorflow as tf

from movenet_train import model_files
from movenet_train.atomic import staging_folder
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


def restore_model(path, spec=None, default_spec=None):
    """Keras model restored from a checkpoint; ``spec`` from the config is checked against the stored one.

    A training run's folder resolves to its inference model (``<run>/model``, EMA weights), which training
    writes at every validation and at the end; a run with no ``model/`` yet, or a ``<run>/checkpoints/ckpt-N``
    prefix, restores the training checkpoint with the spec of the run's ``train_config.yaml``. ``default_spec``
    builds the model when the checkpoint records no spec at all (and ``spec`` is not given).
    """
    found = model_files.describe(path)
    if found.format != "checkpoint":
        raise ValueError(f"{path} is a {found.format} file, not a checkpoint: runtime.load_keras imports Google's "
                         "released files, runtime.load_predictor runs any model file")
    if found.spec is not None and spec is not None:
        model_files.check_compatible(path, found, spec)
        if spec.keypoints is None:  # the config leaves the schema to the checkpoint
            spec = dataclasses.replace(spec, keypoints=found.spec.keypoints, num_keypoints=found.spec.num_keypoints)
    spec = spec or found.spec or default_spec
    if spec is None:
        raise ValueError(f"{path} has no {model_files.SPEC_FILE} and is not in a training run folder (no "
                         f"{model_files.TRAIN_CONFIG_FILE}); pass the model config (+exp=...) to restore it")
    model = build_model(spec)
    status = tf.train.Checkpoint(model=model).read(found.resolved)
    status.assert_existing_objects_matched().expect_partial()
    return model, spec

"""Model checkpoints: one format for imported weights and training runs, restored by ``restore_model``.

A checkpoint directory holds ``movenet.json`` (the model spec and where the weights came from) and a
``tf.train.Checkpoint`` whose ``model`` slot is the Keras model. Training runs keep the same ``model`` slot
(plus optimizer and step), so any of them loads wherever ``checkpoint=PATH`` is accepted.
"""

import dataclasses
import glob
import hashlib
import json
import os

import tensorflow as tf

from movenet_train.atomic import staging_folder
from movenet_train.keypoints import KeypointSchema
from movenet_train.modeling.movenet import MoveNetSpec, build_model

SPEC_FILE = "movenet.json"


def _prefix_files(prefix):
    return sorted(glob.glob(glob.escape(prefix) + ".*"))  # a tf.train prefix: .index, .data-*


def _model_files(path):
    """The files a model is loaded from: a TF.js json and its shards, a single file, a SavedModel folder, or for
    a checkpoint folder / training run / tf.train prefix the ``movenet.json`` and the one checkpoint that
    ``restore_model`` reads (not the run's events or other checkpoints)."""
    path = str(path)
    if os.path.isfile(path):
        if path.endswith(".json"):
            with open(path) as f:
                manifest = json.load(f).get("weightsManifest", [])
            folder = os.path.dirname(path)
            return [path] + [os.path.join(folder, p) for group in manifest for p in group["paths"]]
        return [path]
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb")):
        return sorted(os.path.join(root, f) for root, _, files in os.walk(path) for f in files)
    if os.path.isdir(path):
        path = _inference_folder(path)
        spec_file = os.path.join(path, SPEC_FILE)
        return ([spec_file] if os.path.isfile(spec_file) else []) + _prefix_files(checkpoint_prefix(path))
    return _prefix_files(path)


def sha256_of(path):
    """sha256 over the files a model is loaded from (see ``_model_files``), or of any one file, in a fixed order."""
    digest = hashlib.sha256()
    paths = _model_files(path)
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
        with open(os.path.join(tmp, SPEC_FILE), "w") as f:
            spec_dict = {**dataclasses.asdict(spec), "keypoints": spec.keypoints.to_dict()}
            json.dump({"spec": spec_dict, "checkpoint": os.path.basename(prefix), **(metadata or {})},
                      f, indent=2)
    return directory


def read_spec(directory):
    path = os.path.join(directory, SPEC_FILE)
    if not os.path.exists(path):
        return None, None
    with open(path) as f:
        meta = json.load(f)
    values = dict(meta["spec"])
    keypoints = values.pop("keypoints", None)  # absent in checkpoints written before schemas: COCO-17
    if keypoints is not None:
        values["keypoints"] = KeypointSchema.from_dict(keypoints, f"{path}: spec.keypoints")
    return MoveNetSpec(**values), os.path.join(directory, meta["checkpoint"])


def checkpoint_prefix(path):
    """The ``tf.train`` prefix of a checkpoint directory (imported or a training run) or prefix."""
    if os.path.isdir(path):
        _, prefix = read_spec(path)
        if prefix:
            return prefix
        for folder in (path, os.path.join(path, "checkpoints")):
            latest = tf.train.latest_checkpoint(folder)
            if latest:
                return latest
        raise FileNotFoundError(f"{path} holds no checkpoint (no {SPEC_FILE}, no tf.train 'checkpoint' file)")
    if os.path.exists(path + ".index"):
        return path
    raise FileNotFoundError(f"checkpoint {path} does not exist")


def with_stored_schema(spec, stored, path):
    """``spec`` with the keypoint schema the checkpoint was made with; a different one given is an error."""
    if spec.keypoints is None:
        return dataclasses.replace(spec, keypoints=stored.keypoints, num_keypoints=stored.num_keypoints)
    if spec.keypoints != stored.schema:
        raise ValueError(
            f"checkpoint {path} predicts the keypoint schema {stored.schema.name!r} ({stored.schema.num_keypoints} "
            f"joints: {list(stored.schema.names)}) but the config asks for {spec.keypoints.name!r} "
            f"({spec.keypoints.num_keypoints} joints); drop the keypoints= override to use the checkpoint's")
    return spec


def _inference_folder(path):
    """A training run's folder resolves to its inference model (``<run>/model``) once training wrote it."""
    return os.path.join(path, "model") if os.path.isfile(os.path.join(path, "model", SPEC_FILE)) else path


def _run_spec(path):
    """The spec a training run recorded (``train_config.yaml``) for its folder, its ``checkpoints/`` folder or a
    ``checkpoints/ckpt-N`` prefix; None elsewhere."""
    from omegaconf import OmegaConf

    folder = os.path.abspath(path)
    for _ in range(3):  # <run>, <run>/checkpoints, <run>/checkpoints/ckpt-N
        config = os.path.join(folder, "train_config.yaml")
        if os.path.isfile(config):
            cfg = OmegaConf.load(config)
            return MoveNetSpec.from_config(cfg.model, cfg.get("keypoints")).with_schema()
        folder = os.path.dirname(folder)
    return None


def stored_spec(path):
    """The spec a checkpoint carries: its ``movenet.json``, else its training run's ``train_config.yaml``."""
    path = _inference_folder(str(path))
    stored, _ = read_spec(path) if os.path.isdir(path) else (None, None)
    return stored or _run_spec(path)


def restore_model(path, spec=None, default_spec=None):
    """Keras model restored from a checkpoint; ``spec`` from the config is checked against the stored one.

    A training run's folder resolves to its inference model (``<run>/model``, EMA weights), which training
    writes at every validation and at the end; a run with no ``model/`` yet, or a ``<run>/checkpoints/ckpt-N``
    prefix, restores the training checkpoint with the spec of the run's ``train_config.yaml``. ``default_spec``
    builds the model when the checkpoint records no spec at all (and ``spec`` is not given).
    """
    path = _inference_folder(str(path))
    stored = stored_spec(path)
    if stored and spec and (stored.alpha, stored.multi_pose) != (spec.alpha, spec.multi_pose):
        raise ValueError(
            f"checkpoint {path} is MoveNet {stored.name} (alpha {stored.alpha}) but the config asks for "
            f"{spec.name} (alpha {spec.alpha}); use +exp={stored.name}"
        )
    if stored and spec:
        spec = with_stored_schema(spec, stored, path)
    spec = spec or stored or default_spec
    if spec is None:
        raise ValueError(f"{path} has no {SPEC_FILE} and is not in a training run folder (no train_config.yaml); "
                         "pass the model config (+exp=...) to restore it")
    model = build_model(spec)
    status = tf.train.Checkpoint(model=model).read(checkpoint_prefix(path))
    status.assert_existing_objects_matched().expect_partial()
    return model, spec

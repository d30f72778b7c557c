"""What a model file is: the run-folder layout, the format of a path, what it resolves to, whether it fits.

Every loader (``checkpoints.restore_model``, ``pretrained.import_released``, ``runtime.load_predictor``), training
(the run folder it writes and resumes) and export (the schema file it writes) take these from here, so a path
means the same thing everywhere and a mismatch with the config reads the same whichever loader finds it.

Input size: a checkpoint records the size it was trained at (``movenet.json`` ``spec.input_size``, else its run's
``train_config.yaml`` ``model.input_size``); an exported or released file is fixed to its signature's. Every
loader runs a file at that size. A config that asks for another (``+exp=... model.input_size=N``) is a mismatch;
``input_size=N`` (``RUN_SIZE_KEY``) of eval, export and predict runs a checkpoint or released file at N on purpose
(``at_input_size``). Training starts a model of any size from any of them (the network is fully convolutional).
"""

import dataclasses
import glob
import json
import logging
import os

from movenet_train.errors import UserError
from movenet_train.keypoints import DEFAULT_SCHEMA, KeypointSchema
from movenet_train.modeling.spec import RUN_SIZE_KEY, MoveNetSpec, check_input_size

log = logging.getLogger(__name__)

# A training run's folder: <run>/train_config.yaml, <run>/checkpoints/ckpt-N (model, optimizer, step) and
# <run>/model (the inference model, EMA weights, in the checkpoint format), written at every validation.
MODEL_DIR = "model"
CHECKPOINTS_DIR = "checkpoints"
TRAIN_CONFIG_FILE = "train_config.yaml"
# In a checkpoint folder: the spec (variant and keypoint schema) and which tf.train prefix holds the weights.
SPEC_FILE = "movenet.json"
# Beside exported files: the keypoint schema, which the SavedModel / TFLite / TF.js / ONNX graphs do not carry.
SCHEMA_FILE = "keypoints.json"

FORMATS = ("tfjs", "tflite", "saved_model", "onnx", "checkpoint")
# The formats Google releases MoveNet in; the importer reads their weights back into the Keras model.
RELEASED_FORMATS = ("tfjs", "tflite", "saved_model")
_EXTENSIONS = {".json": "tfjs", ".tflite": "tflite", ".onnx": "onnx"}
_ACCEPTED = ("a TF.js model.json, a .tflite, a .onnx, a SavedModel folder, a checkpoint folder, a training run "
             "folder or a tf.train prefix")


class IncompatibleModelError(UserError):
    """A model file is not the model the config asks for."""


@dataclasses.dataclass(frozen=True)
class ModelFile:
    """What a path holds, resolved as the loaders read it.

    ``resolved``: the file or SavedModel folder that is loaded; for a checkpoint its ``tf.train`` prefix.
    ``spec``: the spec a checkpoint records (its ``movenet.json``, else its run's ``train_config.yaml``); None for
    exported and released files, whose variant is read from the graph when they load. ``schema``: the keypoint
    schema of the outputs, None for a checkpoint that records no spec. ``spec_file``: where ``spec`` was read.
    """

    path: str
    format: str
    resolved: str
    spec: MoveNetSpec = None
    schema: KeypointSchema = None
    spec_file: str = None


def read_json(path):
    """The JSON of a model file (a TF.js model.json, a checkpoint's movenet.json); an error naming it if it is not."""
    try:
        with open(path) as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not valid JSON: {err}") from err


def file_format(path):
    """One of ``FORMATS`` for ``path``; FileNotFoundError when nothing is there."""
    path = str(path)
    if os.path.isdir(path):
        return "saved_model" if os.path.isfile(os.path.join(path, "saved_model.pb")) else "checkpoint"
    if os.path.isfile(path):
        for extension, fmt in _EXTENSIONS.items():
            if path.endswith(extension):
                return fmt
        raise UserError(f"{path} is not a model file: expected {_ACCEPTED} (a tf.train checkpoint goes by its "
                        "prefix, without .index / .data-*)")
    if os.path.isfile(path + ".index"):
        return "checkpoint"
    raise FileNotFoundError(f"model file {path} does not exist (expected {_ACCEPTED})")


def describe(path):
    """The ``ModelFile`` of ``path``: a run folder resolves to ``<run>/model`` once training wrote it, else to the
    latest of ``<run>/checkpoints`` with the spec of ``<run>/train_config.yaml``; so does a ``checkpoints/ckpt-N``
    prefix."""
    path = str(path)
    fmt = file_format(path)
    if fmt != "checkpoint":
        return ModelFile(path, fmt, path, schema=exported_schema(path))
    prefix, spec, spec_file = _resolve_checkpoint(path)
    return ModelFile(path, fmt, prefix, spec, spec.schema if spec else None, spec_file)


def loaded_files(path):
    """The files a model is loaded from: a TF.js json and its shards, a SavedModel folder's files, or for a
    checkpoint its ``movenet.json`` and the one prefix it resolves to (not a run's events or other checkpoints).
    Any other single file is its own list."""
    path = str(path)
    if os.path.isfile(path) and not path.endswith(".json"):
        return [path]
    fmt = file_format(path)
    if fmt == "tfjs":
        manifest = read_json(path).get("weightsManifest", [])
        folder = os.path.dirname(path)
        return [path] + [os.path.join(folder, p) for group in manifest for p in group["paths"]]
    if fmt == "saved_model":
        return sorted(os.path.join(root, f) for root, _, files in os.walk(path) for f in files)
    prefix, _, spec_file = _resolve_checkpoint(path)
    recorded = [spec_file] if spec_file and os.path.basename(spec_file) == SPEC_FILE else []
    return recorded + sorted(glob.glob(glob.escape(prefix) + ".*"))  # .index, .data-*


def inference_folder(path):
    """A training run's folder resolves to its inference model (``<run>/model``) once training wrote it."""
    model = os.path.join(path, MODEL_DIR)
    return model if os.path.isfile(os.path.join(model, SPEC_FILE)) else path


def _resolve_checkpoint(path):
    """(tf.train prefix, spec or None, file the spec came from) of a checkpoint folder, run folder or prefix."""
    folder = inference_folder(path)
    if not os.path.isdir(folder):
        spec, config = run_spec(folder)
        return folder, spec, config
    spec, prefix = read_spec(folder)
    if prefix:
        return prefix, spec, os.path.join(folder, SPEC_FILE)
    import tensorflow as tf  # here only: the module is read before a command imports TensorFlow

    for candidate in (folder, os.path.join(folder, CHECKPOINTS_DIR)):
        prefix = tf.train.latest_checkpoint(candidate)
        if prefix:
            spec, config = run_spec(folder)
            return prefix, spec, config
    raise FileNotFoundError(f"{path} holds no checkpoint (no {SPEC_FILE}, no tf.train 'checkpoint' file in it or in "
                            f"its {CHECKPOINTS_DIR}/)")


def write_spec(folder, spec, prefix, metadata=None):
    """Writes ``folder/movenet.json``: ``spec`` (with its schema) and the name of the prefix holding the weights."""
    spec_dict = {**dataclasses.asdict(spec), "keypoints": spec.keypoints.to_dict()}
    with open(os.path.join(folder, SPEC_FILE), "w") as f:
        json.dump({"spec": spec_dict, "checkpoint": os.path.basename(prefix), **(metadata or {})}, f, indent=2)


def read_spec(folder):
    """(spec, tf.train prefix) recorded in ``folder/movenet.json``; (None, None) without one."""
    path = os.path.join(folder, SPEC_FILE)
    if not os.path.exists(path):
        return None, None
    meta = read_json(path)
    values = dict(meta["spec"])
    keypoints = values.pop("keypoints", None)  # absent in checkpoints written before schemas: COCO-17
    if keypoints is not None:
        values["keypoints"] = KeypointSchema.from_dict(keypoints, f"{path}: spec.keypoints")
    return MoveNetSpec(**values), os.path.join(folder, meta["checkpoint"])


def run_spec(path):
    """(spec, train_config.yaml) a training run recorded for its folder, its ``checkpoints/`` folder or a
    ``checkpoints/ckpt-N`` prefix, quantisation-aware where the run's ``train.qat`` is; (None, None) elsewhere."""
    from omegaconf import OmegaConf

    folder = os.path.abspath(path)
    for _ in range(3):  # <run>, <run>/checkpoints, <run>/checkpoints/ckpt-N
        config = os.path.join(folder, TRAIN_CONFIG_FILE)
        if os.path.isfile(config):
            cfg = OmegaConf.load(config)
            spec = MoveNetSpec.from_config(cfg.model, cfg.get("keypoints")).with_schema()
            qat = bool(OmegaConf.select(cfg, "train.qat", default=False))
            return dataclasses.replace(spec, qat=qat), config
        folder = os.path.dirname(folder)
    return None, None


def exported_schema(path, num_keypoints=None):
    """The keypoint schema of an exported file: ``keypoints.json`` beside it (for a SavedModel folder, in it or
    beside it), else ``DEFAULT_SCHEMA`` (Google's files carry none); ``num_keypoints`` read from the graph is
    checked against it."""
    path = os.path.abspath(path)
    folders = [path, os.path.dirname(path)] if os.path.isdir(path) else [os.path.dirname(path)]
    for candidate in (os.path.join(folder, SCHEMA_FILE) for folder in folders):
        if os.path.isfile(candidate):
            with open(candidate) as f:
                schema = KeypointSchema.from_dict(json.load(f), candidate)
            break
    else:
        schema = DEFAULT_SCHEMA
    if num_keypoints is not None and num_keypoints != schema.num_keypoints:
        origin = schema.source if schema is not DEFAULT_SCHEMA else f"{schema.name}: no {SCHEMA_FILE} beside it"
        raise UserError(f"{path} predicts {num_keypoints} keypoints but its schema ({origin}) has "
                        f"{schema.num_keypoints}; put the {SCHEMA_FILE} that export wrote beside the file")
    return schema


def config_spec(cfg):
    """The ``MoveNetSpec`` a job's ``model`` (+exp) and ``keypoints`` keys ask for; None without ``model``."""
    if not cfg.get("model"):
        return None
    return MoveNetSpec.from_config(cfg.model, cfg.get("keypoints"))


def config_schema(cfg):
    """The ``KeypointSchema`` a job's ``keypoints=`` asks for; None without it (the model file's own is used)."""
    if cfg.get("keypoints") is None:
        return None
    return KeypointSchema.from_config(cfg.keypoints)


# -- the input size a file runs at -------------------------------------------------------------------------

def config_input_size(cfg):
    """The size eval / export / predict are told to run the file at (``input_size=``, checked); None: its own."""
    return check_input_size(cfg.get(RUN_SIZE_KEY), RUN_SIZE_KEY)


def asked_of_file(spec, input_size):
    """What ``check_compatible`` compares a file with: the config's ``spec``, less its input size where
    ``input_size`` runs the file at a size of the caller's choosing."""
    if spec is None or input_size is None:
        return spec
    return dataclasses.replace(spec, input_size=None)


def _not_multi_pose(path, input_size):
    return UserError(f"{RUN_SIZE_KEY}={input_size} sets the square input of a single-pose model; {path} is "
                     "multi-pose and runs at any height and width (multiples of 32): set long_side= (eval) or "
                     f"tracking.multi_pose_max_dimension= (predict) instead, and leave {RUN_SIZE_KEY}= out")


def at_input_size(path, spec, input_size):
    """``spec`` of the file at ``path`` (a checkpoint or a released graph, loaded into Keras), to run at
    ``input_size`` (None: its own size, which it was trained at). The weights fit any size; a size other than its
    own is logged, since it is not the model that was trained and measured."""
    if input_size is None:
        return spec
    if spec.multi_pose:
        raise _not_multi_pose(path, input_size)
    if input_size != spec.input_size:
        log.info("running %s at %d px (%s=%d); its own size is %d px", path, input_size, RUN_SIZE_KEY, input_size,
                 spec.input_size)
    return dataclasses.replace(spec, input_size=input_size)


def check_fixed_input_size(path, predictor, input_size):
    """An exported file (``.tflite``, SavedModel, ONNX) runs at the size of its signature only: ``input_size``
    other than that is an error saying how to get a file of that size."""
    if input_size is None:
        return
    if predictor.multi_pose:
        raise _not_multi_pose(path, input_size)
    size = predictor.input_size
    if size is not None and size != input_size:
        raise IncompatibleModelError(
            f"{path} is a {predictor.kind} file fixed to {size}x{size} input and cannot run at {input_size} px "
            f"({RUN_SIZE_KEY}={input_size}): export its checkpoint at that size (export/export.py "
            f"checkpoint=<its checkpoint> {RUN_SIZE_KEY}={input_size}), or leave {RUN_SIZE_KEY}= out to run it at "
            f"{size} px")


# -- the one compatibility check ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Traits:
    """What a file holds or a config asks for; None: not known, or not asked."""

    name: str = None
    alpha: float = None
    multi_pose: bool = None
    # single-pose only: the square size a file was trained at or is fixed to, or the config's
    input_size: int = None
    schema: KeypointSchema = None
    # The file loads into Keras, which runs it at any size on request (RUN_SIZE_KEY): a checkpoint, or a released
    # graph read by the importer. Not an exported file, whose signature is fixed.
    resizable: bool = False
    trained: bool = False  # a checkpoint: its input size is the one it was trained at


def _held(found):
    if isinstance(found, ModelFile):  # a checkpoint: its spec records the size it was trained at
        spec = found.spec
        if spec is None:
            return _Traits(schema=found.schema)
        return _Traits(spec.name, spec.alpha, spec.multi_pose, None if spec.multi_pose else spec.input_size,
                       found.schema, resizable=True, trained=True)
    if isinstance(found, MoveNetSpec):  # read from a released graph, whose signature gives its input size
        return _Traits(found.name, found.alpha, found.multi_pose, None if found.multi_pose else found.input_size,
                       found.schema, resizable=True)
    return _Traits(multi_pose=found.multi_pose, input_size=found.input_size, schema=found.schema)  # a predictor


def _asked(wanted):
    if isinstance(wanted, KeypointSchema):
        return _Traits(schema=wanted)
    return _Traits(wanted.name, wanted.alpha, wanted.multi_pose, None if wanted.multi_pose else wanted.input_size,
                   wanted.keypoints)  # keypoints None: the config leaves the schema to the file


def _variant(traits):
    pose = "multi-pose" if traits.multi_pose else "single-pose"
    return f"MoveNet {traits.name} (alpha {traits.alpha}, {pose})" if traits.alpha is not None else f"a {pose} MoveNet"


def _keep_own(key, what):
    return f"leave {key}= out to use the file's own {what}"


def _variant_mismatch(has, asks):
    if has.multi_pose is None or asks.multi_pose is None:
        return None
    alphas_known = has.alpha is not None and asks.alpha is not None
    if has.multi_pose == asks.multi_pose and not (alphas_known and has.alpha != asks.alpha):
        return None
    remedy = (f"pass +exp={has.name}, or " if has.name else "") + _keep_own("+exp", "variant")
    return f"holds {_variant(has)}", _variant(asks), remedy


def _input_size_mismatch(has, asks):
    if not (has.input_size and asks.input_size) or has.input_size == asks.input_size:
        return None
    size, asked = has.input_size, asks.input_size
    remedy = f"pass model.input_size={size}" + (f" or +exp={has.name}" if has.name else "") + ", or "
    remedy += _keep_own("+exp", "variant")
    if has.resizable:  # Keras runs the weights at any size, when asked in so many words
        remedy += f"; to run it at {asked} px on purpose, pass {RUN_SIZE_KEY}={asked} (eval, export, predict)"
    held = f"was trained at {size}x{size} input" if has.trained else f"takes {size}x{size} input"
    return held, f"{asked}x{asked} input (MoveNet {asks.name})", remedy


def _schema_mismatch(has, asks):
    if has.schema is None or asks.schema is None or has.schema == asks.schema:
        return None
    found, wanted = has.schema, asks.schema
    remedy = (f"{_keep_own('keypoints', 'schema')}; to train {wanted.name!r} from these weights, pass the file as "
              "checkpoint= to train.py (fine-tuning copies the joints that keep their name)")
    return (f"predicts the keypoint schema {found.name!r} ({found.num_keypoints} joints)",
            f"the keypoint schema {wanted.name!r} ({wanted.num_keypoints} joints, {wanted.source})", remedy)


def check_compatible(path, found, wanted, fix=None):
    """Raises ``IncompatibleModelError`` when the model at ``path`` is not the one the config asks for.

    ``found`` is what the file holds: its ``ModelFile`` (a checkpoint), the ``MoveNetSpec`` read from a released
    graph, or a loaded predictor. ``wanted``: the config's ``MoveNetSpec`` (``keypoints`` None: no schema asked),
    a ``KeypointSchema`` (``keypoints=`` without a model), or None. Compared, where both sides know it: the
    variant (alpha, single- or multi-pose), the input size of a single-pose file fixed to one, and the keypoint
    schema. The message names ``path``, both sides and what to pass; ``fix`` replaces that advice where the
    caller knows better (a run folder resumes only with its own config).
    """
    if wanted is None:
        return
    has, asks = _held(found), _asked(wanted)
    for mismatch in (_variant_mismatch, _input_size_mismatch, _schema_mismatch):
        problem = mismatch(has, asks)
        if problem:
            held, asked, remedy = problem
            raise IncompatibleModelError(f"{path} {held} but the config asks for {asked}: {fix or remedy}")

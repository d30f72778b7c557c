"""``load_predictor(checkpoint)``: one callable for every kind of model file the project handles.

Eval, predict, export parity and the tracker all run models through it, so the numbers of a checkpoint and
of its exported files come from the same pre- and post-processing.
"""

import json
import os

import numpy as np
import tensorflow as tf

from movenet_train import checkpoints
from movenet_train.keypoints import COCO_17, KeypointSchema
from movenet_train.modeling import MoveNetInference, MoveNetSpec
from movenet_train.pretrained import importer


# Written beside exported files (export/exporter.py): the keypoint schema of a SavedModel / TFLite / TF.js model.
SCHEMA_FILE = "keypoints.json"


class Predictor:
    """``predictor(images)``: uint8/int ``[B,H,W,3]`` RGB -> decoded float32 ``[B,1,N,3]`` or ``[B,6,3N+5]``."""

    kind = "keras"
    multi_pose = False
    input_size = None  # square size a single-pose model expects; None where any multiple of 32 works
    schema = COCO_17  # the keypoint schema of the outputs

    def __call__(self, images):
        raise NotImplementedError


class KerasPredictor(Predictor):
    def __init__(self, model, spec):
        self.model, self.spec = model, spec
        self.inference = MoveNetInference(model, spec)
        self.schema = spec.schema
        self.multi_pose = spec.multi_pose
        self.input_size = None if spec.multi_pose else spec.input_size

    def __call__(self, images):
        return self.inference(tf.cast(images, tf.int32)).numpy()


class SavedModelPredictor(Predictor):
    kind = "saved_model"

    def __init__(self, path):
        self.module = tf.saved_model.load(path)
        self.fn = self.module.signatures["serving_default"]
        shape = self.fn.structured_input_signature[1]["input"].shape
        out = list(self.fn.structured_outputs.values())[0].shape
        self.multi_pose = out.rank == 3
        self.input_size = None if self.multi_pose or shape[1] is None else int(shape[1])
        self.schema = file_schema(path, _num_keypoints(out.as_list(), self.multi_pose))

    def __call__(self, images):
        return np.concatenate(
            [list(self.fn(input=tf.cast(image[None], tf.int32)).values())[0].numpy() for image in images]
        )


class TFLitePredictor(Predictor):
    kind = "tflite"

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=path, num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.multi_pose = len(self.output["shape"]) == 3
        self.input_size = None if self.multi_pose else int(self.input["shape"][1])
        self.schema = file_schema(path, _num_keypoints(self.output["shape"], self.multi_pose))

    def __call__(self, images):
        outputs = []
        for image in images:
            image = np.asarray(image)[None]
            if tuple(self.input["shape"]) != image.shape:
                self.interpreter.resize_tensor_input(self.input["index"], image.shape)
                self.interpreter.allocate_tensors()
                self.input = self.interpreter.get_input_details()[0]
            self.interpreter.set_tensor(self.input["index"], image.astype(self.input["dtype"]))
            self.interpreter.invoke()
            outputs.append(self.interpreter.get_tensor(self.output["index"]).copy())
        return np.concatenate(outputs)


def _num_keypoints(shape, multi_pose):
    """N of an output shape: single-pose ``[B, 1, N, 3]``, multi-pose ``[B, 6, 3N + 5]``."""
    shape = list(shape)
    value = (shape[-1] - 5) // 3 if multi_pose and shape[-1] is not None else None if multi_pose else shape[-2]
    return None if value is None else int(value)


def file_schema(path, num_keypoints=None):
    """The keypoint schema of an exported file: ``keypoints.json`` beside it, else COCO-17 (Google's files)."""
    path = os.path.abspath(path)
    # A SavedModel directory has it beside it (the export folder) too.
    folders = [path, os.path.dirname(path)] if os.path.isdir(path) else [os.path.dirname(path)]
    for candidate in (os.path.join(folder, SCHEMA_FILE) for folder in folders):
        if os.path.isfile(candidate):
            with open(candidate) as f:
                schema = KeypointSchema.from_dict(json.load(f), candidate)
            break
    else:
        schema = COCO_17
    if num_keypoints is not None and num_keypoints != schema.num_keypoints:
        raise ValueError(f"{path} predicts {num_keypoints} keypoints but its schema "
                         f"({schema.source if schema is not COCO_17 else 'COCO-17: no ' + SCHEMA_FILE + ' beside it'}) "
                         f"has {schema.num_keypoints}; put the {SCHEMA_FILE} that export wrote beside the file")
    return schema


def config_spec(cfg):
    """The ``MoveNetSpec`` of a job's ``model`` (+exp) and ``keypoints`` keys; None without ``model``."""
    if not cfg.get("model"):
        return None
    return MoveNetSpec.from_config(cfg.model, cfg.get("keypoints"))


def check_config_schema(cfg, schema, checkpoint):
    """``keypoints=NAME`` given to eval/export/predict must be the model's schema (which it carries anyway)."""
    if cfg.get("keypoints") is None:
        return
    wanted = KeypointSchema.from_config(cfg.keypoints)
    if wanted != schema:
        raise ValueError(f"{checkpoint} predicts the keypoint schema {schema.name!r} ({schema.num_keypoints} joints) "
                         f"but keypoints={wanted.name} ({wanted.source}) was given; drop it to use the model's own")


def load_keras(checkpoint, spec=None):
    """(Keras model, spec) from a training/imported checkpoint or a released file (imported on the fly)."""
    if importer.is_released_file(checkpoint):
        return importer.import_released(checkpoint, spec)
    return checkpoints.restore_model(checkpoint, spec)


def load_predictor(checkpoint, spec=None, num_threads=None):
    """The runtime is chosen from the path: ``.tflite`` -> LiteRT, SavedModel dir -> TF, else Keras."""
    checkpoint = str(checkpoint)
    if not os.path.exists(checkpoint) and not os.path.exists(checkpoint + ".index"):
        raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
    fmt = importer.released_format(checkpoint)
    if fmt == "tflite":
        predictor = TFLitePredictor(checkpoint, num_threads)
    elif fmt == "saved_model":
        predictor = SavedModelPredictor(checkpoint)
    else:
        return KerasPredictor(*load_keras(checkpoint, spec))
    if spec is not None and predictor.input_size and not spec.multi_pose and predictor.input_size != spec.input_size:
        raise ValueError(
            f"{checkpoint} takes {predictor.input_size}x{predictor.input_size} input but the config's model "
            f"({spec.name}) takes {spec.input_size}x{spec.input_size}"
        )
    if spec is not None and spec.keypoints is not None and spec.keypoints != predictor.schema:
        raise ValueError(f"{checkpoint} predicts the keypoint schema {predictor.schema.name!r} "
                         f"({predictor.schema.num_keypoints} joints) but the config asks for {spec.keypoints.name!r}")
    if spec is not None and predictor.multi_pose != spec.multi_pose:
        raise ValueError(f"{checkpoint} is a {'multi' if predictor.multi_pose else 'single'}-pose model "
                         f"but the config's model {spec.name} is not")
    return predictor

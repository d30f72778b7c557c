"""Format detection, variant inference and the import itself."""

import dataclasses
import os

from movenet_train.keypoints import COCO_17
from movenet_train.modeling.movenet import MoveNetSpec, build_model
from movenet_train.pretrained import folded

# Google's released variants by (MobileNetV2 width, multi-pose): name and default input size.
RELEASED_VARIANTS = {(1.0, False): ("lightning", 192), (1.75, False): ("thunder", 256),
                     (1.5, True): ("multipose_lightning", 256)}


def released_format(path):
    path = str(path)
    if path.endswith(".json"):
        return "tfjs"
    if path.endswith(".tflite"):
        return "tflite"
    if os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb")):
        return "saved_model"
    return None


def is_released_file(path):
    return released_format(path) is not None


def read_folded(path):
    fmt = released_format(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"released model {path} does not exist")
    if fmt == "tfjs":
        from movenet_train.pretrained import tfjs

        return tfjs.read_folded_convs(path)
    if fmt == "tflite":
        from movenet_train.pretrained import tflite

        return tflite.read_folded_convs(path)
    if fmt == "saved_model":
        from movenet_train.pretrained import saved_model

        return saved_model.read_folded_convs(path)
    raise folded.ReleasedGraphError(
        f"{path}: not a released MoveNet file (expected a TF.js model.json, a .tflite or a SavedModel directory)"
    )


def released_spec(ops, input_size=None):
    alpha, multi_pose = folded.infer_architecture(ops)
    name, default_size = RELEASED_VARIANTS.get((alpha, multi_pose), (f"movenet_alpha{alpha}", 256))
    return MoveNetSpec(name=name, alpha=alpha, input_size=input_size or default_size, multi_pose=multi_pose,
                       keypoints=COCO_17)


def check_spec(expected, found, path):
    """Clear error when a file is another variant than the config asks for (e.g. Thunder weights, Lightning config)."""
    if (expected.alpha, expected.multi_pose) != (found.alpha, found.multi_pose):
        raise folded.ReleasedGraphError(
            f"{path} holds MoveNet {found.name} (alpha {found.alpha}, multi_pose={found.multi_pose}) but the config "
            f"asks for {expected.name} (alpha {expected.alpha}, multi_pose={expected.multi_pose}); "
            f"pick the matching experiment, e.g. +exp={found.name}"
        )
    if not expected.multi_pose and found.input_size and found.input_size != expected.input_size:
        raise folded.ReleasedGraphError(
            f"{path} takes {found.input_size}x{found.input_size} input but the config's model takes "
            f"{expected.input_size}x{expected.input_size}"
        )
    if expected.keypoints is not None and expected.keypoints != found.schema:
        raise folded.ReleasedGraphError(
            f"{path} predicts the COCO-17 keypoints but the config asks for the schema {expected.keypoints.name!r} "
            f"({expected.keypoints.num_keypoints} joints); to train that schema from these weights, pass the file "
            "as checkpoint= to train.py (fine-tuning copies the joints that keep their name)"
        )


def import_released(path, spec=None):
    """Keras model holding the weights of a released file; ``spec`` (from the config) is checked against it."""
    ops, input_size = read_folded(path)
    found = released_spec(ops, input_size)
    if spec is not None:
        check_spec(spec, found, path)
    spec = found if spec is None else dataclasses.replace(spec, keypoints=found.keypoints,
                                                           num_keypoints=found.num_keypoints)
    model = build_model(spec)
    folded.assign_folded_weights(model, ops, source=str(path))
    return model, spec

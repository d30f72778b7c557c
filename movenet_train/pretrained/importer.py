"""Reading released weights: the folded convolutions of a file, its variant, and the import itself."""

import dataclasses

from movenet_train import model_files
from movenet_train.keypoints import DEFAULT_SCHEMA
from movenet_train.modeling.movenet import MoveNetSpec, build_model
from movenet_train.pretrained import folded

# Google's released variants by (MobileNetV2 width, multi-pose): name and default input size.
RELEASED_VARIANTS = {(1.0, False): ("lightning", 192), (1.75, False): ("thunder", 256),
                     (1.5, True): ("multipose_lightning", 256)}


def read_folded(path):
    fmt = model_files.file_format(path)
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
                       keypoints=DEFAULT_SCHEMA)


def import_released(path, spec=None, input_size=None):
    """Keras model holding the weights of a released file; ``spec`` (from the config) is checked against it.
    ``input_size``: run the weights at that size instead of the file's own (``model_files.at_input_size``)."""
    ops, own_size = read_folded(path)
    found = released_spec(ops, own_size)
    if spec is not None:
        model_files.check_compatible(path, found, model_files.asked_of_file(spec, input_size))
    spec = found if spec is None else dataclasses.replace(spec, keypoints=found.keypoints,
                                                           num_keypoints=found.num_keypoints)
    spec = model_files.at_input_size(path, spec, input_size)
    model = build_model(spec)
    folded.assign_folded_weights(model, ops, source=str(path))
    return model, spec

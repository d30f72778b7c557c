"""Initial weights: ``scratch``, ``imagenet`` (Keras MobileNetV2), or any checkpoint / released file."""

import logging

import tf_keras as keras

from movenet_train.errors import UserError
from movenet_train.modeling import heads

log = logging.getLogger(__name__)

# The heads whose output channels belong to keypoints, and how many channels each joint has (heatmap: one;
# offset and regression: a (y, x) pair, channels 2k and 2k + 1).
KEYPOINT_HEAD_CHANNELS = {"keypoint_heatmap": 1, "keypoint_regression": 2, "keypoint_offset": 2}
KEYPOINT_HEAD_LAYERS = tuple(heads.SINGLE_POSE_HEADS[key] for key in KEYPOINT_HEAD_CHANNELS)


def copy_matching_weights(source, target, exclude=()):
    """Copies every layer whose name and weight shapes match; returns (loaded names, skipped with reasons).

    Layers named in ``exclude`` are left alone (and not listed).
    """
    loaded, skipped = [], []
    source_layers = {layer.name: layer for layer in source.layers}
    for layer in target.layers:
        if not layer.weights or layer.name in exclude:
            continue
        other = source_layers.get(layer.name)
        if other is None:
            skipped.append(f"{layer.name} (not in source)")
            continue
        got = [tuple(w.shape) for w in other.weights]
        want = [tuple(w.shape) for w in layer.weights]
        if got != want:
            skipped.append(f"{layer.name} (shapes {got} vs {want})")
            continue
        layer.set_weights(other.get_weights())
        loaded.append(layer.name)
    return loaded, skipped


def copy_keypoint_channels(source, target, source_names, target_names):
    """Copies the keypoint heads' output channels of the joints both schemas name; returns (copied, new) names.

    Everything before the heads' last 1x1 convolution is shared by all joints, so a joint that keeps its name
    keeps its exact outputs; a new joint keeps the freshly initialised channels of ``target``.
    """
    source_index = {name: i for i, name in enumerate(source_names)}
    copied = [name for name in target_names if name in source_index]
    new = [name for name in target_names if name not in source_index]
    for key, per_joint in KEYPOINT_HEAD_CHANNELS.items():
        prefix = heads.SINGLE_POSE_HEADS[key]
        kernel, bias = (w.copy() for w in target.get_layer(prefix).get_weights())
        src_kernel, src_bias = source.get_layer(prefix).get_weights()
        if src_kernel.shape[:-1] != kernel.shape[:-1] or src_kernel.shape[-1] != per_joint * len(source_names):
            raise ValueError(f"{prefix}: source kernel {src_kernel.shape} does not fit {len(source_names)} joints "
                             f"into target {kernel.shape}")
        for j, name in enumerate(target_names):
            if name in source_index:
                i = source_index[name]
                kernel[..., j * per_joint:(j + 1) * per_joint] = src_kernel[..., i * per_joint:(i + 1) * per_joint]
                bias[j * per_joint:(j + 1) * per_joint] = src_bias[i * per_joint:(i + 1) * per_joint]
        target.get_layer(prefix).set_weights([kernel, bias])
    return copied, new


def _imagenet_backbone(alpha):
    try:
        return keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=alpha, include_top=False,
                                              weights="imagenet")
    except ValueError as err:  # Keras lists the widths it has weights for
        raise UserError(f"model.init=imagenet: no ImageNet MobileNetV2 weights for alpha {alpha} ({err}); "
                        "start from the released MoveNet weights (checkpoint=...) or from scratch") from err
    except Exception as err:  # network errors surface as several types
        raise RuntimeError(f"model.init=imagenet needs to download the Keras MobileNetV2 weights and could not "
                           f"({err}); are you offline? Use model.init=scratch or a checkpoint") from err


def initialize_model(model, spec, init):
    """Loads ``init`` into ``model``; logs and returns what was loaded and what was not.

    When ``init`` predicts another keypoint schema than ``spec`` (e.g. Google's COCO-17 weights into a 13- or
    19-joint model), backbone, FPN, centre (and box) heads are copied whole, and the keypoint heads' channels
    of every joint that keeps its name; the new joints keep their initial values. The log lists both.
    Weights of another input size (192 px Lightning into a 160 px model) load whole, the network being fully
    convolutional; the log says so (one line).
    """
    if init in (None, "scratch"):
        log.info("initialising from scratch")
        return [], []
    source_schema = None
    if init == "imagenet":
        source = _imagenet_backbone(spec.alpha)
    else:
        from movenet_train.runtime import load_keras

        source, source_spec = load_keras(str(init), default_spec=spec)
        source_schema = source_spec.schema
        if source_spec.input_size != spec.input_size:  # fully convolutional: the weights fit any input size
            log.info("initialising a %d px model from %d px weights of %s", spec.input_size, source_spec.input_size,
                     init)
    remap = source_schema is not None and source_schema.names != spec.schema.names
    loaded, skipped = copy_matching_weights(source, model, exclude=KEYPOINT_HEAD_LAYERS if remap else ())
    if remap:
        copied, new = copy_keypoint_channels(source, model, source_schema.names, spec.schema.names)
        loaded += [f"{layer} ({len(copied)} of {spec.schema.num_keypoints} joints)" for layer in KEYPOINT_HEAD_LAYERS]
        log.info("keypoint schema %r -> %r: keypoint-head channels copied for %d joints (%s); initialised fresh for "
                 "%d new joints (%s); not carried over from %s: %s", source_schema.name, spec.schema.name,
                 len(copied), ", ".join(copied) or "none", len(new), ", ".join(new) or "none", init,
                 ", ".join(n for n in source_schema.names if n not in spec.schema.names) or "none")
    log.info("initialised %d layers from %s", len(loaded), init)
    if skipped:
        log.warning("not loaded from %s (kept their initial values): %s", init, ", ".join(skipped))
    return loaded, skipped

"""Maps the convolutions of a released (BatchNorm-folded) MoveNet graph onto the Keras model.

Every reader (TF.js, TFLite, SavedModel) turns its file into a list of ``FoldedConv``: the op's output name
in the released graph, its kernel in TensorFlow layout and its bias (BatchNorm already folded in). This
module finds the Keras layer of each by the ODAPI / Keras names in the released graphs, and writes it back
with BatchNorm layers that reproduce the folded result exactly (gamma 1, beta = folded bias, mean 0,
variance 1 - epsilon), so the imported model is the same function and stays trainable.
"""

import dataclasses
import re

import numpy as np
import tf_keras as keras

from movenet_train.errors import UserError
from movenet_train.modeling import heads as heads_lib
from movenet_train.modeling.fpn import STAGE_CHANNELS, TOP_CHANNELS
from movenet_train.modeling.mobilenet_v2 import LAST_CONV_CHANNELS


class ReleasedGraphError(UserError):
    """A released file whose graph does not map onto the MoveNet model."""


@dataclasses.dataclass
class FoldedConv:
    kind: str  # "conv" (kernel [kh, kw, in, out]) or "depthwise" (kernel [kh, kw, channels, 1])
    name: str  # output name of the op in the released graph
    kernel: np.ndarray
    bias: np.ndarray | None


_HEAD_PREFIXES = {prefix: key for key, prefix in {**heads_lib.SINGLE_POSE_HEADS, **heads_lib.BOX_HEADS}.items()}
# Name components, in the released graphs (ODAPI / Keras names) and in this project's own model and exports.
_HEAD_RE = re.compile("(" + "|".join(_HEAD_PREFIXES) + ")(?:_separable|_relu)?")
_BACKBONE_RE = re.compile(
    r"Conv1|bn_Conv1|Conv1_relu|Conv_1|Conv_1_bn|out_relu"
    r"|(?:expanded_conv|block_\d+)_(?:expand|depthwise|project)(?:_BN|_relu)?"
)
_OWN_FPN_RE = re.compile(r"fpn_(top|lateral|separable|bn|relu)(?:_(\d+))?")


def _backbone_unit(component):
    """``block_3_expand_relu`` -> ``block_3_expand``; ``out_relu`` -> ``Conv_1``."""
    return {"out_relu": "Conv_1", "bn_Conv1": "Conv1", "Conv_1_bn": "Conv_1"}.get(
        component, re.sub(r"(_relu|_BN)$", "", component)
    )


def _fpn_stage_by_channels(channels, which):
    """Stride of the FPN stage whose separable conv has ``channels`` inputs (which='in') or lateral outputs."""
    inputs = {16: TOP_CHANNELS, 8: STAGE_CHANNELS[16][1], 4: STAGE_CHANNELS[8][1]}
    table = inputs if which == "in" else {s: c[0] for s, c in STAGE_CHANNELS.items()}
    matches = [s for s, c in table.items() if c == channels]
    if len(matches) != 1:
        raise ReleasedGraphError(f"no FPN stage has {channels} channels ({which})")
    return matches[0]


def classify(op):
    """Keras unit of a folded op: ``("backbone", "block_1_expand")``, ``("fpn_top",)``, ``("fpn_lateral", 16)``,
    ``("fpn_separable", 16, "depthwise"|"pointwise")``, ``("head", "center_0", "depthwise"|"pointwise"|"final")``."""
    name = op.name.split(";")[0]
    components = name.split("/")
    for component in components:
        head = _HEAD_RE.fullmatch(component)
        if head:
            if op.kind == "depthwise":
                return ("head", head.group(1), "depthwise")
            role = "pointwise" if op.kernel.shape[2] != heads_lib.HEAD_CHANNELS else "final"
            return ("head", head.group(1), role)
    for component in components:
        if _BACKBONE_RE.fullmatch(component):
            return ("backbone", _backbone_unit(component))
    in_channels = op.kernel.shape[2]
    own = [m for m in map(_OWN_FPN_RE.fullmatch, components) if m]
    if "model_1" in components or own:  # the FPN: ODAPI's feature extractor, or this project's names
        if op.kind == "depthwise":
            return ("fpn_separable", _fpn_stage_by_channels(in_channels, "in"), "depthwise")
        if any(m.group(1) in ("separable", "bn", "relu") for m in own) or "separable" in name or "re_lu" in name:
            return ("fpn_separable", _fpn_stage_by_channels(in_channels, "in"), "pointwise")
        if in_channels == LAST_CONV_CHANNELS:
            return ("fpn_top",)
        return ("fpn_lateral", _fpn_stage_by_channels(op.kernel.shape[3], "lateral"))
    raise ReleasedGraphError(f"op {name!r} belongs to no part of MoveNet (backbone, FPN or a head)")


def _identity_batch_norm(layer, bias):
    """BatchNorm that adds ``bias`` and nothing else in inference mode."""
    channels = bias.shape[0]
    layer.set_weights(
        [np.ones(channels, np.float32), bias.astype(np.float32), np.zeros(channels, np.float32),
         np.full(channels, 1.0 - layer.epsilon, np.float32)]
    )


def _set(layer, values, source):
    expected = [tuple(w.shape) for w in layer.weights]
    got = [tuple(v.shape) for v in values]
    if expected != got:
        raise ReleasedGraphError(
            f"layer {layer.name!r}: released weights have shapes {got} but the model expects {expected} "
            f"(from {source}); is the file another MoveNet variant?"
        )
    layer.set_weights([np.asarray(v, np.float32) for v in values])


def _batch_norm_name(unit):
    return {"Conv1": "bn_Conv1", "Conv_1": "Conv_1_bn"}.get(unit, unit + "_BN")


def assign_folded_weights(model, ops, source="released file"):
    """Writes ``ops`` (list of FoldedConv) into ``model``; every conv of the model must be covered once."""
    grouped = {}
    for op in ops:
        key = classify(op)
        unit, role = (key[:-1], key[-1]) if key[0] in ("fpn_separable", "head") else (key, None)
        slot = grouped.setdefault(unit, {})
        if role in slot:
            raise ReleasedGraphError(f"two ops of {source} map to {unit} {role or ''}: {slot[role].name}, {op.name}")
        slot[role] = op

    assigned = set()
    for unit, parts in grouped.items():
        kind = unit[0]
        if kind == "backbone":
            op = parts[None]
            layer = model.get_layer(unit[1])
            _set(layer, [op.kernel], source)
            _identity_batch_norm(model.get_layer(_batch_norm_name(unit[1])), _bias(op))
            assigned.update({layer.name, _batch_norm_name(unit[1])})
        elif kind in ("fpn_top", "fpn_lateral"):
            op = parts[None]
            name = "fpn_top" if kind == "fpn_top" else f"fpn_lateral_{unit[1]}"
            _set(model.get_layer(name), [op.kernel, _bias(op)], source)
            assigned.add(name)
        elif kind == "fpn_separable":
            depthwise, pointwise = _separable_pair(parts, unit, source)
            stride = unit[1]
            _set(model.get_layer(f"fpn_separable_{stride}"), [depthwise.kernel, pointwise.kernel], source)
            _identity_batch_norm(model.get_layer(f"fpn_bn_{stride}"), _fold_depthwise_bias(depthwise, pointwise))
            assigned.update({f"fpn_separable_{stride}", f"fpn_bn_{stride}"})
        elif kind == "head":
            depthwise, pointwise = _separable_pair(parts, unit, source)
            prefix = unit[1]
            if "final" not in parts:
                raise ReleasedGraphError(f"{source}: head {prefix} has no final 1x1 conv")
            _set(
                model.get_layer(f"{prefix}_separable"),
                [depthwise.kernel, pointwise.kernel, _fold_depthwise_bias(depthwise, pointwise)],
                source,
            )
            _set(model.get_layer(prefix), [parts["final"].kernel, _bias(parts["final"])], source)
            assigned.update({f"{prefix}_separable", prefix})

    expected = {
        layer.name
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D,
                              keras.layers.BatchNormalization))
    }
    missing = sorted(expected - assigned)
    if missing:
        raise ReleasedGraphError(f"{source} has no weights for {len(missing)} layers of {model.name}: {missing[:8]}")
    extra = sorted(assigned - expected)
    if extra:
        raise ReleasedGraphError(f"{source} has weights for layers {model.name} lacks: {extra[:8]}")


def _bias(op):
    return op.bias if op.bias is not None else np.zeros(op.kernel.shape[-1], np.float32)


def _separable_pair(parts, unit, source):
    if "depthwise" not in parts or "pointwise" not in parts:
        raise ReleasedGraphError(f"{source}: separable conv of {unit} lacks its depthwise or pointwise half")
    return parts["depthwise"], parts["pointwise"]


def _fold_depthwise_bias(depthwise, pointwise):
    """Pointwise bias that also carries a depthwise bias through the 1x1 kernel (TFLite adds zero ones)."""
    bias = _bias(pointwise).astype(np.float64)
    if depthwise.bias is not None and np.any(depthwise.bias):
        bias = bias + depthwise.bias.astype(np.float64) @ pointwise.kernel[0, 0].astype(np.float64)
    return bias.astype(np.float32)


def infer_architecture(ops):
    """(alpha, multi_pose) of the network the ops come from, read from the first conv's width."""
    from movenet_train.modeling.mobilenet_v2 import make_divisible

    conv1 = [op for op in ops if classify(op) == ("backbone", "Conv1")]
    if not conv1:
        raise ReleasedGraphError("no Conv1 in the released graph: not a MoveNet model")
    channels = conv1[0].kernel.shape[-1]
    alphas = [a for a in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4, 1.5, 1.75, 2.0) if make_divisible(32 * a, 8) == channels]
    # Conv1 alone leaves ties (e.g. 1.3 and 1.4); block_16_project's width (320 * alpha) settles them.
    project = [op for op in ops if classify(op) == ("backbone", "block_16_project")]
    if project:
        width = project[0].kernel.shape[-1]
        alphas = [a for a in alphas if make_divisible(int(320 * a), 8) == width]
    if len(alphas) != 1:
        raise ReleasedGraphError(f"cannot tell the MobileNetV2 width from Conv1 with {channels} channels")
    multi_pose = any(classify(op)[:2] == ("head", "box_scale_0") for op in ops)
    return alphas[0], multi_pose

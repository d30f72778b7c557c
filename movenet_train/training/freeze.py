"""``train.freeze``: keep the backbone (or the backbone and the FPN) of the initial weights while the rest trains.

Small fine-tuning sets overfit a whole network quickly; freezing the MobileNetV2 backbone keeps its ImageNet /
COCO features and trains the FPN and heads (``backbone``), or the heads alone (``backbone_fpn``). Frozen layers
get ``trainable = False``; under tf_keras that also runs their BatchNorm in inference mode (moving statistics,
never updated), so a frozen layer computes exactly what it computed before training.

``train.freeze_batch_norm`` freezes every BatchNorm the same way (statistics and scale / shift): fine-tuning with
small batches then trains the convolutions of a fixed normalisation, instead of re-estimating statistics from a
few hundred images (detectron2's FrozenBatchNorm idea).
"""

import tf_keras as keras

from movenet_train.errors import UserError
from movenet_train.training.config import FREEZE_OPTIONS  # noqa: F401 (re-exported)

FPN_PREFIX = "fpn_"


def layer_groups(model, spec):
    """{"backbone", "fpn", "heads": [layers with weights]}, from the layer names of ``modeling``."""
    heads = tuple(spec.head_keys.values())
    groups = {"backbone": [], "fpn": [], "heads": []}
    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name.startswith(heads):
            groups["heads"].append(layer)
        elif layer.name.startswith(FPN_PREFIX):
            groups["fpn"].append(layer)
        else:  # MobileNetV2: Conv1, bn_Conv1, expanded_conv_*, block_*, Conv_1, Conv_1_bn
            groups["backbone"].append(layer)
    return groups


def freeze_layers(model, spec, freeze, batch_norm=False):
    """Sets ``trainable = False`` on the layers ``freeze`` names (and on every BatchNorm with ``batch_norm``);
    returns the frozen layers' names."""
    if freeze in (None, "none"):
        freeze = "none"
    if freeze not in FREEZE_OPTIONS:
        raise UserError(f"train.freeze={freeze!r}: expected one of {', '.join(FREEZE_OPTIONS)}")
    groups = layer_groups(model, spec)
    frozen = []
    if freeze != "none":
        frozen = groups["backbone"] + (groups["fpn"] if freeze == "backbone_fpn" else [])
    if batch_norm:
        frozen += [layer for layer in model.layers
                   if isinstance(layer, keras.layers.BatchNormalization) and layer not in frozen]
    for layer in frozen:
        layer.trainable = False
    return [layer.name for layer in frozen]

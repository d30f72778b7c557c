"""``train.freeze``: keep the backbone (or the backbone and the FPN) of the initial weights while the rest trains.

Small fine-tuning sets overfit a whole network quickly; freezing the MobileNetV2 backbone keeps its ImageNet /
COCO features and trains the FPN and heads (``backbone``), or the heads alone (``backbone_fpn``). Frozen layers
get ``trainable = False``; under tf_keras that also runs their BatchNorm in inference mode (moving statistics,
never updated), so a frozen layer computes exactly what it computed before training.
"""

FREEZE_OPTIONS = ("none", "backbone", "backbone_fpn")
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


def freeze_layers(model, spec, freeze):
    """Sets ``trainable = False`` on the layers ``freeze`` names; returns the frozen layers' names."""
    if freeze in (None, "none"):
        return []
    if freeze not in FREEZE_OPTIONS:
        raise ValueError(f"train.freeze={freeze!r}: expected one of {', '.join(FREEZE_OPTIONS)}")
    groups = layer_groups(model, spec)
    frozen = groups["backbone"] + (groups["fpn"] if freeze == "backbone_fpn" else [])
    for layer in frozen:
        layer.trainable = False
    return [layer.name for layer in frozen]

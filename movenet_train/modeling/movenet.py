"""``build_model``: the trainable MoveNet (raw head outputs); the inference wrapper lives in ``inference.py``."""

import dataclasses

import tf_keras as keras

from movenet_train.keypoints import NUM_KEYPOINTS
from movenet_train.modeling import fpn, heads, mobilenet_v2

# Multi-pose inputs: height and width must be multiples of the backbone's output stride.
MULTI_POSE_STRIDE = 32


@dataclasses.dataclass(frozen=True)
class MoveNetSpec:
    """What distinguishes the variants; built from the ``model`` config group."""

    name: str
    alpha: float
    input_size: int  # square input of single-pose models; long side for multi-pose
    multi_pose: bool = False
    num_keypoints: int = NUM_KEYPOINTS
    heatmap_bias_init: float = -2.19
    batch_norm_momentum: float = 0.99

    @classmethod
    def from_config(cls, cfg):
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in dict(cfg).items() if k in fields})

    @property
    def head_keys(self):
        keys = dict(heads.SINGLE_POSE_HEADS)
        if self.multi_pose:
            keys.update(heads.BOX_HEADS)
        return keys


def build_model(spec: MoveNetSpec, name=None):
    """MoveNet as a tf_keras functional model: float RGB 0-255 ``[B,H,W,3]`` -> dict of head logits at stride 4."""
    images = keras.Input(shape=(None, None, 3), name="image")
    # Preprocessing as in the released graphs: x / 127.5 - 1.
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocess")(images)
    endpoints = mobilenet_v2.build_mobilenet_v2(x, spec.alpha, spec.batch_norm_momentum)
    features = fpn.build_fpn(endpoints, spec.batch_norm_momentum)
    outputs = {
        key: heads.build_head(
            features, key, prefix, heads.head_channels(key, spec.num_keypoints), spec.heatmap_bias_init
        )
        for key, prefix in spec.head_keys.items()
    }
    return keras.Model(images, outputs, name=name or f"movenet_{spec.name}")


def folded_parameter_count(model):
    """Parameters as the released (BatchNorm-folded) graphs store them: kernels, plus one bias per conv/BN pair."""
    count = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            count += layer.beta.shape[0]  # folded into the preceding conv's bias
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)):
            count += sum(int(w.shape.num_elements()) for w in layer.weights)
    return count

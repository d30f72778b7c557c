"""``MoveNetSpec``: what distinguishes the variants, from the ``model`` config group. No TensorFlow here, so that a
command checks its model config (and ``model_files`` reads a file's spec) before anything heavy is imported."""

import dataclasses

from movenet_train.errors import UserError
from movenet_train.keypoints import DEFAULT_SCHEMA, KeypointSchema

# Keys of the model group that training reads (initial weights), not part of the network's spec.
TRAINING_ONLY_MODEL_KEYS = ("init", "recalibrate_batch_norm", "recalibrate_batch_norm_batches")
# Multi-pose inputs: height and width must be multiples of the backbone's output stride.
MULTI_POSE_STRIDE = 32
# The key of eval, export and predict (configs/{eval,export,predict}.yaml) that runs a single-pose model file at
# another square size on purpose; null: the size the file was trained at (a checkpoint's movenet.json or run
# config) or is fixed to (an exported or released file's signature).
RUN_SIZE_KEY = "input_size"


def check_input_size(value, key):
    """A square input size: a whole number, a positive multiple of 32 (the backbone's stride: the FPN adds maps
    of strides 4 to 32); None passes (the key is unset). A ``ConfigError`` naming ``key`` otherwise."""
    from movenet_train.config import COUNT, ConfigError

    size = COUNT.check(value, key)
    if size is not None and size % MULTI_POSE_STRIDE:
        raise ConfigError(f"{key} must be a multiple of {MULTI_POSE_STRIDE} (the backbone's output stride), "
                          f"got {size}")
    return size


@dataclasses.dataclass(frozen=True)
class MoveNetSpec:
    """What distinguishes the variants; built from the ``model`` config group."""

    name: str
    alpha: float
    input_size: int  # square input of single-pose models; long side for multi-pose
    multi_pose: bool = False
    num_keypoints: int = None  # None: the schema's count (the config default's without a schema)
    heatmap_bias_init: float = -2.19
    batch_norm_momentum: float = 0.99
    # The keypoint schema (names, flips, skeleton, sigmas, torso). None: not given, which a checkpoint's
    # stored schema fills in when the model is restored; the config default (DEFAULT_SCHEMA) for a model of its
    # joint count otherwise.
    keypoints: KeypointSchema = None
    # Quantisation-aware (train.qat): the network with TFLite's INT8 arithmetic simulated in training
    # (modeling/quantization.py). Set by training, recorded in checkpoints; not a key of the model config.
    qat: bool = False

    def __post_init__(self):
        if isinstance(self.keypoints, dict):  # read back from movenet.json
            object.__setattr__(self, "keypoints", KeypointSchema.from_dict(self.keypoints, "movenet.json 'spec'"))
        if self.num_keypoints is None:
            object.__setattr__(self, "num_keypoints", self.keypoints.num_keypoints if self.keypoints else
                               DEFAULT_SCHEMA.num_keypoints)
        if self.keypoints is not None and self.num_keypoints != self.keypoints.num_keypoints:
            raise UserError(
                f"model.num_keypoints={self.num_keypoints} but the keypoint schema {self.keypoints.name!r} "
                f"({self.keypoints.source}) has {self.keypoints.num_keypoints} joints; leave model.num_keypoints "
                "null to take the schema's count")

    @classmethod
    def from_config(cls, cfg, keypoints=None):
        """From the ``model`` group; ``keypoints``: a ``KeypointSchema`` or the ``keypoints`` group (or None)."""
        from movenet_train.config import check_keys

        fields = {f.name for f in dataclasses.fields(cls)} - {"keypoints", "qat"}
        values = dict(cfg)
        check_keys(values, fields | set(TRAINING_ONLY_MODEL_KEYS), "model")
        if keypoints is not None and not isinstance(keypoints, KeypointSchema):
            keypoints = KeypointSchema.from_config(keypoints)
        if "input_size" in values:
            values["input_size"] = check_input_size(values["input_size"], "model.input_size")
        return cls(**{k: v for k, v in values.items() if k in fields}, keypoints=keypoints)

    @property
    def schema(self):
        """The keypoint schema of the model's outputs."""
        if self.keypoints is not None:
            return self.keypoints
        if self.num_keypoints == DEFAULT_SCHEMA.num_keypoints:
            return DEFAULT_SCHEMA
        raise UserError(f"MoveNet {self.name} predicts {self.num_keypoints} keypoints but has no keypoint schema; "
                        "pass keypoints=<schema> (configs/keypoints)")

    def with_schema(self):
        """This spec with its schema filled in (what checkpoints record)."""
        return dataclasses.replace(self, keypoints=self.schema)

    @property
    def head_keys(self):
        from movenet_train.modeling import heads

        keys = dict(heads.SINGLE_POSE_HEADS)
        if self.multi_pose:
            keys.update(heads.BOX_HEADS)
        return keys

"""The ``train`` config group as typed objects (defaults: configs/train/default.yaml and schedules), ``train.loss``
and ``train.distill`` included. No TensorFlow here: the training job checks them before anything is built."""

import dataclasses
import typing
from typing import Optional

from movenet_train.config import COUNT, NON_NEGATIVE, NON_NEGATIVE_COUNT, OPEN_UNIT, POSITIVE, Range
from movenet_train.errors import UserError

# train.freeze: the layers kept at their initial weights (training/freeze.py).
FREEZE_OPTIONS = ("none", "backbone", "backbone_fpn")


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """``train.loss`` (ODAPI's defaults)."""

    DEFAULTS: typing.ClassVar = ("train/default.yaml", "loss")  # the defaults' one home, under configs/
    RANGES: typing.ClassVar = {
        "focal_alpha": NON_NEGATIVE, "focal_beta": NON_NEGATIVE, "sigmoid_clip": Range(0, 0.5, True, True),
        **{f"{head}_weight": NON_NEGATIVE for head in ("center", "keypoint_heatmap", "keypoint_offset",
                                                       "keypoint_regression", "box_scale", "box_offset")},
    }

    focal_alpha: float
    focal_beta: float
    sigmoid_clip: float
    center_weight: float
    keypoint_heatmap_weight: float
    keypoint_offset_weight: float
    keypoint_regression_weight: float
    box_scale_weight: float
    box_offset_weight: float


# train.teacher of configs/train/schedule/distill.yaml: the command line must name the teacher. Not ``???``: OmegaConf
# keeps a value when ``???`` is merged over it, so the finetune schedule's ``teacher: initial`` underneath survived
# and a distillation without ``train.teacher=`` ran with its own initial weights as the teacher.
TEACHER_REQUIRED = "required"

# What the teacher sees (train.distill.view): the student's own input; the student's input before its quarter
# turns; the window without any augmentation. The last two are carried to the student's view (training/teacher.py).
DISTILL_VIEWS = ("student", "upright", "unaugmented")


@dataclasses.dataclass(frozen=True)
class DistillConfig:
    """``train.distill``: how a teacher's head outputs supervise the student (``train.teacher``)."""

    DEFAULTS: typing.ClassVar = ("train/default.yaml", "distill")  # the defaults' one home, under configs/
    RANGES: typing.ClassVar = {name: NON_NEGATIVE for name in ("weight", "ground_truth_weight", "center", "keypoint_heatmap",
                                                               "keypoint_offset", "keypoint_regression", "box_scale",
                                                               "box_offset")}

    weight: float  # of the distillation terms in the total
    ground_truth_weight: float  # of the ground-truth terms (train.loss) in the total; 0: teacher only
    center: float
    keypoint_heatmap: float
    keypoint_offset: float
    keypoint_regression: float
    box_scale: float
    box_offset: float
    view: str  # DISTILL_VIEWS

    def __post_init__(self):
        if self.view not in DISTILL_VIEWS:
            raise UserError(f"train.distill.view: expected one of {DISTILL_VIEWS}, got {self.view!r}")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """``train.optimizer``: official.modeling optimiser with linear warm-up + cosine decay."""

    RANGES: typing.ClassVar = {"learning_rate": POSITIVE, "warmup_steps": NON_NEGATIVE_COUNT,
                               "weight_decay": NON_NEGATIVE, "gradient_clip_norm": POSITIVE}

    type: str
    learning_rate: float
    warmup_steps: int
    weight_decay: float
    gradient_clip_norm: Optional[float]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """``train``: schedule, strategy, checkpointing and validation of ``python train.py``."""

    RANGES: typing.ClassVar = {
        "batch_size": COUNT, "steps": COUNT, "steps_per_loop": COUNT, "ema_decay": OPEN_UNIT,
        "checkpoint_every": COUNT, "max_checkpoints": COUNT,
        "validate_every": NON_NEGATIVE_COUNT,  # 0: never validate (model/ is still written at the end)
        "precise_batch_norm_batches": NON_NEGATIVE_COUNT,
        "val_batches": Range(-1, integer=True),  # -1: the whole val set (Orbit's evaluate)
        "val_summary_images": NON_NEGATIVE_COUNT, "qat_calibration_batches": NON_NEGATIVE_COUNT,
    }

    strategy: str
    devices: Optional[tuple]
    tpu_address: Optional[str]
    batch_size: int
    steps: int
    steps_per_loop: int
    optimizer: OptimizerConfig
    freeze: str
    freeze_batch_norm: bool
    ema_decay: Optional[float]
    mixed_precision: Optional[str]
    jit_compile: bool
    deterministic: bool
    checkpoint_every: int
    max_checkpoints: int
    validate_every: int
    precise_batch_norm_batches: int
    precise_batch_norm_keep_function: bool
    val_batches: int
    val_summary_images: int
    progress_bar: bool
    loss: LossConfig
    teacher: Optional[str]
    distill: DistillConfig
    qat: bool
    qat_calibration_batches: int

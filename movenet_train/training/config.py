"""The ``train`` config group as typed objects (defaults: configs/train/default.yaml and schedules)."""

import dataclasses
import typing
from typing import Optional

from movenet_train.config import COUNT, NON_NEGATIVE, NON_NEGATIVE_COUNT, OPEN_UNIT, POSITIVE, Range
from movenet_train.losses import DistillConfig, LossConfig


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
        "checkpoint_every": COUNT, "max_checkpoints": COUNT, "validate_every": COUNT,
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

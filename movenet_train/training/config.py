"""The ``train`` config group as typed objects (defaults: configs/train/default.yaml and schedules)."""

import dataclasses
from typing import Optional

from movenet_train.losses import DistillConfig, LossConfig


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
    """``train.optimizer``: official.modeling optimiser with linear warm-up + cosine decay."""

    type: str
    learning_rate: float
    warmup_steps: int
    weight_decay: float
    gradient_clip_norm: Optional[float]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """``train``: schedule, strategy, checkpointing and validation of ``python train.py``."""

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

"""The ``eval`` config group as a typed object (defaults: configs/eval/default.yaml)."""

import dataclasses
import typing
from typing import Optional

from movenet_train.config import COUNT, POSITIVE, PROBABILITY


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """Keyword arguments of ``evaluation.evaluate`` that eval/evaluate.py and training validation share."""

    RANGES: typing.ClassVar = {"crop_scale": POSITIVE, "long_side": COUNT, "multiple": COUNT,
                               "score_threshold": PROBABILITY, "batch_size": COUNT, "max_images": COUNT}

    annotations: Optional[str]
    images: Optional[str]
    records: Optional[str]
    protocol: Optional[str]
    crop: str
    crop_scale: float
    long_side: int
    multiple: int
    score_threshold: float
    batch_size: int
    orientation: str
    max_images: Optional[int]
    orientation_slices: bool

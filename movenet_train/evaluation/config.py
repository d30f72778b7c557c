"""The ``eval`` config group as a typed object (defaults: configs/eval/default.yaml)."""

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """Keyword arguments of ``evaluation.evaluate`` that eval/evaluate.py and training validation share."""

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
    max_images: Optional[int]
    orientation_slices: bool

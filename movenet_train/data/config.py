"""The ``data`` config group as typed objects (defaults: configs/data/*.yaml and their loader/augment/targets).

``data_config`` validates a ``data`` node with ``config.config_from``: an unknown key anywhere in the group
(``data.loader.shufle_buffer``) is an error naming it. The augment, targets and generator blocks are checked
by their own dataclasses where they are built.
"""

import dataclasses
import typing
from typing import Any, Optional

from movenet_train.config import COUNT, NON_NEGATIVE_COUNT, POSITIVE, PROBABILITY, config_from


@dataclasses.dataclass(frozen=True)
class SinglePoseFraming:
    """``data.loader.single_pose``: how a single-pose training example is cropped around its target person."""

    DEFAULTS: typing.ClassVar = ("data/loader/default.yaml", "single_pose")  # the defaults' one home, under configs/
    RANGES: typing.ClassVar = {"min_target_keypoints": NON_NEGATIVE_COUNT, "crop_scale": POSITIVE,
                               "full_image_probability": PROBABILITY}

    min_target_keypoints: int
    crop_scale: float
    full_image_probability: float


@dataclasses.dataclass(frozen=True)
class LoaderConfig:
    """``data.loader``: tf.data settings."""

    RANGES: typing.ClassVar = {"shuffle_buffer": COUNT, "cycle_length": COUNT}

    shuffle_buffer: int
    cycle_length: int
    num_parallel_calls: Optional[int]
    prefetch: Optional[int]
    seed: int
    skip_images_without_people: bool
    single_pose: SinglePoseFraming


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """``data``: where the records are and how they are read; ``augment``, ``targets`` and ``generator`` stay
    mappings here (checked by ``AugmentConfig``, ``TargetConfig`` and ``GeneratorConfig``)."""

    name: str
    root: str
    train_records: Optional[str]
    val_records: Optional[str]
    val_annotations: Optional[str]
    val_images: Optional[str]
    loader: LoaderConfig
    augment: Any
    targets: Any
    skip_corrupt: bool  # read damaged record shards up to their damage instead of failing (data/shards.py)
    num_train_images: Optional[int] = None  # generated datasets
    num_val_images: Optional[int] = None
    generator: Any = None  # the synthetic set's options (movenet_train/data/synthetic.py)
    sources: Any = None  # weighted record sets (movenet_train/data/sources.py)
    service: Optional[str] = None  # a tf.data service dispatcher for the training pipeline (data/service.py)

    def __getitem__(self, key):
        return getattr(self, key)

    def get(self, key, default=None):
        value = getattr(self, key, default)
        return default if value is None else value


def data_config(node):
    """A ``DataConfig`` from the ``data`` node (or the object itself)."""
    return config_from(DataConfig, node, "data")

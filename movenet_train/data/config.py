"""The ``data`` config group as typed objects (defaults: configs/data/*.yaml and their loader/augment/targets).

``data_config`` validates a ``data`` node with ``config.config_from``: an unknown key anywhere in the group
(``data.loader.shufle_buffer``) is an error naming it. The augment, targets and generator blocks are checked
by their own dataclasses where they are built.
"""

import dataclasses
import typing
from typing import Any, Optional

from movenet_train.config import config_from


@dataclasses.dataclass(frozen=True)
class SinglePoseFraming:
    """``data.loader.single_pose``: how a single-pose training example is cropped around its target person."""

    DEFAULTS: typing.ClassVar = ("data/loader/default.yaml", "single_pose")  # the defaults' one home, under configs/

    min_target_keypoints: int
    crop_scale: float
    full_image_probability: float


@dataclasses.dataclass(frozen=True)
class LoaderConfig:
    """``data.loader``: tf.data settings."""

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
    num_train_images: Optional[int] = None  # generated datasets
    num_val_images: Optional[int] = None
    generator: Any = None  # the synthetic set's options (movenet_train/data/synthetic.py)
    sources: Any = None  # weighted record sets (movenet_train/data/sources.py)

    def __getitem__(self, key):
        return getattr(self, key)

    def get(self, key, default=None):
        value = getattr(self, key, default)
        return default if value is None else value


def data_config(node):
    """A ``DataConfig`` from the ``data`` node (or the object itself)."""
    return config_from(DataConfig, node, "data")

"""autolabel's options (configs/autolabel.yaml, their one home) and their checks.

Light on purpose (no TensorFlow): the command reads and checks them, and a rerun with nothing left to label
returns, before a model or TensorFlow loads (``resume.py``).
"""

import dataclasses
import os
import typing

from movenet_train.config import COUNT, CONFIG_DIR, JPEG_QUALITY, OPEN_UNIT, POSITIVE, PROBABILITY, Range, config_from
from movenet_train.errors import UserError

PEOPLE = ("single", "multi")
TRANSFORMS = ("flip", "scales", "orientation")
# The keys that make a run's labels what they are: a rerun into the same output must use the same.
SETTINGS_KEYS = ("people", "transforms", "scales", "crop_scale", "min_keypoint_score", "min_person_score",
                 "min_pose_score", "duplicate_oks", "frame_step", "jpeg_quality")


def check_people(people):
    if people not in PEOPLE:
        raise UserError(f"people={people!r}: expected one of {', '.join(PEOPLE)}")
    return people


def check_transforms(transforms, scales=(1.0,)):
    """The transforms as a tuple in ``TRANSFORMS`` order, or a ``UserError`` naming the key."""
    transforms = tuple(transforms or ())
    unknown = [t for t in transforms if t not in TRANSFORMS]
    if unknown:
        raise UserError(f"transforms: unknown {', '.join(map(repr, unknown))}; expected any of "
                        f"{', '.join(TRANSFORMS)} ([] for the single pass)")
    if "scales" in transforms and (len(scales) < 2 or not all(s > 0 for s in scales)):
        raise UserError(f"scales={list(scales)}: transforms=[scales] needs two or more positive crop scale factors")
    return tuple(t for t in TRANSFORMS if t in transforms)


@dataclasses.dataclass(frozen=True)
class ContactSheetOptions:
    enabled: bool
    tile_size: int
    columns: int
    rows: int
    max_pages: int

    RANGES: typing.ClassVar = {"tile_size": Range(32, integer=True), "columns": COUNT, "rows": COUNT,
                               "max_pages": Range(0, integer=True)}


@dataclasses.dataclass(frozen=True)
class Options:
    """The labelling options of ``configs/autolabel.yaml`` (their one home, with what each does)."""

    people: str
    transforms: tuple
    scales: tuple
    crop_scale: float
    min_keypoint_score: float
    min_person_score: float
    min_pose_score: float
    duplicate_oks: float
    frame_step: int
    batch_size: int
    jpeg_quality: int
    contact_sheet: ContactSheetOptions

    RANGES: typing.ClassVar = {"crop_scale": POSITIVE, "min_keypoint_score": PROBABILITY,
                               "min_person_score": PROBABILITY, "min_pose_score": PROBABILITY,
                               "duplicate_oks": OPEN_UNIT, "frame_step": COUNT, "batch_size": COUNT,
                               "jpeg_quality": JPEG_QUALITY}

    def __post_init__(self):
        check_people(self.people)
        object.__setattr__(self, "scales", tuple(float(s) for s in self.scales))
        object.__setattr__(self, "transforms", check_transforms(self.transforms, self.scales))

    @classmethod
    def from_config(cls, cfg, **overrides):
        """From a config holding the keys at its top level (``configs/autolabel.yaml``); ``overrides`` win."""
        from omegaconf import OmegaConf

        values = OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else dict(cfg)
        values = {f.name: values[f.name] for f in dataclasses.fields(cls) if f.name in values}
        values.update(overrides)
        return config_from(cls, values, "autolabel")

    @classmethod
    def defaults(cls, **overrides):
        """The options of ``configs/autolabel.yaml`` with ``overrides`` merged in (a nested mapping overrides only
        the keys it names): library use, tests, benchmarks, experiments."""
        from omegaconf import OmegaConf

        node = OmegaConf.load(os.path.join(CONFIG_DIR, "autolabel.yaml"))
        values = {key: list(value) if isinstance(value, tuple) else value for key, value in overrides.items()}
        return cls.from_config(OmegaConf.merge(node, OmegaConf.create(values)))

    def settings(self):
        values = dataclasses.asdict(self)
        return {key: list(values[key]) if isinstance(values[key], tuple) else values[key] for key in SETTINGS_KEYS}

"""One way from a Hydra/OmegaConf node to a typed config object: ``config_from(cls, node, key)``.

Every config group the library reads is a frozen dataclass; ``config_from`` is the only converter. Its policy
is strict and the same everywhere: an unknown key is an error naming its full key (``data.augment.flip_prob``),
a missing required key too, nested dataclass fields are converted recursively, lists become tuples where the
field is a tuple and integers floats where it is a float (``learning_rate=1``), and a value outside its ``Range``
(the class's ``RANGES``) is an error naming the key: ``train.optimizer.learning_rate must be > 0, got -1``.

Every default lives once, in the YAML files under ``configs/``: the dataclasses have no defaults of their own,
and code that builds a config object outside Hydra (library use, tests, benchmarks) reads the same YAML with
``default_config(cls, **overrides)``.
"""

import dataclasses
import importlib.resources
import math
import os
import types
import typing

from omegaconf import DictConfig, ListConfig, OmegaConf

from movenet_train.errors import UserError


def _config_dir():
    """The folder of the YAML configs: the copy shipped inside the package (``movenet_train/configs``, present
    only in a non-editable install: pyproject.toml maps the checkout's ``configs/`` there), else the checkout's
    ``configs/`` beside the package (``pip install -e .``, the checkout's scripts)."""
    installed = importlib.resources.files(__package__).joinpath("configs")
    if installed.is_dir():
        return os.fspath(installed)
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "configs"))


CONFIG_DIR = _config_dir()


class ConfigError(UserError):
    """A config key that is unknown, missing or of the wrong kind; the message names it."""


@dataclasses.dataclass(frozen=True)
class Range:
    """The values a numeric config key may take: from ``low`` to ``high`` (None: unbounded), each end open or
    closed, whole numbers only with ``integer``. A dataclass lists its keys' ranges in ``RANGES`` (checked by
    ``config_from``); a command checks its top-level keys with ``check``. None passes: whether a key may be null is
    its type's business."""

    low: typing.Optional[float] = None
    high: typing.Optional[float] = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def __str__(self):
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return f"{'<' if self.high_open else '<='} {self.high:g}"

    def check(self, value, key):
        """``value`` (an int for ``integer``: 3.0 -> 3), or a ``ConfigError`` naming ``key``."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                self.integer and not (math.isfinite(value) and float(value).is_integer())):
            raise ConfigError(f"{key} must be {'an integer' if self.integer else 'a number'} {self}, got {value!r}")
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        above = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if below or above or math.isnan(value):
            raise ConfigError(f"{key} must be {self}, got {value!r}")
        return int(value) if self.integer else value


POSITIVE = Range(0, low_open=True)
NON_NEGATIVE = Range(0)
PROBABILITY = Range(0, 1)
OPEN_UNIT = Range(0, 1, low_open=True, high_open=True)  # a decay, an overlap
COUNT = Range(1, integer=True)  # steps, batches, sizes
NON_NEGATIVE_COUNT = Range(0, integer=True)
JPEG_QUALITY = Range(1, 100, integer=True)


def plain_values(value):
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


def _dataclass_type(annotation):
    """The dataclass inside ``annotation`` (``X``, ``Optional[X]``, ``X | None``), else None."""
    if dataclasses.is_dataclass(annotation):
        return annotation
    for arg in typing.get_args(annotation):
        if dataclasses.is_dataclass(arg):
            return arg
    return None


def _is_tuple_field(field, annotation):
    return (annotation is tuple or typing.get_origin(annotation) is tuple
            or isinstance(field.default, tuple))


def _is_float_field(annotation):
    """``float``, ``Optional[float]`` or ``float | None``."""
    return annotation is float or (typing.get_origin(annotation) in (typing.Union, types.UnionType)
                                   and float in typing.get_args(annotation))


def _as_float(value, key):
    """A float field's value as a float (YAML and the command line give ``1`` for 1.0), or a ``ConfigError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, got {value!r}")
    return float(value)


def check_keys(values, known, key):
    """The policy on unknown keys, for ``config_from`` and the readers with a format of their own (the model
    group, keypoint schemas): an error naming each unknown key in full and listing the known ones."""
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{key}: unknown key{'s' if len(unknown) > 1 else ''} "
                          + ", ".join(f"{key}.{name}" for name in unknown)
                          + f" (known: {', '.join(sorted(known))})")


def config_from(cls, node, key):
    """``cls(**node)`` with the strict policy above; ``node`` may already be a ``cls`` (returned as is)."""
    if isinstance(node, cls):
        return node
    values = plain_values(node)
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"{key}: expected a mapping of {cls.__name__} keys, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    check_keys(values, fields, key)
    hints = typing.get_type_hints(cls)
    ranges = getattr(cls, "RANGES", {})
    kwargs = {}
    for name, value in values.items():
        nested = _dataclass_type(hints.get(name))
        if nested is not None and value is not None:
            value = config_from(nested, value, f"{key}.{name}")
        elif isinstance(value, list) and _is_tuple_field(fields[name], hints.get(name)):
            value = tuple(value)
        if name in ranges:
            value = ranges[name].check(value, f"{key}.{name}")
        if _is_float_field(hints.get(name)):
            value = _as_float(value, f"{key}.{name}")
        kwargs[name] = value
    missing = sorted(name for name, f in fields.items() if name not in kwargs and f.default is dataclasses.MISSING
                     and f.default_factory is dataclasses.MISSING)
    if missing:
        raise ConfigError(f"{key}: missing key{'s' if len(missing) > 1 else ''} "
                          + ", ".join(f"{key}.{name}" for name in missing))
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        if isinstance(err, ConfigError) or str(err).startswith(key):
            raise
        raise ConfigError(f"{key}: {err}") from err


def default_config(cls, **overrides):
    """``cls`` with the defaults of its YAML home (``cls.DEFAULTS``: a file under configs/ and a key in it, or None
    for the whole file), then ``overrides`` (field values; nested dataclasses as objects or mappings)."""
    from omegaconf import OmegaConf

    relative, key = cls.DEFAULTS
    path = os.path.join(CONFIG_DIR, relative)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: the defaults of {cls.__name__} are missing; install the package from a "
                                "checkout (pip install -e .)")
    node = OmegaConf.load(path)
    if key:
        node = OmegaConf.select(node, key)
    values = {k: v for k, v in OmegaConf.to_container(node).items() if k != "defaults"}
    values.update(overrides)
    return config_from(cls, values, f"configs/{relative}" + (f": {key}" if key else ""))

"""``config_from``: the one strict converter from config nodes to typed objects."""

import dataclasses
from typing import Optional

import pytest
from omegaconf import OmegaConf

from movenet_train.config import ConfigError, config_from


@dataclasses.dataclass(frozen=True)
class Inner:
    size: tuple
    flag: bool = False


@dataclasses.dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    extra: Optional[Inner] = None
    ratio: float = 0.5


def test_nested_lists_and_defaults():
    node = OmegaConf.create({"name": "a", "inner": {"size": [1, 2]}, "ratio": "${inner.size.1}"})
    got = config_from(Outer, node, "model")
    assert got == Outer("a", Inner((1, 2)), None, 2)
    assert config_from(Outer, got, "model") is got


def test_unknown_key_names_the_full_key():
    node = OmegaConf.create({"name": "a", "inner": {"size": [1], "flg": True}})
    with pytest.raises(ConfigError, match=r"model\.inner: unknown key model\.inner\.flg \(known: flag, size\)"):
        config_from(Outer, node, "model")


def test_missing_key_names_the_full_key():
    with pytest.raises(ConfigError, match=r"missing key model\.inner$"):
        config_from(Outer, {"name": "a"}, "model")


def test_not_a_mapping():
    with pytest.raises(ConfigError, match=r"model\.inner: expected a mapping of Inner keys, got 3"):
        config_from(Outer, {"name": "a", "inner": 3}, "model")

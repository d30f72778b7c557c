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


# Every group the library reads rejects a key it does not know, naming it. Hydra itself refuses an unknown key
# given as `key=value`; these come in with `+key=value` or from a user's own YAML file.
UNKNOWN_KEYS = {
    "+train.lerning_rate=1": "train.lerning_rate",
    "+train.optimizer.bogus=1": "train.optimizer.bogus",
    "+train.loss.bogus=1": "train.loss.bogus",
    "+eval.crops=1": "eval.crops",
    "+model.widht=1": "model.widht",
    "+data.trian_records=x": "data.trian_records",
    "+data.loader.shufle_buffer=1": "data.loader.shufle_buffer",
    "+data.loader.single_pose.bogus=1": "data.loader.single_pose.bogus",
    "+data.augment.flip_prob=1": "data.augment.flip_prob",
    "+data.targets.radius=1": "data.targets.radius",
    "+data.generator.colour=1": "data.generator.colour",
}


@pytest.mark.parametrize("override", sorted(UNKNOWN_KEYS))
def test_an_unknown_key_in_any_group_is_an_error_naming_it(override):
    from hydra import compose, initialize_config_dir

    from movenet_train.data.augment import AugmentConfig
    from movenet_train.data.config import data_config
    from movenet_train.data.synthetic import GeneratorConfig
    from movenet_train.data.targets import TargetConfig
    from movenet_train.evaluation.config import EvalOptions
    from movenet_train.keypoints import KeypointSchema
    from movenet_train.modeling import MoveNetSpec
    from movenet_train.training.config import TrainConfig
    from tests.helpers import REPO

    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=["exp=lightning", "data=synthetic", override])
    readers = [lambda: config_from(TrainConfig, cfg.train, "train"), lambda: config_from(EvalOptions, cfg.eval, "eval"),
               lambda: MoveNetSpec.from_config(cfg.model), lambda: data_config(cfg.data),
               lambda: AugmentConfig.from_config(cfg.data.augment),
               lambda: TargetConfig.from_config(cfg.data.targets, KeypointSchema.from_config(cfg.keypoints)),
               lambda: GeneratorConfig.from_config(cfg.data.generator)]
    errors = []
    for read in readers:
        try:
            read()
        except ConfigError as err:
            errors.append(str(err))
    assert len(errors) == 1 and UNKNOWN_KEYS[override] in errors[0], errors

"""Config values outside their range: an error naming the full key, before anything runs (issue #22)."""

import math

import pytest
from hydra import compose, initialize_config_dir

from movenet_train.config import COUNT, OPEN_UNIT, POSITIVE, PROBABILITY, ConfigError, Range, config_from
from movenet_train.data.augment import AugmentConfig
from movenet_train.data.config import data_config
from movenet_train.evaluation.config import EvalOptions
from movenet_train.training.config import TrainConfig
from tests.helpers import REPO


@pytest.mark.parametrize("valid, text", [(POSITIVE, "> 0"), (COUNT, ">= 1"), (PROBABILITY, "in [0, 1]"),
                                         (OPEN_UNIT, "in (0, 1)"), (Range(high=2.5, high_open=True), "< 2.5")])
def test_a_range_says_what_it_allows(valid, text):
    assert str(valid) == text


@pytest.mark.parametrize("valid, value, message", [
    (POSITIVE, 0, "x must be > 0, got 0"),
    (POSITIVE, -1e-9, "x must be > 0, got -1e-09"),
    (POSITIVE, math.nan, "x must be > 0, got nan"),
    (PROBABILITY, 1.5, r"x must be in \[0, 1\], got 1.5"),
    (OPEN_UNIT, 1, r"x must be in \(0, 1\), got 1"),
    (COUNT, 2.5, "x must be an integer >= 1, got 2.5"),
    (COUNT, "abc", "x must be an integer >= 1, got 'abc'"),
    (COUNT, True, "x must be an integer >= 1, got True"),
    (POSITIVE, "1e-3", "x must be a number > 0, got '1e-3'"),
])
def test_a_value_outside_its_range_is_an_error_naming_the_key(valid, value, message):
    with pytest.raises(ConfigError, match=f"^{message}$"):
        valid.check(value, "x")


def test_values_inside_pass_integers_as_int_and_null_as_is():
    assert COUNT.check(3.0, "x") == 3 and isinstance(COUNT.check(3.0, "x"), int)
    assert PROBABILITY.check(0, "x") == 0 and PROBABILITY.check(1, "x") == 1
    assert POSITIVE.check(None, "x") is None


def _compose(config, *overrides):
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        return compose(config, overrides=list(overrides))


@pytest.mark.parametrize("override, message", [
    ("train.optimizer.learning_rate=-1", "train.optimizer.learning_rate must be > 0, got -1"),
    ("train.batch_size=0", "train.batch_size must be >= 1, got 0"),
    ("train.steps=2.5", "train.steps must be an integer >= 1, got 2.5"),
    ("train.ema_decay=1", r"train.ema_decay must be in \(0, 1\), got 1"),
    ("train.optimizer.weight_decay=-1e-5", "train.optimizer.weight_decay must be >= 0, got -1e-05"),
    ("train.loss.center_weight=-1", "train.loss.center_weight must be >= 0, got -1"),
    ("train.distill.weight=-0.5", "train.distill.weight must be >= 0, got -0.5"),
    ("train.optimizer.learning_rate=fast", "train.optimizer.learning_rate must be a number > 0, got 'fast'"),
])
def test_train_values_name_their_full_key(override, message):
    with pytest.raises(ConfigError, match=f"^{message}$"):
        config_from(TrainConfig, _compose("train", override).train, "train")


def test_a_float_given_as_an_integer_is_a_float():
    """``learning_rate=1`` once reached the schedule as an int: ``Cannot convert 3.14... to EagerTensor of dtype
    int32``."""
    from movenet_train.training.optimizer import build_optimizer

    train = config_from(TrainConfig, _compose("train", "train.optimizer.learning_rate=1").train, "train")
    assert isinstance(train.optimizer.learning_rate, float) and train.optimizer.learning_rate == 1.0
    _, learning_rate = build_optimizer(train)
    assert float(learning_rate(10**6)) >= 0.0


def test_data_and_eval_values_name_their_full_key():
    with pytest.raises(ConfigError, match=r"^data.loader.single_pose.full_image_probability must be in \[0, 1\], "
                                          r"got 1.5$"):
        data_config(_compose("train", "data.loader.single_pose.full_image_probability=1.5").data)
    with pytest.raises(ConfigError, match=r"^data.augment.flip_probability must be in \[0, 1\], got -0.1$"):
        AugmentConfig.from_config(_compose("train", "data.augment.flip_probability=-0.1").data.augment)
    with pytest.raises(ConfigError, match=r"^eval.score_threshold must be in \[0, 1\], got 2$"):
        config_from(EvalOptions, _compose("train", "eval.score_threshold=2").eval, "eval")


def test_every_shipped_config_is_in_range():
    for config in ("train", "show_samples"):
        cfg = _compose(config, "data=coco")
        data_config(cfg.data)
        AugmentConfig.from_config(cfg.data.augment)
    config_from(TrainConfig, _compose("train").train, "train")
    config_from(TrainConfig, _compose("train", "train/schedule@train=finetune").train, "train")
    config_from(EvalOptions, _compose("train").eval, "eval")


def test_a_global_batch_that_the_replicas_cannot_share_names_the_key(tiny_dataset):
    import tensorflow as tf

    from movenet_train.data import build_dataset
    from movenet_train.modeling import MoveNetSpec

    cfg = _compose("train", "exp=lightning", "data=coco", f"data.val_records={tiny_dataset}/records/*.tfrecord")
    context = tf.distribute.InputContext(num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=2)
    with pytest.raises(ConfigError, match="^train.batch_size must be divisible by the 2 replicas .*got 3$"):
        build_dataset(cfg.data, MoveNetSpec.from_config(cfg.model), "val", 3, training=False, input_context=context)

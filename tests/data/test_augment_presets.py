"""Fine-tuning configs: augmentation presets (quarter turns drawn as documented) and the finetune schedule."""

import math

import numpy as np
import pytest
import tensorflow as tf
from hydra import compose, initialize
from omegaconf import OmegaConf

from movenet_train.data.augment import AugmentConfig, sample_geometry
from movenet_train.errors import UserError


def _compose(*overrides):
    with initialize(version_base="1.3", config_path="../../configs"):
        return compose("train", overrides=list(overrides))


def _angles(config, n=200):
    draws = [sample_geometry(config, tf.constant([i, 7])) for i in range(n)]
    return np.array([float(tilt) + math.pi / 2 * int(turns) for _, _, tilt, _, turns in draws])


def test_presets_compose_on_top_of_the_default():
    upright = AugmentConfig.from_config(_compose("data=coco", "data/augment=upright").data.augment)
    assert (upright.max_rotation_degrees, upright.flip_probability, upright.rotation_mode) == (10.0, 0.5, "uniform")
    full = AugmentConfig.from_config(_compose("data=coco", "data/augment=full_rotation").data.augment)
    degrees = np.degrees(_angles(full))
    assert full.rotation_probability == 1.0 and degrees.min() < -150 and degrees.max() > 150


def test_quarter_turns_are_multiples_of_90_degrees_plus_a_small_tilt():
    config = AugmentConfig.from_config(_compose("data=coco", "data/augment=quarter_turns").data.augment)
    degrees = np.degrees(_angles(config))
    turns = np.round(degrees / 90.0)
    assert np.all(np.abs(degrees - 90.0 * turns) <= 15.0 + 1e-4)
    counts = np.bincount(turns.astype(int) % 4, minlength=4)
    assert counts.min() > 25, counts  # each quarter about 50 of 200
    with pytest.raises(UserError, match="data.augment.rotation_mode"):
        AugmentConfig.from_config(OmegaConf.merge(_compose("data=coco").data.augment, {"rotation_mode": "eighths"}))


def test_finetune_schedule_replaces_the_dataset_schedule():
    for data in ("coco", "synthetic"):
        cfg = _compose("exp=lightning", f"data={data}", "train/schedule@train=finetune")
        assert (cfg.train.steps, cfg.train.optimizer.learning_rate, cfg.train.optimizer.warmup_steps) == (300, 3e-5, 30)
        assert cfg.train.precise_batch_norm_keep_function and cfg.train.freeze_batch_norm
        assert cfg.train.checkpoint_every == 100 and cfg.train.freeze == "none"
        assert cfg.train.teacher == "initial" and cfg.train.distill.weight == 1.0
    assert _compose("exp=lightning", "data=coco").train.teacher is None  # from scratch: no teacher
    assert math.isclose(_compose("exp=lightning", "data=synthetic").train.optimizer.learning_rate, 1e-2)

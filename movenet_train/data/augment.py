"""Augmentation sampling (one affine warp per example) and photometric augmentation, all with stateless random ops.

Every random draw takes a seed derived from the example's own seed, so an example is augmented the same way
whatever the parallelism (deterministic mode) and the geometry, the image and the keypoints never disagree.

The transforms the sampled values build (``window_transform``, ``quarter_turn_transform``, the warps) and their
conventions (continuous (y, x) pixels, 3x3 matrices source -> destination) are in ``movenet_train/geometry.py``.
"""

import dataclasses
import typing
import math

import tensorflow as tf

from movenet_train.config import COUNT, NON_NEGATIVE, NON_NEGATIVE_COUNT, PROBABILITY, Range, config_from
from movenet_train.errors import UserError

ROTATION_MODES = ("uniform", "quarter_turns")


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """``cfg.data.augment`` (configs/data/augment/default.yaml)."""

    DEFAULTS: typing.ClassVar = ("data/augment/default.yaml", None)  # the defaults' one home, under configs/
    RANGES: typing.ClassVar = {
        **{name: PROBABILITY for name in ("flip_probability", "rotation_probability", "color_probability",
                                          "motion_blur_probability", "occlusion_probability")},
        "translation": NON_NEGATIVE, "max_rotation_degrees": NON_NEGATIVE, "brightness": NON_NEGATIVE,
        "hue": Range(0, 0.5), "motion_blur_max_length": COUNT, "occlusion_max_count": NON_NEGATIVE_COUNT,
    }

    enabled: bool
    flip_probability: float
    scale: tuple
    translation: float
    rotation_probability: float
    max_rotation_degrees: float
    rotation_mode: str  # uniform: +-max_rotation_degrees; quarter_turns: k * 90 + that (k = 0..3)
    color_probability: float
    brightness: float
    contrast: tuple
    saturation: tuple
    hue: float
    motion_blur_probability: float
    motion_blur_max_length: int
    occlusion_probability: float
    occlusion_max_count: int
    occlusion_size: tuple

    @classmethod
    def from_config(cls, cfg):
        config = config_from(cls, cfg, "data.augment")
        if config.rotation_mode not in ROTATION_MODES:
            raise UserError(f"data.augment.rotation_mode: expected one of {ROTATION_MODES}, got "
                            f"{config.rotation_mode!r}")
        return config


# ---------------------------------------------------------------------------------------------------------
# Geometry (sampling; the transforms themselves are in movenet_train/geometry.py)


def flip_keypoints(keypoints, visibility, permutation):
    """After a horizontal mirror, the person's left keypoints are the right ones: permute the channels by
    ``permutation``, the keypoint schema's ``flip_permutation``."""
    return tf.gather(keypoints, permutation, axis=-2), tf.gather(visibility, permutation, axis=-1)


def _uniform(seed, low, high):
    return tf.random.stateless_uniform([], seed, low, high)


def _happens(seed, probability):
    return tf.random.stateless_uniform([], seed) < probability


def sample_geometry(config, seed):
    """Random (scale, shift, tilt, flip, turns) of one example: ``tilt`` in radians, ``turns`` the number of
    counter-clockwise quarter turns (``rotation_mode: quarter_turns``; else 0), applied after everything else."""
    seeds = tf.random.experimental.stateless_split(seed, 6)
    low, high = config.scale
    scale = _uniform(seeds[0], low, high) if low < high else low
    shift = (_uniform(seeds[1], -config.translation, config.translation),
             _uniform(seeds[2], -config.translation, config.translation))
    tilt = tf.where(_happens(seeds[3], config.rotation_probability),
                    _uniform(seeds[4], -1.0, 1.0) * math.radians(config.max_rotation_degrees), 0.0)
    flip = _happens(seeds[5], config.flip_probability)
    turns = tf.constant(0, tf.int32)
    if config.rotation_mode == "quarter_turns":
        turns = _quarter_turns(seed, config.rotation_probability)
    return scale, shift, tilt, flip, turns


def _quarter_turns(seed, probability):
    """0, 1, 2 or 3 quarter turns, equally likely, when a rotation happens (else 0)."""
    seeds = tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(seed, 90), 2)
    turns = tf.random.stateless_uniform([], seeds[0], 0, 4, dtype=tf.int32)
    return tf.where(_happens(seeds[1], probability), turns, 0)


# ---------------------------------------------------------------------------------------------------------
# Photometric (on the float32 0-255 model input)


def color_jitter(image, config, seed):
    seeds = tf.random.experimental.stateless_split(seed, 4)
    x = image / 255.0
    x = tf.image.stateless_random_brightness(x, config.brightness, seeds[0])
    x = tf.image.stateless_random_contrast(x, config.contrast[0], config.contrast[1], seeds[1])
    x = tf.image.stateless_random_saturation(tf.clip_by_value(x, 0.0, 1.0), config.saturation[0], config.saturation[1],
                                             seeds[2])
    x = tf.image.stateless_random_hue(x, config.hue, seeds[3])
    return tf.clip_by_value(x, 0.0, 1.0) * 255.0


def motion_blur_kernel(length, angle, size):
    """``[size, size]`` kernel of a line of ``length`` pixels at ``angle`` (radians), anti-aliased, summing to 1."""
    r = tf.range(size, dtype=tf.float32) - (size - 1) / 2.0
    dy, dx = r[:, None], r[None, :]
    along = dy * tf.sin(angle) + dx * tf.cos(angle)
    across = dy * tf.cos(angle) - dx * tf.sin(angle)
    kernel = tf.maximum(1.0 - tf.abs(across), 0.0) * tf.cast(tf.abs(along) <= length / 2.0, tf.float32)
    return kernel / tf.reduce_sum(kernel)


def motion_blur(image, config, seed):
    seeds = tf.random.experimental.stateless_split(seed, 2)
    size = max(int(config.motion_blur_max_length) | 1, 1)  # odd
    length = _uniform(seeds[0], 2.0, float(size))
    kernel = motion_blur_kernel(length, _uniform(seeds[1], 0.0, math.pi), size)
    kernel = tf.tile(kernel[:, :, None, None], [1, 1, 3, 1])
    pad = size // 2
    padded = tf.pad(image[None], [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="SYMMETRIC")
    return tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")[0]


def occlude(image, config, seed):
    """Pastes rectangles of random colour: the first always, up to ``occlusion_max_count - 1`` more at even odds."""
    size = image.shape[0]
    ys = tf.range(size, dtype=tf.float32)[:, None, None]
    xs = tf.range(size, dtype=tf.float32)[None, :, None]
    for i, s in enumerate(tf.unstack(tf.random.experimental.stateless_split(seed, config.occlusion_max_count))):
        seeds = tf.random.experimental.stateless_split(s, 6)
        h = _uniform(seeds[0], *config.occlusion_size) * size
        w = _uniform(seeds[1], *config.occlusion_size) * size
        y0 = _uniform(seeds[2], 0.0, 1.0) * (size - h)
        x0 = _uniform(seeds[3], 0.0, 1.0) * (size - w)
        colour = tf.random.stateless_uniform([3], seeds[4], 0.0, 255.0)
        inside = (ys >= y0) & (ys < y0 + h) & (xs >= x0) & (xs < x0 + w) & (i == 0 or _happens(seeds[5], 0.5))
        image = tf.where(inside, colour, image)
    return image


def photometric(image, config, seed):
    """Colour jitter, motion blur and occlusion, each applied with its probability."""
    seeds = tf.random.experimental.stateless_split(seed, 6)
    if config.color_probability > 0:
        image = tf.cond(_happens(seeds[0], config.color_probability), lambda: color_jitter(image, config, seeds[1]),
                        lambda: image)
    if config.motion_blur_probability > 0 and config.motion_blur_max_length > 1:
        image = tf.cond(_happens(seeds[2], config.motion_blur_probability),
                        lambda: motion_blur(image, config, seeds[3]), lambda: image)
    if config.occlusion_probability > 0 and config.occlusion_max_count > 0:
        image = tf.cond(_happens(seeds[4], config.occlusion_probability), lambda: occlude(image, config, seeds[5]),
                        lambda: image)
    return image

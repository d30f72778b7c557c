"""Geometry of the augmentation: the horizontal flip swaps left and right, the warp resamples like tf.image."""

import dataclasses

import numpy as np
import tensorflow as tf

from movenet_train import geometry
from movenet_train.config import default_config
from movenet_train.data import augment
from movenet_train.data.config import SinglePoseFraming
from movenet_train.data.pipeline import frame_example
from movenet_train.data.targets import TargetConfig
from movenet_train.keypoints import COCO_17

SIZE = 64
TARGETS = default_config(TargetConfig, keypoint_std=tuple(10 * COCO_17.oks_sigmas))
FLIP_PERMUTATION = COCO_17.flip_permutation
NO_AUGMENT = default_config(augment.AugmentConfig, flip_probability=0.0, scale=(1.0, 1.0), translation=0.0,
                            rotation_probability=0.0, color_probability=0.0, motion_blur_probability=0.0,
                            occlusion_probability=0.0)


def _example():
    """A 64x64 image (asymmetric content) with one front-facing person: their left side on the image's right."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
    keypoints = np.zeros((1, 17, 2), np.float32)
    for name, index in COCO_17.index.items():
        side = 0.13 if name.startswith("left_") else -0.13 if name.startswith("right_") else 0.0
        keypoints[0, index] = (0.2 + 0.037 * index, 0.503 + side + 0.011 * (index % 3))  # off the cell edges
    return {
        "image": tf.io.encode_png(image), "keypoints": tf.constant(keypoints),
        "keypoint_visibility": tf.fill([1, 17], 2), "boxes": tf.constant([[0.1, 0.2, 0.9, 0.8]]),
        "is_crowd": tf.constant([0]),
    }, image


def _frame(config):
    example, _ = _example()
    return frame_example(example, tf.constant([1, 2], tf.int64), SIZE, True, default_config(SinglePoseFraming), config,
                         TARGETS, training=True, flip_permutation=FLIP_PERMUTATION)


def test_flip_mirrors_the_image_and_swaps_left_and_right():
    plain_image, plain = _frame(NO_AUGMENT)
    flipped_image, flipped = _frame(dataclasses.replace(NO_AUGMENT, flip_probability=1.0))
    _, source = _example()
    np.testing.assert_array_equal(plain_image.numpy(), source)  # the whole square image fills the input
    np.testing.assert_allclose(flipped_image.numpy(), source[:, ::-1])

    kp, kp_flipped = plain["keypoints"].numpy()[0], flipped["keypoints"].numpy()[0]
    left_wrist, right_wrist = COCO_17.index["left_wrist"], COCO_17.index["right_wrist"]
    assert kp[left_wrist, 1] > 0.5 > kp[right_wrist, 1]  # a front-facing person: their left on the image's right
    # The old left wrist, mirrored to the image's left, is now the right wrist (the mirrored person still faces
    # us), and the new left wrist is the old right wrist, mirrored: x -> 1 - x.
    np.testing.assert_allclose(kp_flipped[right_wrist, :2], [kp[left_wrist, 0], 1 - kp[left_wrist, 1]], atol=1e-6)
    np.testing.assert_allclose(kp_flipped[left_wrist], [kp[right_wrist, 0], 1 - kp[right_wrist, 1], 2], atol=1e-6)
    np.testing.assert_allclose(kp_flipped[COCO_17.index["nose"], :2], [kp[0, 0], 1 - kp[0, 1]], atol=1e-6)
    for k in range(17):
        np.testing.assert_allclose(kp_flipped[k], [kp[FLIP_PERMUTATION[k], 0], 1 - kp[FLIP_PERMUTATION[k], 1], 2],
                                   atol=1e-6)
        # The heatmaps follow: channel k of the flip is channel perm(k) mirrored.
        np.testing.assert_allclose(flipped["keypoint_heatmap"].numpy()[..., k],
                                   plain["keypoint_heatmap"].numpy()[:, ::-1, FLIP_PERMUTATION[k]], atol=1e-6)


def test_warp_resamples_like_tf_image_resize():
    image = np.random.default_rng(2).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    matrix = geometry.window_transform((64.0, 64.0), 128.0, 64)
    warped = geometry.warp_image(tf.constant(image), matrix, 64).numpy()
    resized = tf.image.resize(image[None].astype(np.float32), [64, 64], "bilinear")[0].numpy()
    # The uint8 warp truncates, as the evaluation's cast of the letterboxed float image to uint8 does.
    difference = resized - warped
    assert difference.min() >= -1e-3 and difference.max() < 1.0


def test_geometry_moves_points_with_the_pixels():
    """A bright dot and a keypoint on it stay together through scale, shift, rotation and flip."""
    image = np.zeros((100, 100, 3), np.uint8)
    image[30:33, 70:73] = 255  # dot centred at (31.5, 71.5) in continuous pixels
    matrix = geometry.window_transform((50.0, 50.0), 100.0, 64, scale=1.2, shift=(0.05, -0.08), angle=0.4, flip=True)
    warped = geometry.warp_image(tf.constant(image), matrix, 64).numpy()[..., 0]
    point = geometry.transform_points(matrix, tf.constant([[31.5, 71.5]])).numpy()[0]
    ys, xs = np.mgrid[:64, :64] + 0.5
    centroid = np.array([(ys * warped).sum(), (xs * warped).sum()]) / warped.sum()
    np.testing.assert_allclose(centroid, point, atol=0.25)


def test_photometric_augmentation_keeps_the_range_and_is_switchable():
    _, source = _example()
    everything = dataclasses.replace(NO_AUGMENT, color_probability=1.0, motion_blur_probability=1.0,
                                     occlusion_probability=1.0)
    out = augment.photometric(tf.constant(source, tf.float32), everything, tf.constant([3, 4], tf.int64)).numpy()
    assert out.min() >= 0 and out.max() <= 255 and np.abs(out - source).mean() > 5
    off = augment.photometric(tf.constant(source, tf.float32), NO_AUGMENT, tf.constant([3, 4], tf.int64)).numpy()
    np.testing.assert_array_equal(off, source)


def test_motion_blur_kernel_is_a_normalised_line():
    kernel = augment.motion_blur_kernel(5.0, 0.0, 9).numpy()  # horizontal, 5 px
    assert kernel.sum() == np.float32(1.0) or abs(kernel.sum() - 1) < 1e-6
    np.testing.assert_allclose(kernel[4, 2:7], 0.2, atol=1e-6)
    assert kernel[3].max() == 0 and kernel[4, :2].max() == 0

"""movenet_train.geometry: quarter turns against np.rot90, rotations, normalised turns, the body's angle, crops and
the warps (against bilinear sampling written out), with cases worked out by hand (no model)."""

import math

import numpy as np
import pytest
import tensorflow as tf

from movenet_train import geometry


def _rot90_place(point_yx, turns, height, width):
    """Where (y, x) of an H x W image is after ``np.rot90`` by ``turns``, by hand: each turn takes (y, x) of an
    h x w image to (w - x, y) of a w x h one."""
    y, x = point_yx
    for _ in range(turns % 4):
        y, x = width - x, y
        height, width = width, height
    return y, x


def test_quarter_turns_of_a_3x5_image_by_hand():
    # A 3 x 5 image (height 3, width 5); the point (y=1, x=4) near the right edge.
    # 1 turn: the right edge becomes the top: (5 - 4, 1) = (1, 1) of a 5 x 3 image.
    # 2 turns: (3 - 1, 5 - 4) = (2, 1). 3 turns: the right edge becomes the bottom: (4, 3 - 1) = (4, 2).
    expected = {0: (1.0, 4.0), 1: (1.0, 1.0), 2: (2.0, 1.0), 3: (4.0, 2.0)}
    for turns, point in expected.items():
        np.testing.assert_allclose(geometry.apply(geometry.quarter_turn_matrix(turns, 3, 5), [1.0, 4.0]), point)
        assert _rot90_place((1.0, 4.0), turns, 3, 5) == point
    # Taken mod 4, negative turns included.
    np.testing.assert_array_equal(geometry.quarter_turn_matrix(5, 3, 5), geometry.quarter_turn_matrix(1, 3, 5))
    np.testing.assert_array_equal(geometry.quarter_turn_matrix(-1, 3, 5), geometry.quarter_turn_matrix(3, 3, 5))
    # One turn: (y, x) -> (width - x, y).
    np.testing.assert_array_equal(geometry.quarter_turn_matrix(1, 3, 5), [[0, -1, 5], [1, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="integer"):
        geometry.quarter_turn_matrix(0.5, 3, 5)


def test_pixel_centres_land_where_np_rot90_puts_them():
    height, width = 3, 5
    image = np.arange(height * width).reshape(height, width)
    ys, xs = np.mgrid[:height, :width]
    centres = np.stack([ys + 0.5, xs + 0.5], axis=-1)  # [3, 5, 2]
    for turns in range(-1, 5):
        turned = np.rot90(image, turns)
        moved = geometry.apply(geometry.quarter_turn_matrix(turns, height, width), centres)
        rows, cols = np.floor(moved[..., 0]).astype(int), np.floor(moved[..., 1]).astype(int)
        np.testing.assert_allclose(moved - np.floor(moved), 0.5)  # still on pixel centres
        np.testing.assert_array_equal(turned[rows, cols], image)


def test_rotation_by_a_right_angle_about_the_centre_is_one_quarter_turn():
    np.testing.assert_allclose(geometry.rotation_matrix(math.pi / 2, (3.0, 3.0)),
                               geometry.quarter_turn_matrix(1, 6, 6), atol=1e-12)
    np.testing.assert_allclose(geometry.rotation_matrix(-math.pi / 2, (3.0, 3.0)),
                               geometry.quarter_turn_matrix(3, 6, 6), atol=1e-12)
    # The centre stays; the angle 0 is the identity.
    np.testing.assert_allclose(geometry.apply(geometry.rotation_matrix(0.7, (2.0, 9.0)), [2.0, 9.0]), [2.0, 9.0])
    np.testing.assert_allclose(geometry.rotation_matrix(0.0, (2.0, 9.0)), np.eye(3))


def test_normalised_turns_by_hand_and_back():
    # One turn: (y, x) -> (1 - x, y). The top-right corner region (0.1, 0.8) goes to the top-left (0.2, 0.1).
    np.testing.assert_allclose(geometry.turn_normalized([0.1, 0.8], 1), [0.2, 0.1])
    np.testing.assert_allclose(geometry.turn_normalized([0.1, 0.8], 2), [0.9, 0.2])
    np.testing.assert_allclose(geometry.unturn_normalized([0.2, 0.1], 1), [0.1, 0.8])
    points = np.random.default_rng(0).uniform(size=(4, 17, 2))
    for turns in range(-2, 6):
        turned = geometry.turn_normalized(points, turns)
        assert turned.shape == points.shape
        np.testing.assert_allclose(geometry.unturn_normalized(turned, turns), points, atol=1e-12)
        # The same as a pixel quarter turn of a 1 x 1 image.
        np.testing.assert_allclose(turned, geometry.apply(geometry.quarter_turn_matrix(turns, 1, 1), points))


def test_body_angle_by_hand():
    hips = (10.0, 10.0)
    assert geometry.body_angle((4.0, 10.0), hips) == 0.0  # shoulders above the hips: upright
    assert geometry.body_angle((10.0, 16.0), hips) == pytest.approx(-math.pi / 2)  # lying, head to the right
    assert geometry.body_angle((10.0, 4.0), hips) == pytest.approx(math.pi / 2)  # head to the left: one rot90
    assert geometry.body_angle((16.0, 10.0), hips) == pytest.approx(math.pi)  # upside down: pi, not -pi
    assert geometry.body_angle((4.0, 4.0), hips) == pytest.approx(math.pi / 4)  # leaning left
    assert geometry.body_angle(hips, hips) == 0.0
    angles = geometry.body_angle([[4.0, 10.0], [16.0, 10.0]], [hips, hips])
    np.testing.assert_allclose(angles, [0.0, math.pi])
    # np.rot90 of an upright person: turned by +pi/2; turning the content by -body_angle puts them upright.
    upper, lower = np.array([2.0, 5.0]), np.array([8.0, 5.0])
    for turns in range(4):
        m = geometry.quarter_turn_matrix(turns, 10, 10)
        angle = geometry.body_angle(geometry.apply(m, upper), geometry.apply(m, lower))
        assert (angle - turns * math.pi / 2 + math.pi) % (2 * math.pi) - math.pi == pytest.approx(0.0, abs=1e-12)
        back = geometry.rotation_matrix(-angle, (5.0, 5.0)) @ m
        assert geometry.body_angle(geometry.apply(back, upper), geometry.apply(back, lower)) == pytest.approx(0.0)


def test_crop_matrix_is_the_window_transform_and_warps_like_rot90():
    for centre, side, size, angle in [((50.0, 70.0), 100.0, 64, 0.0), ((12.5, 30.0), 41.0, 192, 0.0),
                                       ((50.0, 70.0), 100.0, 64, 0.4)]:
        expected = geometry.window_transform(centre, side, size, angle=angle).numpy()
        np.testing.assert_allclose(geometry.crop_matrix(centre, side, size, angle), expected, rtol=1e-5, atol=1e-4)
    image = np.random.default_rng(3).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    same = geometry.warp(image, geometry.crop_matrix((12.0, 12.0), 24.0, 24), 24)
    assert same.dtype == np.uint8 and same.shape == (24, 24, 3)
    np.testing.assert_array_equal(same, image)
    turned = geometry.warp(image, geometry.crop_matrix((12.0, 12.0), 24.0, 24, angle=math.pi / 2), 24)
    assert np.abs(turned.astype(int) - np.rot90(image).astype(int)).max() <= 1
    # A grey image and a crop half outside: zeros there.
    half = geometry.warp(image[..., 0], geometry.crop_matrix((12.0, 0.0), 24.0, 24), 24)
    assert half.shape == (24, 24) and half[:, :12].max() == 0
    np.testing.assert_array_equal(half[:, 12:], image[:, :12, 0])


def bilinear_by_hand(image, matrix, size):
    """float64 ``[size, size, C]``: each output pixel centre taken back through ``matrix`` (source -> output) to
    the source, where pixel (r, c) holds the value at (r + 0.5, c + 0.5); the four pixels around the point
    weighted by their nearness, those outside the image read as 0. Written from the conventions in the module
    docstring, sharing nothing with ``warp_maps``."""
    image = np.asarray(image, np.float64)
    height, width = image.shape[:2]
    rows, cols = np.mgrid[:size, :size]
    source = np.stack([rows + 0.5, cols + 0.5, np.ones((size, size))], axis=-1) @ np.linalg.inv(matrix).T
    y, x = source[..., 0] - 0.5, source[..., 1] - 0.5  # in pixel indices
    top, left = np.floor(y).astype(int), np.floor(x).astype(int)
    out = np.zeros((size, size, image.shape[2]))
    for row, row_weight in ((top, 1 - (y - top)), (top + 1, y - top)):
        for col, col_weight in ((left, 1 - (x - left)), (left + 1, x - left)):
            inside = (row >= 0) & (row < height) & (col >= 0) & (col < width)
            values = np.zeros_like(out)
            values[inside] = image[row[inside], col[inside]]
            out += (row_weight * col_weight)[..., None] * values
    return out


@pytest.mark.parametrize("centre,side,size,angle", [((10.0, 13.0), 17.0, 16, 0.3), ((12.0, 12.0), 30.0, 20, 1.0),
                                                    ((3.0, 20.0), 24.0, 24, -0.7)])
def test_warp_and_the_training_resampler_are_bilinear_sampling_by_hand(centre, side, size, angle):
    """The NumPy warp and the training one (``warp_image``), against bilinear sampling written out: a zoom and
    a turn, partly outside the image in the last case. Both truncate to integers; a float32 rounding may tip a
    value across one, so a pixel may differ by 1."""
    image = np.random.default_rng(3).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    matrix = geometry.crop_matrix(centre, side, size, angle)
    expected = np.floor(bilinear_by_hand(image, matrix, size))
    for warped in (geometry.warp(image, matrix, size),
                   geometry.warp_image(tf.constant(image), tf.constant(matrix, tf.float32), size).numpy()):
        difference = np.abs(warped.astype(float) - expected)
        assert difference.max() <= 1 and (difference == 0).mean() > 0.99


def test_quarter_turn_transform_is_the_numpy_matrix_and_moves_pixels_as_np_rot90():
    """Resampled through the transform (the teacher's turned view is), an image is ``np.rot90`` of it, exactly:
    pixel centres land on pixel centres."""
    size = 6
    image = np.arange(size * size, dtype=np.float32).reshape(size, size, 1)
    for turns in range(-1, 5):
        matrix = geometry.quarter_turn_transform(tf.constant(turns), size)
        np.testing.assert_array_equal(matrix.numpy(), geometry.quarter_turn_matrix(turns, size, size))
        turned = geometry.warp_maps(tf.constant(image[None]), matrix[None], (size, size))[0].numpy()
        np.testing.assert_array_equal(turned, np.rot90(image, turns))

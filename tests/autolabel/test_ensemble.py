"""The views of a person and their fusion, on hand-made poses."""

import math

import numpy as np
import pytest

from movenet_train.autolabel import ensemble, options
from movenet_train.errors import UserError
from tests.autolabel.standins import SCHEMA


def test_the_mirror_swaps_left_and_right_by_the_schema_flip_map():
    # what a model says on the mirror image of a person: their left hand (x = 0.8 in the original) is at
    # x = 0.2 and looks like a right hand; the head (a joint without a pair) stays itself
    mirrored = np.array([[0.1, 0.5, 0.9],    # head
                         [0.3, 0.7, 0.6],    # "left_hand": the person's right hand, originally at x = 0.3
                         [0.4, 0.2, 0.8],    # "right_hand": the person's left hand, originally at x = 0.8
                         [0.9, 0.6, 0.5],    # "left_foot": the right foot, originally at x = 0.4
                         [0.7, 0.45, 0.4]])  # "right_foot": the left foot, originally at x = 0.55
    expected = np.array([[0.1, 0.5, 0.9],
                         [0.4, 0.8, 0.8],   # left hand
                         [0.3, 0.3, 0.6],   # right hand
                         [0.7, 0.55, 0.4],  # left foot
                         [0.9, 0.4, 0.5]])  # right foot
    np.testing.assert_allclose(ensemble.unflip(mirrored, SCHEMA), expected)


def test_views_are_every_scale_each_mirrored():
    views = ensemble.person_views((10, 20, 100), ("flip", "scales"), (0.8, 1.0, 1.2))
    assert [(v.top, v.left, v.side, v.flip) for v in views] == [
        (20, 30, 80, False), (20, 30, 80, True), (10, 20, 100, False), (10, 20, 100, True),
        (0, 10, 120, False), (0, 10, 120, True)]
    assert [(v.top, v.left, v.side, v.flip) for v in ensemble.person_views((10, 20, 100), (), (0.8, 1.2))] == [
        (10, 20, 100, False)]


def test_a_mirrored_view_maps_back_to_image_pixels():
    view = ensemble.View(top=-20, left=10, side=80, flip=True)
    output = np.array([[[0.5, 0.25, 0.9], [0.25, 0.75, 0.8], [0.25, 0.5, 0.7], [0.75, 0.0, 0.6], [1.0, 1.0, 0.5]]])
    # unflipped: x -> 1 - x and the pairs swapped; pixels: y = -20 + 80 y, x = 10 + 80 x
    expected = [[20, 70, 0.9], [0, 50, 0.7], [0, 30, 0.8], [60, 10, 0.5], [40, 90, 0.6]]
    np.testing.assert_allclose(ensemble.view_keypoints(output, view, SCHEMA, 32), expected)


def test_the_view_input_is_the_square_mirrored():
    image = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    plain = ensemble.view_input(image, ensemble.View(0, 0, 4), 4)
    mirrored = ensemble.View(0, 0, 4, flip=True)
    np.testing.assert_array_equal(plain, image)
    np.testing.assert_array_equal(ensemble.view_input(image, mirrored, 4), image[:, ::-1])


def test_agreeing_views_average_by_score_and_keep_their_mean_score():
    views = np.array([[[10.0, 10.0, 0.8]], [[12.0, 10.0, 0.4]]])
    fused = ensemble.fuse(views, [0.5], area=100.0)  # radius 2 * 0.5 * sqrt(200 ln 2) = 11.8 px
    np.testing.assert_allclose(fused, [[(10 * 0.8 + 12 * 0.4) / 1.2, 10.0, 0.6]])


def test_a_disagreeing_view_lowers_the_score_instead_of_moving_the_point():
    views = np.array([[[10.0, 10.0, 0.8]], [[40.0, 10.0, 0.4]], [[11.0, 10.0, 0.3]]])
    radius = 2 * 0.5 * math.sqrt(2 * 100.0 * math.log(2))
    assert 1 < radius < 30
    fused = ensemble.fuse(views, [0.5], area=100.0)
    np.testing.assert_allclose(fused, [[(10 * 0.8 + 11 * 0.3) / 1.1, 10.0, 1.1 / 3]])


def test_one_view_is_the_single_pass():
    pose = np.array([[[3.0, 4.0, 0.25], [5.0, 6.0, 0.0]]])
    np.testing.assert_array_equal(ensemble.fuse(pose, [0.1, 0.1], area=50.0), pose[0])


def test_unknown_transforms_and_too_few_scales_name_the_key():
    with pytest.raises(UserError, match="transforms: unknown 'rotate'"):
        options.check_transforms(["flip", "rotate"])
    with pytest.raises(UserError, match="scales"):
        options.check_transforms(["scales"], (1.0,))
    assert options.check_transforms(["orientation", "flip"], (1.0,)) == ("flip", "orientation")

"""Crop regions from hand-made keypoints, worked out by hand from the TF.js rules (docs/model.md "Video tracking")."""

import numpy as np
import pytest

from movenet_train.keypoints import COCO_17
from movenet_train.tracking.crop import (CropRegion, TorsoLayout, crop_and_resize, full_image_region,
                                         next_crop_region, torso_visible)

KEYPOINT_INDEX = COCO_17.index
COCO_TORSO = TorsoLayout.of(COCO_17)


def person(parts, default_yx, score=0.9):
    """[17, 2] keypoints at ``default_yx`` except ``parts`` ({name: (y, x)}), all scoring ``score``."""
    keypoints = np.tile(np.asarray(default_yx, np.float64), (COCO_17.num_keypoints, 1))
    for name, yx in parts.items():
        keypoints[KEYPOINT_INDEX[name]] = yx
    return keypoints, np.full(COCO_17.num_keypoints, score)


# Standing person in a 1000x1000 frame: hips centred at (500, 500), shoulders 200 px above, head 300 above.
STANDING = {"left_hip": (500, 550), "right_hip": (500, 450), "left_shoulder": (300, 560),
            "right_shoulder": (300, 440), "nose": (200, 500)}


def assert_region(region, expected):
    np.testing.assert_allclose(region.box, expected, atol=1e-9)


def test_torso_sets_the_size():
    keypoints, scores = person(STANDING, (500, 500))
    # torso: 1.9 * 200 = 380 > body: 1.2 * 300 = 360
    assert_region(next_crop_region(keypoints, scores, 1000, 1000, layout=COCO_TORSO), [0.12, 0.12, 0.88, 0.88])


def test_confident_limbs_widen_it():
    keypoints, scores = person({**STANDING, "left_ankle": (900, 520)}, (500, 500))
    # body: 1.2 * 400 = 480 > torso 380
    assert_region(next_crop_region(keypoints, scores, 1000, 1000, layout=COCO_TORSO), [0.02, 0.02, 0.98, 0.98])


def test_unsure_limbs_do_not():
    keypoints, scores = person({**STANDING, "left_ankle": (900, 520)}, (500, 500))
    scores[KEYPOINT_INDEX["left_ankle"]] = 0.19
    assert_region(next_crop_region(keypoints, scores, 1000, 1000, layout=COCO_TORSO), [0.12, 0.12, 0.88, 0.88])


def test_region_is_square_in_pixels_on_a_wide_frame():
    keypoints, scores = person(STANDING, (500, 500))
    region = next_crop_region(keypoints, scores, 1000, 2000, layout=COCO_TORSO)
    assert_region(region, [0.12, 0.06, 0.88, 0.44])  # 760 px both ways, centred on x = 500
    assert region.to_pixels(1000, 2000) == pytest.approx([120, 120, 880, 880])


@pytest.mark.parametrize("hidden,visible", [
    (("left_hip", "right_hip"), False),
    (("left_shoulder", "right_shoulder"), False),
    (("right_hip", "left_shoulder"), True),  # one hip and one shoulder are enough
])
def test_torso_visibility(hidden, visible):
    _, scores = person(STANDING, (500, 500))
    for name in hidden:
        scores[KEYPOINT_INDEX[name]] = 0.2  # not above the 0.2 threshold
    assert torso_visible(scores, layout=COCO_TORSO) is visible


def test_no_torso_falls_back_to_the_padded_frame():
    keypoints, scores = person(STANDING, (150, 200))
    scores[[KEYPOINT_INDEX["left_hip"], KEYPOINT_INDEX["right_hip"]]] = 0.1
    # 300x400 frame padded to a 400x400 square: 50 px above and below, in units of the 300 px height.
    expected = [-50 / 300, 0.0, 350 / 300, 1.0]
    assert_region(next_crop_region(keypoints, scores, 300, 400, layout=COCO_TORSO), expected)
    assert_region(full_image_region(300, 400), expected)
    assert_region(full_image_region(400, 300), [0.0, -50 / 300, 1.0, 350 / 300])


def test_too_large_falls_back():
    # Centre at (500, 200): 1.2 * 500 = 600 fits under the farthest-edge cap (800) but exceeds half the frame (500).
    parts = {k: (y, x - 300) for k, (y, x) in STANDING.items()}
    keypoints, scores = person({**parts, "left_ankle": (1000, 200)}, (500, 200))
    assert_region(next_crop_region(keypoints, scores, 1000, 1000, layout=COCO_TORSO), [0.0, 0.0, 1.0, 1.0])


def test_edge_cap():
    # 600x1000 frame, hips at (350, 500); the spread asks for 1.2 * 600 = 720 px, the farthest edge is 500 px
    # away (left and right), so the half-size is 500: a 1000 px square centred on the hips, not the
    # padded-frame fallback (which would be centred on the frame, y from -200).
    parts = {"left_hip": (350, 520), "right_hip": (350, 480), "left_shoulder": (250, 520),
             "right_shoulder": (250, 480), "nose": (-250, 500)}
    keypoints, scores = person(parts, (350, 500))
    region = next_crop_region(keypoints, scores, 600, 1000, layout=COCO_TORSO)
    assert_region(region, [-150 / 600, 0.0, 850 / 600, 1.0])
    assert region != full_image_region(600, 1000)


def test_crop_reads_zeros_outside_the_frame():
    frame = np.full((100, 100, 3), 200, np.uint8)
    crop = crop_and_resize(frame, CropRegion(-1.0, 0.0, 1.0, 1.0), 10)
    # crop_and_resize samples rows -99, -77, ..., 99 of the frame: the first five lie above it.
    assert crop.dtype == np.uint8 and crop.shape == (10, 10, 3)
    np.testing.assert_array_equal(crop[:5], 0)
    np.testing.assert_array_equal(crop[5:], 200)


def test_crop_coordinates_map_back_to_the_frame():
    region = CropRegion(-1.0, 0.25, 1.0, 0.75)
    np.testing.assert_allclose(region.to_image([[0.5, 0.5], [0.0, 1.0]]), [[0.0, 0.5], [-1.0, 0.75]])

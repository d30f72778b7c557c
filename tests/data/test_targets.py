"""The target encoder on cases computed by hand, and against the released graphs' decoder."""

import math

import numpy as np
import pytest
import tensorflow as tf

from movenet_train.config import default_config
from movenet_train.data.targets import TargetConfig, encode_targets
from movenet_train.errors import UserError
from movenet_train.keypoints import KeypointSchema
from movenet_train.modeling.decode import decode_single_pose
from tests.data.conftest import compose_config

GRID = 48
ODAPI = default_config(TargetConfig, keypoint_std=(0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07,
                                                   0.87, 0.87, 0.89, 0.89))

# A person whose box is 16 cells high and 8 wide. CornerNet radius at IoU 0.7 (ODAPI's quadratic roots, halved
# without dividing by a):
#   r1 = (24 + sqrt(24^2 - 4 * 128 * 0.3/1.7)) / 2           = 23.02
#   r2 = (48 + sqrt(48^2 - 4 * 4 * 0.3 * 128)) / 2            = 44.55
#   r3 = (-0.7*2*24 + sqrt((1.4*24)^2 + 4 * 2.8 * 0.3 * 128)) / 2 = 2.94
# min = 2.94 -> floor 2 -> sigma = (2 * 2 + 1) / 6 = 5/6.
BOX = [10.0, 26.0, 26.0, 34.0]
BOX_SIGMA = 5.0 / 6.0


def one_person(unlabelled=(3,)):
    """Keypoints (y, x in cells) in pairs mirrored about (20.5, 30.25), so that the mean of the labelled ones,
    the person's centre, is (20.5, 30.25) whichever pair is left out."""
    first = {0: (12.25, 29.75), 2: (14.5, 31.25), 5: (16.5, 28.25), 7: (18.5, 27.5), 9: (20.5, 32.25),
             11: (20.5, 30.25), 13: (24.5, 29.5), 15: (28.75, 30.25)}
    partner = {0: 1, 2: 4, 5: 6, 7: 8, 9: 10, 11: 12, 13: 14, 15: 16}
    kp = np.zeros((1, 17, 2), np.float32)
    for k, (y, x) in first.items():
        kp[0, k] = (y, x)
        kp[0, partner[k]] = (41.0 - y, 60.5 - x)
    visibility = np.full((1, 17), 2, np.int32)
    for k in unlabelled:
        visibility[0, k] = 0
        kp[0, k] = 0.0
    return kp, visibility


def encode(kp, visibility, boxes=(BOX,), crowd=(0,), multi_pose=False):
    return {k: v.numpy() for k, v in encode_targets(kp, visibility, np.array(boxes, np.float32), np.array(crowd),
                                                    GRID, GRID, ODAPI, multi_pose).items()}


def test_odapi_constants_are_the_config_values():
    from pycocotools.cocoeval import Params

    config = compose_config()
    cfg = TargetConfig.from_config(config.data.targets, KeypointSchema.from_config(config.keypoints))
    np.testing.assert_allclose(cfg.keypoint_std, 10 * Params(iouType="keypoints").kpt_oks_sigmas)
    assert (cfg.min_overlap, cfg.offset_radius, cfg.regression_radius) == (0.7, 3, 3)
    assert cfg == ODAPI


def test_centre_peak_and_sigma():
    kp, vis = one_person()
    t = encode(kp, vis)
    centre = kp[0][vis[0] > 0].mean(axis=0)
    np.testing.assert_allclose(centre, [20.5, 30.25], atol=1e-6)
    heat = t["center_heatmap"][..., 0]
    assert np.unravel_index(heat.argmax(), heat.shape) == (20, 30)  # the floored centre
    assert heat[20, 30] == pytest.approx(1.0)
    assert heat[20, 31] == pytest.approx(math.exp(-1 / (2 * BOX_SIGMA**2)), rel=1e-5)  # 0.4868
    assert heat[22, 31] == pytest.approx(math.exp(-5 / (2 * BOX_SIGMA**2)), rel=1e-5)
    assert t["num_people"] == 1 and t["num_keypoints"] == 16


def test_keypoint_peak_sigma_and_offsets():
    kp, vis = one_person()
    t = encode(kp, vis)
    nose_sigma = 0.26 * BOX_SIGMA
    heat = t["keypoint_heatmap"][..., 0]
    assert heat[12, 29] == pytest.approx(1.0)  # nose at (12.25, 29.75)
    assert heat[13, 29] == pytest.approx(math.exp(-1 / (2 * nose_sigma**2)), rel=1e-4)
    hip_sigma = 1.07 * BOX_SIGMA  # left hip at (20.5, 30.25)
    assert t["keypoint_heatmap"][20, 32, 11] == pytest.approx(math.exp(-4 / (2 * hip_sigma**2)), rel=1e-5)

    off, mask = t["keypoint_offset"], t["keypoint_offset_mask"]
    np.testing.assert_allclose(off[12, 29, 0:2], [0.25, 0.75])  # nose - its cell, y then x
    np.testing.assert_allclose(off[15, 29, 0:2], [-2.75, 0.75])  # 3 cells below
    np.testing.assert_allclose(off[14, 31, 0:2], [-1.75, -1.25])  # (2, 2) away: 8 <= 3^2
    assert mask[15, 30, 0] == 0 and mask[12, 32, 0] == 1  # (3, 1) away: 10 > 9; (0, 3): 9
    # The radius-3 disc of ODAPI's get_surrounding_grids: 29 cells per labelled keypoint, y and x.
    assert mask[..., 0].sum() == 29 and mask[..., 1].sum() == 29
    assert mask[..., 6:8].sum() == 0  # left ear (3) unlabelled


def test_regression_vectors_from_the_centre():
    kp, vis = one_person()
    t = encode(kp, vis)
    reg, mask = t["keypoint_regression"], t["keypoint_regression_mask"]
    np.testing.assert_allclose(reg[20, 30].reshape(17, 2)[0], [12.25 - 20, 29.75 - 30])  # nose - centre cell
    np.testing.assert_allclose(reg[20, 30].reshape(17, 2)[15], [28.75 - 20, 30.25 - 30])  # left ankle
    np.testing.assert_allclose(reg[23, 30].reshape(17, 2)[15], [28.75 - 23, 0.25])  # 3 cells below the centre
    assert mask[..., 0].sum() == 29
    np.testing.assert_array_equal(mask[20, 30].reshape(17, 2)[:, 0], vis[0] > 0)  # only labelled keypoints


def test_masks_of_unlabelled_keypoints_and_crowd_regions():
    kp, vis = one_person(unlabelled=(3, 9))
    crowd_box = [30.0, 2.0, 40.0, 12.0]
    t = encode(np.concatenate([kp, np.zeros_like(kp)]), np.concatenate([vis, np.zeros_like(vis)]),
               boxes=(BOX, crowd_box), crowd=(0, 1))
    mask = t["keypoint_heatmap_mask"]
    inside = np.zeros((GRID, GRID), bool)
    inside[10:27, 26:35] = True  # cells whose index lies in the box, ends included (ODAPI)
    crowd = np.zeros((GRID, GRID), bool)
    crowd[30:41, 2:13] = True
    for k in (3, 9):
        np.testing.assert_array_equal(mask[..., k], ~inside & ~crowd)
    np.testing.assert_array_equal(mask[..., 0], ~crowd)
    np.testing.assert_array_equal(t["center_mask"][..., 0], ~crowd)
    assert t["num_people"] == 1  # the crowd region has no centre
    assert t["keypoint_heatmap"][..., 3].max() == 0 and t["keypoint_heatmap"][..., 9].max() == 0


def test_overlapping_people_share_cells_by_distance():
    kp, vis = one_person()
    other = kp.copy()
    other[0, 0] = [12.25, 33.75]  # a second nose 4 cells right of the first
    t = encode(np.concatenate([kp, other]), np.concatenate([vis, vis]), boxes=(BOX, BOX), crowd=(0, 0))
    off = t["keypoint_offset"]
    np.testing.assert_allclose(off[12, 31, 0:2], [0.25, -1.25])  # 2 from the first nose (29), 2 from 33: first
    np.testing.assert_allclose(off[12, 32, 0:2], [0.25, 1.75])  # nearer the second nose
    assert t["keypoint_heatmap"][12, 33, 0] == pytest.approx(1.0)


def test_box_targets_for_multi_pose():
    kp, vis = one_person()
    t = encode(kp, vis, multi_pose=True)
    assert t["box_mask"].sum() == 2 and t["box_mask"][20, 30].tolist() == [1, 1]
    np.testing.assert_allclose(t["box_scale"][20, 30], [16, 8])
    np.testing.assert_allclose(t["box_offset"][20, 30], [18 - 20, 30 - 30])  # box centre (18, 30) - centre cell


def test_released_decoder_reads_the_targets_back():
    """Heads equal to the targets decode, through modeling/decode.py, to the encoded keypoints."""
    kp, vis = one_person()
    t = encode(kp, vis)
    logit = lambda p: np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))  # noqa: E731
    heads = {"center": logit(t["center_heatmap"])[None], "keypoint_heatmap": logit(t["keypoint_heatmap"])[None],
             "keypoint_regression": t["keypoint_regression"][None], "keypoint_offset": t["keypoint_offset"][None]}
    decoded = decode_single_pose({k: tf.constant(v) for k, v in heads.items()}).numpy()[0, 0]
    labelled = vis[0] > 0
    np.testing.assert_allclose(decoded[labelled, :2], kp[0, labelled] / GRID, atol=1e-6)
    np.testing.assert_allclose(t["keypoints"][0, labelled, :2], kp[0, labelled] / GRID, atol=1e-6)
    assert t["num_valid"] == 1 and t["keypoints"][1:].max() == 0


def _neighbour_values(config, boxes):
    """Keypoint 0's and the centre's heatmap value one cell to the right of their (floored) peaks."""
    kp, vis = one_person()
    t = {k: v.numpy() for k, v in encode_targets(kp, vis, np.array(boxes, np.float32), np.array([0]), GRID, GRID,
                                                 config).items()}
    y, x = (int(v) for v in np.floor(kp[0, 0]))
    cy, cx = (int(v) for v in np.floor(kp[0][vis[0] > 0].mean(axis=0)))
    assert t["keypoint_heatmap"][y, x, 0] == 1.0 and t["center_heatmap"][cy, cx, 0] == 1.0
    return t["keypoint_heatmap"][y, x + 1, 0], t["center_heatmap"][cy, cx + 1, 0]


def test_fixed_heatmap_sigma_is_the_same_for_every_person_size():
    import dataclasses

    fixed = dataclasses.replace(ODAPI, heatmap_sigma="fixed", center_sigma_cells=1.5, keypoint_sigma_cells=1.2)
    large = [4.0, 14.0, 40.0, 46.0]  # a 36 x 32 cell box: ODAPI's sigmas would be far wider
    for boxes in ([BOX], [large]):
        keypoint, centre = _neighbour_values(fixed, boxes)
        assert keypoint == pytest.approx(math.exp(-1 / (2 * 1.2**2)), abs=1e-6)
        assert centre == pytest.approx(math.exp(-1 / (2 * 1.5**2)), abs=1e-6)


def test_box_and_clipped_heatmap_sigma():
    import dataclasses

    # ODAPI: nose sigma = 0.26 x the box sigma 5/6; clipped into [0.5, 4]: 0.5.
    keypoint, centre = _neighbour_values(ODAPI, [BOX])
    assert keypoint == pytest.approx(math.exp(-1 / (2 * (0.26 * BOX_SIGMA) ** 2)), rel=1e-4)
    assert centre == pytest.approx(math.exp(-1 / (2 * BOX_SIGMA**2)), abs=1e-6)
    clipped = dataclasses.replace(ODAPI, heatmap_sigma="clipped", sigma_clip=(0.5, 4.0))
    keypoint, centre = _neighbour_values(clipped, [BOX])
    assert keypoint == pytest.approx(math.exp(-2.0), abs=1e-6)
    assert centre == pytest.approx(math.exp(-1 / (2 * BOX_SIGMA**2)), abs=1e-6)  # 5/6 is inside the range


@pytest.mark.parametrize("key, value, message", [
    ("heatmap_sigma", "gaussian", "heatmap_sigma: expected one of box, fixed, clipped"),
    ("keypoint_sigma_cells", 0.0, "keypoint_sigma_cells: must be > 0"),
    ("sigma_clip", (2.0, 1.0), "sigma_clip: expected"),
    ("offset_radius", -1, "offset_radius: must be >= 0"),
])
def test_bad_target_values_name_the_key(key, value, message):
    import dataclasses

    with pytest.raises(UserError, match=message):
        dataclasses.replace(ODAPI, **{key: value})

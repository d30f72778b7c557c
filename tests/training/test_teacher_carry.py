"""Equivariant teaching: the teacher's maps on the upright view, carried to a turned (and mirrored) view, are the
maps the teacher gives when run directly on that view.

No released model is exactly equivariant, so the teacher here is released Lightning averaged over the eight
quarter turns and mirrors of its input (each output turned back with ``np.rot90`` / ``np.fliplr`` and the
vector rules worked out by hand below), which is equivariant by construction and still a real network's maps.
That code shares nothing with ``training/teacher.py``, which carries maps with affine matrices and a warp.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from movenet_train import geometry
from movenet_train.data.tfrecord import decode_image_bytes
from movenet_train.keypoints import COCO_17
from movenet_train.modeling.decode import decode_single_pose
from movenet_train.training.teacher import carry_outputs
from tests.helpers import COCO_SAMPLE, TFJS, require_shared

SIZE = 192
VECTORS = ("keypoint_offset", "keypoint_regression")
JOINTS = {"keypoint_heatmap": 1, "keypoint_offset": 2, "keypoint_regression": 2}


def _rot90(maps):
    """One ``np.rot90`` (counter-clockwise) of ``[H, W, C]`` head maps. A point (y, x) of an n x n grid goes to
    (n - x, y) and cell (r, c) to (n - 1 - c, r), so a vector ``point - cell`` (vy, vx) becomes (1 - vx, vy)."""
    out = {}
    for key, value in maps.items():
        value = np.rot90(value).copy()
        if key in VECTORS:
            vy, vx = value[..., 0::2].copy(), value[..., 1::2].copy()
            value[..., 0::2], value[..., 1::2] = 1.0 - vx, vy
        out[key] = value
    return out


def _mirror(maps):
    """``np.fliplr``: (y, x) -> (y, n - x), cell (r, c) -> (r, n - 1 - c), vector (vy, vx) -> (vy, 1 - vx), and
    the person's left joints become the right ones."""
    out = {}
    permutation = list(COCO_17.flip_permutation)
    for key, value in maps.items():
        value = np.fliplr(value).copy()
        if key in VECTORS:
            value[..., 1::2] = 1.0 - value[..., 1::2]
        if key in JOINTS:
            per = JOINTS[key]
            value = value.reshape(*value.shape[:2], -1, per)[:, :, permutation].reshape(value.shape)
        out[key] = value
    return out


def _symmetrised(model):
    """image ``[S, S, 3]`` -> the mean over the 8 symmetries g of g^-1(model(g(image)))."""
    def run(image):
        views, undo = [], []
        for mirrored in (False, True):
            for turns in range(4):
                view = np.rot90(np.fliplr(image) if mirrored else image, turns)
                views.append(view)
                undo.append((mirrored, turns))
        outputs = model(tf.constant(np.stack(views), tf.float32), training=False)
        total = None
        for i, (mirrored, turns) in enumerate(undo):
            maps = {k: v[i].numpy() for k, v in outputs.items()}
            for _ in range((4 - turns) % 4):
                maps = _rot90(maps)
            if mirrored:
                maps = _mirror(maps)
            total = maps if total is None else {k: total[k] + maps[k] for k in total}
        return {k: v / len(undo) for k, v in total.items()}
    return run


@pytest.fixture(scope="module")
def teacher():
    require_shared(TFJS["lightning"])
    from movenet_train.runtime import load_keras

    model, _ = load_keras(str(TFJS["lightning"]))
    return _symmetrised(model)


@pytest.fixture(scope="module")
def photo():
    require_shared(COCO_SAMPLE / "images")
    path = sorted((COCO_SAMPLE / "images").glob("*.jpg"))[3]
    return decode_image_bytes(tf.io.read_file(str(path)))


def _decoded(maps):
    return decode_single_pose({k: tf.constant(v[None]) for k, v in maps.items()})[0, 0].numpy()  # [K, 3]


@pytest.mark.parametrize("turns,mirrored", [(1, False), (2, False), (3, False), (1, True), (0, True)])
def test_carried_maps_are_the_teachers_maps_on_the_turned_view(teacher, photo, turns, mirrored):
    h, w = photo.shape[:2]
    centre, side = geometry.letterbox_transform(h, w, SIZE)
    upright_matrix = geometry.window_transform(centre, side, SIZE)
    turned_matrix = geometry.window_transform(centre, side, SIZE, angle=turns * math.pi / 2, flip=mirrored)
    upright = geometry.warp_image(photo, upright_matrix, SIZE).numpy()
    # The turned view is the upright one turned (and mirrored after the turn) by whole pixels; the warp's uint8
    # truncation differs by one level on a few pixels, which would blur the comparison, so the teacher runs on
    # the exact copy.
    turned = np.rot90(upright, turns)
    turned = np.fliplr(turned) if mirrored else turned
    assert np.abs(geometry.warp_image(photo, turned_matrix, SIZE).numpy() - turned).max() <= 1.0

    on_upright = teacher(upright)
    direct = teacher(turned)
    carry = (turned_matrix @ tf.linalg.inv(upright_matrix))[None]
    carried, valid = carry_outputs({k: tf.constant(v[None]) for k, v in on_upright.items()}, carry,
                                   (SIZE // 4, SIZE // 4), COCO_17.flip_permutation)
    carried = {k: v[0].numpy() for k, v in carried.items()}

    assert valid.numpy().min() == 1.0  # a quarter turn of a square window loses nothing
    for key, value in direct.items():
        np.testing.assert_allclose(carried[key], value, atol=2e-3, err_msg=key)
    # The pose decoded from the carried maps is the teacher's pose on the turned view.
    pose_carried, pose_direct = _decoded(carried), _decoded(direct)
    assert pose_direct[:, 2].max() > 0.3  # the symmetrised teacher does see the person
    np.testing.assert_allclose(pose_carried, pose_direct, atol=1e-3)


def test_cells_outside_the_teachers_view_are_not_taught():
    """A 45-degree turn of a square window: the student's corners lie outside the upright teacher view."""
    maps = {"center": tf.zeros([1, 48, 48, 1]), "keypoint_heatmap": tf.zeros([1, 48, 48, 17]),
            "keypoint_offset": tf.zeros([1, 48, 48, 34]), "keypoint_regression": tf.zeros([1, 48, 48, 34])}
    upright = geometry.window_transform((96.0, 96.0), 192.0, SIZE)
    turned = geometry.window_transform((96.0, 96.0), 192.0, SIZE, angle=math.pi / 4)
    _, valid = carry_outputs(maps, (turned @ tf.linalg.inv(upright))[None], (48, 48), COCO_17.flip_permutation)
    valid = valid.numpy()[0, ..., 0]
    assert valid[0, 0] == 0 and valid[-1, -1] == 0 and valid[24, 24] == 1
    # The inscribed circle of the view (radius 24 cells) is covered; the uncovered share is that of the corners.
    assert 1 - valid.mean() == pytest.approx(2 * (math.sqrt(2) - 1) ** 2 / 2, abs=0.03)

"""Quarter turns of a COCO set (data.rotate): keypoints by hand, pixels under the keypoints, atomic output."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from movenet_train.data.rotate import rotate_box, rotate_coco, rotate_keypoints, rotate_points
from movenet_train.errors import UserError
from movenet_train.keypoints import COCO_17


def test_points_turn_as_worked_out_by_hand():
    # A 4 x 2 image (width 4, height 2); the point (x=1, y=0.5) is near the top-left corner.
    # Counter-clockwise 90: the image becomes 2 x 4, the top edge becomes the left edge, x=1 of 4 ends 3 from the
    # bottom: (0.5, 3). 180: (4 - 1, 2 - 0.5) = (3, 1.5). 270: the top edge becomes the right edge: (2 - 0.5, 1).
    expected = {0: (1.0, 0.5), 90: (0.5, 3.0), 180: (3.0, 1.5), 270: (1.5, 1.0)}
    for angle, point in expected.items():
        np.testing.assert_allclose(rotate_points([1.0, 0.5], angle, 4, 2), point)
    # The image corners go to corners.
    np.testing.assert_allclose(rotate_points([[0, 0], [4, 2]], 90, 4, 2), [[0, 4], [2, 0]])
    with pytest.raises(ValueError, match="angle"):
        rotate_points([0, 0], 45, 4, 2)


def test_keypoints_keep_visibility_and_unlabelled_zeros():
    keypoints = [1, 0.5, 2, 0, 0, 0, 3.5, 1.5, 1]
    assert rotate_keypoints(keypoints, 90, 4, 2) == [0.5, 3, 2, 0, 0, 0, 1.5, 0.5, 1]
    assert rotate_keypoints(keypoints, 270, 4, 2) == [1.5, 1, 2, 0, 0, 0, 0.5, 3.5, 1]


def test_boxes_by_hand():
    # Box x 1..3, y 0..1 in a 4 x 2 image. 90 ccw: x' = y in 0..1, y' = 4 - x in 1..3.
    assert rotate_box([1, 0, 2, 1], 90, 4, 2) == [0, 1, 1, 2]
    assert rotate_box([1, 0, 2, 1], 180, 4, 2) == [1, 1, 2, 1]
    assert rotate_box([1, 0, 2, 1], 270, 4, 2) == [1, 1, 1, 2]


def _tiny_coco(tmp_path):
    """A 7 x 5 image, black but for three coloured pixels, with keypoints on their centres."""
    pixels = np.zeros((5, 7, 3), np.uint8)
    marks = {(1, 2): (255, 0, 0), (4, 6): (0, 255, 0), (3, 0): (0, 0, 255)}  # (row, col): colour
    for (row, col), colour in marks.items():
        pixels[row, col] = colour
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(pixels).save(images / "a.png")
    keypoints = [0.0] * 51
    for k, (row, col) in enumerate(marks):
        keypoints[3 * k:3 * k + 3] = [col + 0.5, row + 0.5, 2]
    data = {"images": [{"id": 7, "file_name": "a.png", "width": 7, "height": 5}],
            "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "iscrowd": 0, "area": 10.0,
                             "bbox": [0, 1, 7, 4], "num_keypoints": 3, "keypoints": keypoints,
                             "segmentation": [[0, 1, 7, 1, 7, 5, 0, 5]]}],
            "categories": [{"id": 1, "name": "person", "keypoints": list(COCO_17.names), "skeleton": []}]}
    path = tmp_path / "a.json"
    path.write_text(json.dumps(data))
    return path, images, marks


def test_rotated_images_carry_their_keypoints_on_the_same_pixels(tmp_path):
    annotations, images, marks = _tiny_coco(tmp_path)
    out = tmp_path / "out"
    rotate_coco(annotations, images, out, angles=(0, 90, 180, 270), schema=COCO_17)
    data = json.loads((out / "person_keypoints.json").read_text())
    assert [i["id"] for i in data["images"]] == [7000, 7090, 7180, 7270]
    assert [a["image_id"] for a in data["annotations"]] == [7000, 7090, 7180, 7270]
    for image, ann in zip(data["images"], data["annotations"]):
        pixels = np.asarray(Image.open(out / "images" / image["file_name"]))
        assert pixels.shape[:2] == (image["height"], image["width"])
        assert (image["width"], image["height"]) == ((5, 7) if image["rotation_degrees"] in (90, 270) else (7, 5))
        points = np.asarray(ann["keypoints"]).reshape(17, 3)
        for (x, y, v), colour in zip(points[:3], marks.values()):
            assert v == 2
            assert tuple(pixels[int(y), int(x)]) == colour, (image["rotation_degrees"], x, y)
        assert points[3:].sum() == 0
        x, y, w, h = ann["bbox"]
        assert w * h == 28 and 0 <= x and x + w <= image["width"] and y + h <= image["height"]
        assert ann["area"] == 10.0  # OKS scale is unchanged by a turn
    # Nothing but the finished folder is left behind.
    assert sorted(os.listdir(tmp_path)) == ["a.json", "images", "out"]


def test_bad_input_is_named(tmp_path):
    annotations, images, _ = _tiny_coco(tmp_path)
    with pytest.raises(UserError, match="angles"):
        rotate_coco(annotations, images, tmp_path / "o1", angles=(45,), schema=COCO_17)
    with pytest.raises(UserError, match="image_ids"):
        rotate_coco(annotations, images, tmp_path / "o2", image_ids=[8], schema=COCO_17)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        rotate_coco(annotations, tmp_path / "nowhere", tmp_path / "o3", schema=COCO_17)
    rotate_coco(annotations, images, tmp_path / "o4", angles=(90,), schema=COCO_17)
    with pytest.raises(FileExistsError, match="o4"):
        rotate_coco(annotations, images, tmp_path / "o4", angles=(90,), schema=COCO_17)

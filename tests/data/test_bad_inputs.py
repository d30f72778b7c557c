"""Bad input to the conversion: a clear error naming the file and key, or a counted skip, never a wrong record."""

import json

import numpy as np
import pytest
from PIL import Image

from movenet_train.data import coco
from movenet_train.data.convert import convert_coco
from movenet_train.data.tfrecord import read_records
from movenet_train.errors import UserError
from movenet_train.keypoints import COCO_17
from movenet_train.preprocessing import load_rgb

W, H = 48, 32  # size of the plain test images


def _keypoints(*labelled):
    """51 COCO values with the given (index, x, y) labelled (v=2)."""
    values = [0] * 51
    for index, x, y in labelled:
        values[3 * index: 3 * index + 3] = [x, y, 2]
    return values


def _ann(ann_id, image_id, bbox, keypoints=None, iscrowd=0):
    ann = {"id": ann_id, "image_id": image_id, "category_id": 1, "bbox": bbox, "iscrowd": iscrowd,
           "area": bbox[2] * bbox[3]}
    if keypoints is not None:
        ann["keypoints"] = keypoints
        ann["num_keypoints"] = sum(1 for v in keypoints[2::3] if v > 0)
    return ann


def _coco(images, annotations):
    return {"images": images, "annotations": annotations,
            "categories": [{"id": 1, "name": "person", "keypoints": list(COCO_17.names), "skeleton": []}]}


@pytest.fixture
def bad_dataset(tmp_path):
    """Images of every awkward kind, made here with Pillow, and a JSON describing them."""
    d = tmp_path / "images"
    d.mkdir()
    rng = np.random.default_rng(0)
    # Smooth, asymmetric content: JPEG keeps it within a few levels, and a wrong rotation shows.
    ys, xs = np.mgrid[:H, :W]
    gradient = np.stack([xs * 5, ys * 7, (xs + ys) * 3], axis=-1).astype(np.uint8)
    Image.fromarray(gradient).save(d / "plain.jpg", quality=95)
    Image.fromarray(gradient[..., 0], "L").save(d / "gray.jpg")
    Image.new("CMYK", (W, H), (10, 120, 200, 30)).save(d / "cmyk.jpg")
    Image.fromarray(rng.integers(0, 255, (H, W, 4), dtype=np.uint8), "RGBA").save(d / "alpha.png")
    # Stored 48x32 with EXIF orientation 6 (rotate 90 degrees clockwise to display): upright it is 32x48.
    exif = Image.Exif()
    exif[coco.EXIF_ORIENTATION] = 6
    Image.fromarray(gradient).save(d / "rotated.jpg", exif=exif, quality=95)
    (d / "truncated.jpg").write_bytes((d / "plain.jpg").read_bytes()[:200])
    (d / "text.jpg").write_text("not an image")
    Image.new("RGB", (W + 1, H)).save(d / "wrong_size.jpg")

    names = ["plain.jpg", "gray.jpg", "cmyk.jpg", "alpha.png", "rotated.jpg", "truncated.jpg", "text.jpg",
             "missing.jpg", "wrong_size.jpg"]
    images = [{"id": i + 1, "file_name": n, "width": W, "height": H} for i, n in enumerate(names)]
    images[4].update(width=H, height=W)  # the JSON describes the upright image
    annotations = [
        # A labelled keypoint 10 px right of the image: unlabelled, counted.
        _ann(1, 1, [4, 4, 20, 20], _keypoints((0, 10, 12), (5, W + 10, 8))),
        # Zero-area boxes: rebuilt from the keypoints when there are some, dropped when there are none.
        _ann(2, 1, [5, 5, 0, 0], _keypoints((9, 30, 10), (10, 40, 20))),
        _ann(3, 1, [5, 5, 0, 7], _keypoints()),
        # A crowd region without keypoints.
        _ann(4, 1, [0, 0, 10, 10], None, iscrowd=1),
        _ann(5, 5, [2, 3, 10, 20], _keypoints((0, 5, 40))),  # (x=5, y=40) exists only in the upright image
    ]
    path = tmp_path / "person_keypoints.json"
    path.write_text(json.dumps(_coco(images, annotations)))
    return path, d


def test_bad_images_are_skipped_and_counted_and_the_rest_is_right(bad_dataset, tmp_path):
    annotations, images = bad_dataset
    manifest = convert_coco(str(annotations), str(images), str(tmp_path / "out"), num_workers=0, progress=False,
                            schema=COCO_17)
    counts = manifest["counts"]
    assert counts["examples"] == 5 and counts["skipped_images"] == 4
    assert counts["skipped_missing_image"] == 1
    assert counts["skipped_undecodable_image"] == 2
    assert counts["skipped_size_mismatch"] == 1
    assert counts["keypoints_outside_image_unlabelled"] == 1
    assert counts["zero_area_boxes_from_keypoints"] == 1 and counts["zero_area_boxes_dropped"] == 1
    assert counts["exif_rotated_images"] == 1
    assert {s["file"] for s in manifest["skipped"]} == {"truncated.jpg", "text.jpg", "missing.jpg", "wrong_size.jpg"}

    records = read_records(str(tmp_path / "out" / "train-*.tfrecord"), schema=COCO_17)
    examples = {e["filename"].numpy().decode(): e for e in records}
    assert set(examples) == {"plain.jpg", "gray.jpg", "cmyk.jpg", "alpha.png", "rotated.jpg"}
    for name, example in examples.items():
        # Every stored image decodes to 3 channels and to the pixels evaluation reads.
        expected = load_rgb(images / name)
        assert example["image"].shape[-1] == 3
        if name == "plain.jpg":
            np.testing.assert_array_equal(example["image"].numpy(), expected)  # stored byte for byte
        elif name == "alpha.png":
            np.testing.assert_array_equal(example["image"].numpy(), expected)  # re-encoded losslessly
        else:  # re-encoded as JPEG (quality 95)
            assert np.abs(example["image"].numpy().astype(int) - expected).mean() < 3.0
    rotated = examples["rotated.jpg"]
    assert rotated["image"].shape == (W, H, 3)  # upright: 48 rows, 32 columns
    np.testing.assert_allclose(rotated["keypoints"][0, 0].numpy() * [W, H], [40, 5])

    plain = examples["plain.jpg"]
    assert plain["boxes"].shape[0] == 3  # the zero-area person without keypoints is gone
    np.testing.assert_array_equal(plain["keypoint_visibility"][0].numpy()[[0, 5]], [2, 0])
    np.testing.assert_array_equal(plain["keypoints"][0, 5].numpy(), [0, 0])
    assert int(plain["num_keypoints"][0]) == 1
    # The keypoints' extent: x 30..40, y 10..20 -> (ymin, xmin, ymax, xmax) normalised.
    np.testing.assert_allclose(plain["boxes"][1].numpy(), [10 / H, 30 / W, 20 / H, 40 / W], rtol=1e-6)
    np.testing.assert_array_equal(plain["is_crowd"].numpy(), [0, 0, 1])


NOT_KEYPOINTS = {
    "detection file": (json.dumps({"images": [], "annotations": [], "categories": [{"id": 1, "name": "person"}]}),
                       "not a COCO keypoint file"),
    "a list": ("[1, 2]", "expected a JSON object"),
    "no annotations": (json.dumps({"images": [], "categories": []}), "key 'annotations'"),
    "not JSON": ("images: []", "not valid JSON"),
    "other keypoints": (json.dumps({"images": [], "annotations": [],
                                    "categories": [{"id": 1, "name": "hand", "keypoints": ["a", "b"]}]}),
                        "17 COCO keypoints"),
    "short keypoints": (json.dumps(_coco([{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
                                         [_ann(7, 1, [0, 0, 1, 1], [0] * 50)])),
                        "annotations[0] (id 7): 'keypoints' must be 51 numbers"),
    "unknown image": (json.dumps(_coco([], [_ann(7, 3, [0, 0, 1, 1], [0] * 51)])), "'image_id' 3"),
    "bad visibility": (json.dumps(_coco([{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
                                        [_ann(7, 1, [0, 0, 1, 1], [0, 0, 3] + [0] * 48)])), "visibility"),
}


@pytest.mark.parametrize("case", sorted(NOT_KEYPOINTS))
def test_json_that_is_not_coco_keypoints_fails_naming_file_and_key(case, tmp_path):
    content, message = NOT_KEYPOINTS[case]
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(UserError, match=str(path)) as err:
        convert_coco(str(path), str(tmp_path), str(tmp_path / "out"), num_workers=0, progress=False, schema=COCO_17)
    assert message in str(err.value)
    assert not (tmp_path / "out").exists()


def test_an_interrupted_run_leaves_no_shard(bad_dataset, tmp_path, monkeypatch):
    annotations, images = bad_dataset
    calls = []

    def fail_on_third(*args):
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return prepare(*args)

    prepare = coco.prepare_image
    monkeypatch.setattr(coco, "prepare_image", fail_on_third)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        convert_coco(str(annotations), str(images), str(out), num_shards=2, num_workers=0, progress=False,
                     schema=COCO_17)
    assert list(out.iterdir()) == []  # no shard, no manifest, no temporary folder


def test_existing_records_need_overwrite(bad_dataset, tmp_path):
    annotations, images = bad_dataset
    out = str(tmp_path / "out")
    convert_coco(str(annotations), str(images), out, num_workers=0, progress=False, schema=COCO_17)
    with pytest.raises(FileExistsError, match="overwrite=true"):
        convert_coco(str(annotations), str(images), out, num_workers=0, progress=False, schema=COCO_17)
    manifest = convert_coco(str(annotations), str(images), out, num_shards=2, num_workers=0, overwrite=True,
                            progress=False, schema=COCO_17)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord", "train-manifest.json"]
    assert manifest["counts"]["examples"] == 5


@pytest.fixture
def wrong_values(tmp_path):
    """One plain image and annotations with values that are wrong, not imprecise (issue #22), plus one whose
    keypoint is only a rounding outside the image."""
    d = tmp_path / "images"
    d.mkdir()
    Image.new("RGB", (W, H), (90, 120, 150)).save(d / "plain.jpg", quality=95)
    annotations = [
        _ann(11, 1, [4, 4, 20, 20], _keypoints((0, 10, 12), (5, -5e9, 8))),  # far outside the image
        _ann(12, 1, [30, 5, -10, 20], _keypoints((9, 30, 10), (10, 40, 20))),  # negative width
        _ann(13, 1, [2, 2, 10, 10], _keypoints((0, 5, 5), (1, 6, 6), (15, 46, 30))),  # ankle far from its box
        _ann(14, 1, [2, 2, 10, 10], _keypoints((0, 5, 5))),
        _ann(15, 1, [2, 2, 10, 10], _keypoints((0, 5, 5), (1, W + 1.5, 6))),  # within the tolerance
    ]
    annotations[3]["keypoints"][1] = float("nan")
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(_coco([{"id": 1, "file_name": "plain.jpg", "width": W, "height": H}], annotations)))
    return path, d


def test_wrong_values_are_skipped_counted_and_named(wrong_values, tmp_path, caplog):
    annotations, images = wrong_values
    with caplog.at_level("WARNING"):
        manifest = convert_coco(str(annotations), str(images), str(tmp_path / "out"), num_workers=0, progress=False,
                                schema=COCO_17)
    counts = manifest["counts"]
    assert counts["problems_keypoint_outside_image"] == 1 and counts["problems_bad_box"] == 1
    assert counts["problems_keypoint_outside_box"] == 1 and counts["problems_non_finite_values"] == 1
    assert counts["keypoints_outside_image_unlabelled"] == 2  # annotation 15's too, but not as a problem
    assert counts["keypoints_outside_box_unlabelled"] == 1
    assert [(p["annotation"], p["problem"]) for p in manifest["problems"]] == [
        (14, "non_finite_values"), (11, "keypoint_outside_image"), (12, "bad_box"), (13, "keypoint_outside_box")]
    for annotation in (11, 12, 13, 14):
        assert f"annotation {annotation}: " in caplog.text
    assert "annotation 11: keypoint 'left_shoulder' at (-5e+09, 8) is 5e+09 px outside the 48x32 image (image " \
           "plain.jpg): unlabelled" in caplog.text

    (example,) = read_records(str(tmp_path / "out" / "train-*.tfrecord"), schema=COCO_17)
    visibility = example["keypoint_visibility"].numpy()
    assert visibility.shape[0] == 4  # annotation 14 (NaN) left out, the others kept
    assert visibility[0, 5] == 0 and visibility[0, 0] == 2  # the far keypoint unlabelled, the rest kept
    assert visibility[2, 15] == 0 and visibility[2, :2].tolist() == [2, 2]
    # the negative-width box: the keypoints' extent (x 30..40, y 10..20), as for zero-area boxes
    np.testing.assert_allclose(example["boxes"][1].numpy(), [10 / H, 30 / W, 20 / H, 40 / W], rtol=1e-6)


@pytest.mark.parametrize("strict_error", [True, False], ids=["strict", "skip"])
def test_strict_makes_the_first_wrong_value_an_error_and_keeps_the_output(strict_error, wrong_values, tmp_path):
    annotations, images = wrong_values
    out = tmp_path / "out"
    convert_coco(str(annotations), str(images), str(out), num_workers=0, progress=False, schema=COCO_17)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    data = json.loads(annotations.read_text())
    if not strict_error:  # only the NaN annotation: a file-level error naming its key
        data["annotations"] = data["annotations"][3:4]
    else:
        del data["annotations"][3]
    annotations.write_text(json.dumps(data))
    expected = "annotation 11: keypoint 'left_shoulder'" if strict_error else r"annotations\[0\] \(id 14\): 'keypoints' holds NaN"
    with pytest.raises(UserError, match=expected) as err:
        convert_coco(str(annotations), str(images), str(out), num_workers=0, progress=False, overwrite=True,
                     strict=True, schema=COCO_17)
    assert str(annotations) in str(err.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing replaced, no temporary left

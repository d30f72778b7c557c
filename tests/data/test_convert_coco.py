"""COCO JSON -> TFRecords on the real COCO sample: every image, box and keypoint read back against the JSON."""

import collections
import hashlib
import os

import numpy as np
import pytest
import tensorflow as tf

from movenet_train.data.tfrecord import read_records
from movenet_train.keypoints import COCO_17
from movenet_train.preprocessing import load_rgb
from tests.helpers import COCO_SAMPLE
from tests.data.conftest import SAMPLE_JSON

# The TF Object Detection API's keypoint feature names (create_coco_tf_record.py).
ODAPI_KEYS = [
    "image/encoded", "image/format", "image/height", "image/width", "image/source_id", "image/filename",
    "image/object/bbox/xmin", "image/object/bbox/ymin", "image/object/bbox/xmax", "image/object/bbox/ymax",
    "image/object/class/label", "image/object/is_crowd", "image/object/area", "image/object/keypoint/x",
    "image/object/keypoint/y", "image/object/keypoint/visibility", "image/object/keypoint/num", "image/key/sha256",
]


def test_sample_gives_55_examples_and_239_people(sample_records):
    output, manifest = sample_records
    counts = manifest["counts"]
    assert counts["examples"] == 55 and counts["people"] == 239
    assert counts["crowd_regions"] == 5 and counts["skipped_images"] == 0
    assert counts["people_without_keypoints"] == 112  # 117 with num_keypoints 0, less the 5 crowd regions
    assert sorted(os.listdir(output)) == ["val-00000-of-00002.tfrecord", "val-00001-of-00002.tfrecord",
                                          "val-manifest.json"]
    assert manifest["source"]["annotations_sha256"] == hashlib.sha256(SAMPLE_JSON.read_bytes()).hexdigest()


def test_every_image_box_and_keypoint_matches_the_json(sample_records, coco_sample):
    output, _ = sample_records
    images = {image["file_name"]: image for image in coco_sample["images"]}
    people = collections.defaultdict(list)
    for ann in coco_sample["annotations"]:
        people[ann["image_id"]].append(ann)

    seen = set()
    for example in read_records(str(output / "val-*.tfrecord"), schema=COCO_17):
        name = example["filename"].numpy().decode()
        info = images[name]
        seen.add(name)
        h, w = info["height"], info["width"]
        assert (int(example["height"]), int(example["width"])) == (h, w)
        assert example["source_id"].numpy().decode() == str(info["id"])
        # Pixels: what evaluation reads with Pillow, exactly.
        np.testing.assert_array_equal(example["image"].numpy(), load_rgb(COCO_SAMPLE / "images" / name))

        anns = people[info["id"]]
        assert example["boxes"].shape[0] == len(anns)
        for i, ann in enumerate(anns):
            x, y, bw, bh = ann["bbox"]
            np.testing.assert_allclose(example["boxes"][i].numpy() * [h, w, h, w], [y, x, y + bh, x + bw], atol=1e-3)
            assert int(example["is_crowd"][i]) == ann["iscrowd"]
            assert float(example["area"][i]) == pytest.approx(ann["area"], rel=1e-6)
            assert int(example["num_keypoints"][i]) == ann["num_keypoints"]
            kx, ky, v = (np.array(ann["keypoints"][j::3], np.float64) for j in range(3))
            np.testing.assert_array_equal(example["keypoint_visibility"][i].numpy(), v)
            np.testing.assert_allclose(example["keypoints"][i].numpy() * [h, w], np.stack([ky, kx], -1), atol=1e-3)
    assert seen == set(images)


def test_records_use_the_odapi_keypoint_schema(sample_records):
    output, _ = sample_records
    raw = next(iter(tf.data.TFRecordDataset(sorted(str(p) for p in output.glob("val-*.tfrecord")))))
    features = tf.train.Example.FromString(raw.numpy()).features.feature
    assert set(ODAPI_KEYS) <= set(features)
    num_people = len(features["image/object/bbox/xmin"].float_list.value)
    assert len(features["image/object/keypoint/x"].float_list.value) == 17 * num_people
    assert len(features["image/object/keypoint/visibility"].int64_list.value) == 17 * num_people
    assert list(features["image/object/class/label"].int64_list.value) == [1] * num_people
    assert features["image/format"].bytes_list.value[0] == b"jpeg"
    encoded = features["image/encoded"].bytes_list.value[0]
    assert features["image/key/sha256"].bytes_list.value[0].decode() == hashlib.sha256(encoded).hexdigest()

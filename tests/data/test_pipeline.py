"""build_dataset on the COCO sample records: shapes, geometry against the JSON, decoding, sharding."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from movenet_train.data import build_dataset
from movenet_train.data.pipeline import choose_target
from movenet_train.modeling import MoveNetSpec
from movenet_train.modeling.decode import decode_single_pose
from movenet_train.preprocessing import unletterbox
from tests.data.conftest import compose_config

MAPS = ["center_heatmap", "center_mask", "keypoint_heatmap", "keypoint_heatmap_mask", "keypoint_offset",
        "keypoint_offset_mask", "keypoint_regression", "keypoint_regression_mask"]


def _setup(sample_records, variant, *overrides):
    output, _ = sample_records
    cfg = compose_config(f"exp={variant}", "data=coco", f"data.train_records={output}/val-*.tfrecord",
                         f"data.val_records={output}/val-*.tfrecord", *overrides)
    return cfg.data, MoveNetSpec.from_config(cfg.model)


def _numpy(batch):
    images, targets = batch
    return images.numpy(), {k: v.numpy() for k, v in targets.items()}


@pytest.mark.parametrize("variant,size,extra", [("lightning", 192, []),
                                                ("multipose_lightning", 256, ["box_scale", "box_offset", "box_mask"])])
def test_training_batches_have_the_interface_shapes(sample_records, variant, size, extra):
    data_cfg, spec = _setup(sample_records, variant)
    first = _numpy(next(iter(build_dataset(data_cfg, spec, "train", 4, training=True, deterministic=True))))
    again = _numpy(next(iter(build_dataset(data_cfg, spec, "train", 4, training=True, deterministic=True))))
    images, targets = first
    grid = size // 4
    assert images.shape == (4, size, size, 3) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 255
    channels = {"center_heatmap": 1, "center_mask": 1, "keypoint_heatmap": 17, "keypoint_heatmap_mask": 17,
                "keypoint_offset": 34, "keypoint_offset_mask": 34, "keypoint_regression": 34,
                "keypoint_regression_mask": 34, "box_scale": 2, "box_offset": 2, "box_mask": 2}
    assert set(targets) == set(MAPS + extra + ["num_people", "num_keypoints", "keypoints", "num_valid", "boxes"])
    for key in MAPS + extra:
        assert targets[key].shape == (4, grid, grid, channels[key]), key
    assert targets["keypoints"].shape == (4, 20, 17, 3) and targets["num_valid"].shape == (4,)
    assert targets["boxes"].shape == (4, 20, 4)
    assert (targets["num_people"] >= 1).all()  # images without a usable person are skipped
    np.testing.assert_array_equal(targets["num_people"], targets["num_valid"])
    np.testing.assert_array_equal(targets["num_keypoints"], (targets["keypoints"][..., 2] > 0).sum(axis=(1, 2)))
    # Deterministic mode: the same batch twice.
    np.testing.assert_array_equal(images, again[0])
    np.testing.assert_array_equal(targets["keypoint_heatmap"], again[1]["keypoint_heatmap"])


def test_multi_pose_validation_keypoints_map_back_to_the_json(sample_records, coco_sample):
    """Letterboxed whole images: the keypoint targets, mapped back with preprocessing.unletterbox, are the JSON's."""
    data_cfg, spec = _setup(sample_records, "multipose_lightning", "data.loader.skip_images_without_people=false")
    images, targets = _numpy(next(iter(build_dataset(data_cfg, spec, "val", 64, training=False))))
    sizes = {(img["height"], img["width"]): img for img in coco_sample["images"]}
    people = collections.defaultdict(list)
    for ann in coco_sample["annotations"]:
        if not ann["iscrowd"] and ann["num_keypoints"] > 0:
            people[ann["image_id"]].append(np.array(ann["keypoints"], np.float64).reshape(17, 3))
    from movenet_train.data.tfrecord import read_records

    records = list(read_records(str(data_cfg.val_records), decode_image=False, schema=spec.schema))
    assert len(records) == images.shape[0] == 55
    for i, record in enumerate(records):
        h, w = int(record["height"]), int(record["width"])
        expected = people[int(record["source_id"].numpy())]
        assert targets["num_valid"][i] == len(expected)
        for person, truth in zip(targets["keypoints"][i], expected):
            labelled = truth[:, 2] > 0
            np.testing.assert_array_equal(person[:, 2], truth[:, 2])
            yx = unletterbox(person[:, :2], h, w, 256, 256)
            np.testing.assert_allclose(yx[labelled], truth[labelled][:, 1::-1], atol=0.02)  # pixels
    assert sizes  # the sample has images of several sizes


def test_single_pose_letterbox_framing_is_the_eval_letterbox(sample_records, coco_sample):
    """full_image_probability 1: every example (validation too) is the whole image letterboxed as the
    single_person protocol feeds it; the target person's keypoints map back to the JSON with its unletterbox."""
    data_cfg, spec = _setup(sample_records, "lightning", "data.loader.single_pose.full_image_probability=1")
    _, targets = _numpy(next(iter(build_dataset(data_cfg, spec, "val", 64, training=False))))
    from movenet_train.data.tfrecord import read_records

    people = collections.defaultdict(list)
    for ann in coco_sample["annotations"]:
        if not ann["iscrowd"] and ann["num_keypoints"] > 0:
            people[ann["image_id"]].append(np.array(ann["keypoints"], np.float64).reshape(17, 3))
    records = [r for r in read_records(str(data_cfg.val_records), decode_image=False, schema=spec.schema)
               if any((p[:, 2] > 0).sum() >= 5 for p in people[int(r["source_id"].numpy())])]
    assert len(records) == len(targets["keypoints"]) > 30
    for record, people_targets, box in zip(records, targets["keypoints"], targets["boxes"]):
        h, w = int(record["height"]), int(record["width"])
        person = people_targets[0]
        labelled = person[:, 2] > 0
        yx = unletterbox(person[:, :2], h, w, 192, 192)
        truths = people[int(record["source_id"].numpy())]
        errors = [np.abs(yx[labelled] - t[labelled][:, 1::-1]).max() if np.array_equal(t[:, 2] > 0, labelled)
                  else np.inf for t in truths]
        assert min(errors) < 0.02  # pixels
        assert (box[0, 2:] > box[0, :2]).all()  # the target person's box, normalised


def test_single_pose_targets_decode_to_the_target_person(sample_records):
    """The released graphs' decoder, fed the targets as heads, finds every labelled keypoint of person 0."""
    data_cfg, spec = _setup(sample_records, "thunder", "data.loader.single_pose.full_image_probability=0")
    _, targets = _numpy(next(iter(build_dataset(data_cfg, spec, "val", 64, training=False))))
    logit = lambda p: np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))  # noqa: E731
    heads = {"center": logit(targets["center_heatmap"]), "keypoint_heatmap": logit(targets["keypoint_heatmap"]),
             "keypoint_offset": targets["keypoint_offset"], "keypoint_regression": targets["keypoint_regression"]}
    decoded = decode_single_pose({k: tf.constant(v) for k, v in heads.items()}).numpy()[:, 0]
    target = targets["keypoints"][:, 0]
    labelled = target[..., 2] > 0
    assert labelled.sum() > 500
    np.testing.assert_allclose(decoded[..., :2][labelled], target[..., :2][labelled], atol=1e-5)
    # The crop puts the target person's centre at the middle of the input.
    centres = np.array([t[lab, :2].mean(axis=0) for t, lab in zip(target, labelled)])
    np.testing.assert_allclose(centres, 0.5, atol=1e-4)


def test_target_choice():
    example = {"is_crowd": tf.constant([0, 1, 0, 0]),
               "keypoint_visibility": tf.constant([[2] * 6 + [0] * 11, [2] * 17, [2] * 9 + [0] * 8,
                                                   [1] * 9 + [0] * 8]),
               "boxes": tf.constant([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0.1, 0.1], [0, 0, 0.5, 0.5]], tf.float32)}
    assert int(choose_target(example, 5)) == 3  # most keypoints, then the larger box; never the crowd region
    picks = {int(choose_target(example, 5, tf.constant([s, 0], tf.int64))) for s in range(30)}
    assert picks == {0, 2, 3}


def test_input_context_shards_and_splits_the_batch(sample_records):
    data_cfg, spec = _setup(sample_records, "lightning")
    counts = []
    for pipeline_id in (0, 1):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline_id,
                                             num_replicas_in_sync=2)
        dataset = build_dataset(data_cfg, spec, "val", 8, training=False, input_context=context)
        counts.append(sum(int(images.shape[0]) for images, _ in dataset))
        assert max(int(images.shape[0]) for images, _ in dataset) == 4  # per-replica batch
    everything = sum(int(images.shape[0]) for images, _ in build_dataset(data_cfg, spec, "val", 8, training=False))
    assert sum(counts) == everything and min(counts) > 0


def test_missing_records_name_the_config_key(tmp_path):
    cfg = compose_config("data=coco", f"data.train_records={tmp_path}/nothing-*.tfrecord")
    with pytest.raises(FileNotFoundError, match="data.train_records"):
        build_dataset(cfg.data, MoveNetSpec.from_config(cfg.model), "train", 4, training=True)


def test_upright_teacher_view_is_the_student_view_before_its_quarter_turn(sample_records):
    """train.distill.view=upright at the student's size: the teacher's image is the student's own (colour changes
    included) before the quarter turn, and ``teacher_carry`` is that turn, checked by warping the teacher's image
    through it (an affine resampler, independent of tf.image.rot90) onto the student's image."""
    from movenet_train.geometry import warp_maps

    data_cfg, spec = _setup(sample_records, "lightning", "data/augment=quarter_turns")
    images, targets = _numpy(next(iter(build_dataset(data_cfg, spec, "train", 16, training=True, deterministic=True,
                                                     teacher_view=("upright", 192)))))
    carry = targets["teacher_carry"]
    turns = np.round(np.degrees(np.arctan2(carry[:, 1, 0], carry[:, 0, 0])) / 90.0).astype(int) % 4
    assert len(set(turns)) >= 3, turns  # several quarter turns drawn
    for k in range(4):  # exactly a quarter turn about the centre, no zoom, shift or mirror
        expected = np.linalg.matrix_power(np.array([[0.0, -1.0], [1.0, 0.0]]), k)
        np.testing.assert_allclose(carry[turns == k, :2, :2], np.broadcast_to(expected, (int((turns == k).sum()), 2, 2)),
                                   atol=1e-5)
    warped = warp_maps(tf.constant(targets["teacher_image"]), tf.constant(carry), (192, 192)).numpy()
    np.testing.assert_allclose(warped, images, atol=0.05)  # of 0-255: float error of the matrix, no resampling
    unturned = turns == 0
    assert unturned.any() and np.array_equal(targets["teacher_image"][unturned], images[unturned])

"""data.sources: weighted mixing of record sets, its errors, and the exact resume position with it."""

import collections

import numpy as np
import pytest
import tensorflow as tf
from omegaconf import OmegaConf

from movenet_train.data import build_dataset, sources
from movenet_train.errors import UserError
from movenet_train.modeling import MoveNetSpec
from movenet_train.keypoints import COCO_17
from tests.data.conftest import compose_config
from tests.helpers import SHARED, require_shared

VIDEO = SHARED / "data" / "video_sample" / "pose_squats.mp4"


def _shards(sample_records):
    output, manifest = sample_records
    return [str(output / s["file"]) for s in manifest["shards"]]


def _cfg(mapping):
    return OmegaConf.create(mapping)


def test_bad_sources_are_errors_naming_the_key(sample_records):
    shard = _shards(sample_records)[0]
    cases = [
        ({"a": {"records": shard, "weight": -0.5}}, ValueError, r"data\.sources\.a\.weight: must be a finite number >= 0"),
        ({"a": {"records": shard, "weight": 0}, "b": {"records": shard, "weight": 0.0}}, ValueError,
         r"data\.sources: every weight is 0 \(a, b\)"),
        ({"a": {"records": shard + "-nothing-*", "weight": 1}}, FileNotFoundError, r"data\.sources\.a\.records: no files"),
        ({"a": {"records": shard, "weight": 1, "wieght": 2}}, ValueError, r"data\.sources\.a: unknown key data\.sources\.a\.wieght"),
        ({"a": {"records": shard}}, ValueError, r"data\.sources\.a: missing key data\.sources\.a\.weight"),
        ({"a": {"records": shard, "weight": "0.5"}}, ValueError, r"data\.sources\.a\.weight"),
        ({"a": {"records": shard, "weight": float("nan")}}, ValueError, r"data\.sources\.a\.weight"),
        ({}, ValueError, r"data\.sources: empty"),
        ({"a": {"weight": 1}}, ValueError, r"data\.sources\.a: give exactly one of data\.sources\.a\.records"),
        ({"a": {"records": shard, "media": shard, "weight": 1}}, ValueError, r"exactly one of"),
        ({"a": {"media": str(VIDEO), "weight": 1, "frame_step": 0}}, ValueError, r"data\.sources\.a\.frame_step"),
        ({"a": {"media": str(VIDEO) + ".nothing.mp4", "weight": 1}}, FileNotFoundError, r"does not exist"),
    ]
    for mapping, error, message in cases:
        with pytest.raises(error, match=message):
            sources.resolve(_cfg(mapping), COCO_17)


def test_examples_are_drawn_by_weight(sample_records):
    first, second = _shards(sample_records)
    resolved = sources.resolve(_cfg({"a": {"records": first, "weight": 3}, "b": {"records": second, "weight": 1},
                                     "off": {"records": first, "weight": 0}}))
    assert [(s.name, s.weight) for s in resolved] == [("a", 3.0), ("b", 1.0), ("off", 0.0)]
    ids = {name: {r.numpy() for r in tf.data.TFRecordDataset(path)} for name, path in (("a", first), ("b", second))}

    def stream():
        return sources.mix(resolved, lambda files: tf.data.TFRecordDataset(files).repeat(), seed=7).take(2000)

    drawn = [r.numpy() for r in stream()]
    counts = collections.Counter("a" if r in ids["a"] else "b" if r in ids["b"] else "?" for r in drawn)
    assert counts["?"] == 0
    assert abs(counts["a"] / 2000 - 0.75) < 0.04, counts  # binomial sd 0.01
    assert drawn == [r.numpy() for r in stream()]  # seeded: the same order every time


def test_training_on_sources_resumes_at_the_exact_example(sample_records):
    first, second = _shards(sample_records)
    cfg = compose_config("exp=lightning", "data=coco", f"+data.sources.a.records={first}", "+data.sources.a.weight=0.5",
                         f"+data.sources.b.records={second}", "+data.sources.b.weight=0.5",
                         "data.train_records=/nothing/train-*.tfrecord", "data/augment=none")
    spec = MoveNetSpec.from_config(cfg.model)
    batches = iter(build_dataset(cfg.data, spec, "train", 2, training=True, deterministic=True))
    for _ in range(3):
        next(batches)
    expected = next(batches)
    resumed = next(iter(build_dataset(cfg.data, spec, "train", 2, training=True, deterministic=True, start_step=3)))
    np.testing.assert_array_equal(expected[0].numpy(), resumed[0].numpy())
    np.testing.assert_array_equal(expected[1]["keypoints"].numpy(), resumed[1]["keypoints"].numpy())


def test_an_unlabeled_video_source_is_framed_whole_and_left_to_the_teacher(sample_records):
    """Frames of a video mixed with labelled records: every unlabeled example carries no ground-truth supervision
    (all loss masks 0, no people), is the whole frame letterboxed, and comes with the teacher's upright view."""
    require_shared(VIDEO)
    first, _ = _shards(sample_records)
    cfg = compose_config("exp=lightning", "data=coco", f"+data.sources.coco.records={first}",
                         "+data.sources.coco.weight=0.5", f"+data.sources.video.media={VIDEO}",
                         "+data.sources.video.frame_step=20", "+data.sources.video.weight=0.5",
                         "data.train_records=/nothing/train-*.tfrecord")
    resolved = sources.resolve(cfg.data.sources, COCO_17)
    video = next(s for s in resolved if s.name == "video")
    import cv2

    frames = int(cv2.VideoCapture(str(VIDEO)).get(cv2.CAP_PROP_FRAME_COUNT))
    assert len(video.unlabeled) == -(-frames // 20) and not video.files

    spec = MoveNetSpec.from_config(cfg.model)
    images, targets = next(iter(build_dataset(cfg.data, spec, "train", 16, training=True, deterministic=True,
                                              teacher_view=("upright", 256))))
    unlabeled = (targets["num_people"].numpy() == 0)
    assert 0 < unlabeled.sum() < 16  # both sources are drawn
    for key in ("center_mask", "keypoint_heatmap_mask", "keypoint_offset_mask", "keypoint_regression_mask"):
        assert targets[key].numpy()[unlabeled].max() == 0, key
    # The teacher (Thunder's 256 px) sees the student's window, colour changes included (no quarter turns in
    # the default augmentation): scaled to the student's 192 px it is the student's image up to resampling.
    assert targets["teacher_image"].shape[1:] == (256, 256, 3)
    scaled = tf.image.resize(targets["teacher_image"], (192, 192), antialias=True).numpy()
    difference = np.abs(scaled - images.numpy()).mean(axis=(1, 2, 3))
    assert np.median(difference) < 4.0, difference  # of 0-255; unrelated frames differ by tens
    assert np.abs(scaled - images.numpy()[::-1]).mean(axis=(1, 2, 3)).max() > 3 * np.median(difference)

    # Framed whole: without augmentation the 720x1280 portrait frame is letterboxed with bands of padding.
    plain = OmegaConf.merge(cfg.data, {"augment": {"enabled": False}})
    images, targets = next(iter(build_dataset(plain, spec, "train", 16, training=True, deterministic=True)))
    frames = images.numpy()[targets["num_people"].numpy() == 0]
    assert len(frames) and frames[:, :, :40].max() == 0 and frames[:, :, -40:].max() == 0
    assert frames[:, :, 96].max() > 0


def test_an_unlabeled_source_needs_a_teacher(sample_records, tmp_path):
    require_shared(VIDEO)
    from movenet_train.training import build_training_run

    first, _ = _shards(sample_records)
    cfg = compose_config("exp=lightning", "data=coco", f"data.train_records={first}", f"data.val_records={first}",
                         f"+data.sources.video.media={VIDEO}", "+data.sources.video.weight=1",
                         f"output_dir={tmp_path}", "train.teacher=null")
    with pytest.raises(UserError, match=r"data\.sources\.video is unlabeled .* set train\.teacher"):
        build_training_run(cfg)

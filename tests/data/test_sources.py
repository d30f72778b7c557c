"""data.sources: weighted mixing of record sets, its errors, and the exact resume position with it."""

import collections

import numpy as np
import pytest
import tensorflow as tf
from omegaconf import OmegaConf

from movenet_train.data import build_dataset, sources
from movenet_train.modeling import MoveNetSpec
from tests.data.conftest import compose_config


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
        ({"a": {"records": shard, "weight": 1, "wieght": 2}}, ValueError, r"data\.sources\.a: unknown key data\.sources\.a\.wieght \(known: records, weight\)"),
        ({"a": {"records": shard}}, ValueError, r"data\.sources\.a: missing key data\.sources\.a\.weight"),
        ({"a": {"records": shard, "weight": "0.5"}}, ValueError, r"data\.sources\.a\.weight"),
        ({"a": {"records": shard, "weight": float("nan")}}, ValueError, r"data\.sources\.a\.weight"),
        ({}, ValueError, r"data\.sources: empty"),
    ]
    for mapping, error, message in cases:
        with pytest.raises(error, match=message):
            sources.resolve(_cfg(mapping))


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

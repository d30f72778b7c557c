"""Damaged TFRecord shards: named before anything is read (cut short, not a TFRecord, a damaged header), named after
TensorFlow's DataLossError (a payload that fails its checksum), read up to the damage with data.skip_corrupt=true."""

import logging

import pytest
import tensorflow as tf

from movenet_train.data import shards

PAYLOAD = 100
RECORD = 12 + PAYLOAD + 4  # header (length, its CRC), payload, payload CRC


def write_records(path, count):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for index in range(count):
            writer.write(bytes([index]) * PAYLOAD)
    return str(path)


def changed_copy(source, path, change):
    """``source``'s bytes, changed by ``change(bytearray)``, written to ``path``."""
    with open(source, "rb") as f:
        data = bytearray(f.read())
    with open(path, "wb") as f:
        f.write(change(data) or data)
    return str(path)


@pytest.fixture(autouse=True)
def _forget_checked_shards(monkeypatch):
    monkeypatch.setattr(shards, "_checked", {})  # each test's own: other tests' files may be gone


@pytest.fixture
def good(tmp_path):
    return write_records(tmp_path / "good-00000-of-00002.tfrecord", 5)


def truncated(good, tmp_path):
    return changed_copy(good, tmp_path / "cut-00001-of-00002.tfrecord", lambda data: data[:3 * RECORD + 50])


def flip(data, index):
    data[index] ^= 0xFF


def test_an_intact_shard_and_an_empty_one_pass(good, tmp_path):
    empty = tmp_path / "empty.tfrecord"
    empty.write_bytes(b"")
    assert shards.header_damage(good) is None and shards.header_damage(str(empty)) is None
    shards.check_shards([good, str(empty)], "data.train_records")


def test_a_shard_cut_short_is_found_after_its_intact_records(good, tmp_path):
    damage = shards.header_damage(truncated(good, tmp_path))
    assert (damage.intact, damage.offset) == (3, 3 * RECORD) and damage.what.startswith("truncated")
    cut_in_header = changed_copy(good, tmp_path / "header.tfrecord", lambda data: data[:RECORD + 5])
    assert shards.header_damage(cut_in_header).what == "truncated: the file ends inside a record header"


def test_a_file_that_is_not_a_tfrecord_and_a_damaged_header_are_found(good, tmp_path):
    text = tmp_path / "text.tfrecord"
    text.write_text("garbage, not records")
    assert shards.header_damage(str(text)).what.startswith("not a TFRecord file")
    header = changed_copy(good, tmp_path / "flip.tfrecord", lambda data: flip(data, 2 * RECORD + 1))
    damage = shards.header_damage(header)
    assert (damage.intact, damage.offset, damage.what) == (2, 2 * RECORD, "a record header fails its checksum")


def test_check_shards_names_the_key_the_shard_and_what_to_do(good, tmp_path):
    cut = truncated(good, tmp_path)
    with pytest.raises(shards.CorruptShardError) as err:
        shards.check_shards([good, cut], "data.train_records", skip_corrupt=False)
    message = str(err.value)
    assert message.startswith("data.train_records: damaged TFRecord shard ")
    assert f"{cut} (at byte {3 * RECORD}, after 3 intact records): truncated" in message
    assert "data/prepare_coco.py" in message and "data.skip_corrupt=true" in message
    with pytest.raises(shards.CorruptShardError) as err:  # a reader without the option (eval's records=)
        shards.check_shards([good, cut], f"records {cut}")
    assert "data/prepare_coco.py" in str(err.value) and "skip_corrupt" not in str(err.value)


def test_skip_corrupt_logs_each_damaged_shard_and_reads_it_up_to_its_damage(good, tmp_path, caplog):
    cut = truncated(good, tmp_path)
    with caplog.at_level(logging.WARNING, logger=shards.__name__):
        shards.check_shards([good, cut], "data.val_records", skip_corrupt=True)
    assert "data.val_records: 1 of 2 shards are damaged" in caplog.text
    assert f"{cut} (at byte {3 * RECORD}, after 3 intact records): truncated" in caplog.text
    assert "its last 50 bytes are skipped" in caplog.text
    read = tf.data.Dataset.from_tensor_slices([cut, good]).interleave(shards.record_reader(skip_corrupt=True),
                                                                      cycle_length=2)
    assert len(list(read)) == 3 + 5
    with pytest.raises(tf.errors.DataLossError):
        list(tf.data.Dataset.from_tensor_slices([cut, good]).interleave(shards.record_reader(), cycle_length=2))


def test_a_payload_that_fails_its_checksum_is_named_after_the_data_loss_error(good, tmp_path):
    bad = changed_copy(good, tmp_path / "payload-00001-of-00002.tfrecord", lambda data: flip(data, RECORD + 12 + 7))
    shards.check_shards([good, bad], "data.train_records", skip_corrupt=False)  # whole headers: only reading finds it
    with pytest.raises(tf.errors.DataLossError) as err:
        list(tf.data.TFRecordDataset([good, bad]))
    assert bad not in str(err.value)  # TensorFlow's message names no file
    named = shards.damaged_shard_error(err.value)
    assert isinstance(named, shards.CorruptShardError)
    assert str(named).startswith(f"data.train_records: damaged TFRecord shard {bad} (at byte {RECORD + 12}): a "
                                 "record fails its checksum")
    assert shards.damaged_shard_error(ValueError("another error")) is None


@pytest.mark.slow
def test_the_training_pipeline_reads_a_damaged_shard_up_to_its_damage_with_skip_corrupt(tiny_dataset, tmp_path):
    from movenet_train.data import build_dataset
    from movenet_train.modeling import MoveNetSpec
    from tests.data.conftest import compose_config

    (source,) = (tiny_dataset / "records").glob("train-*.tfrecord")
    cut = changed_copy(source, tmp_path / "train-00000-of-00001.tfrecord", lambda data: data[:len(data) * 3 // 4])
    assert shards.header_damage(cut).intact >= 2  # the last record or two cut off
    overrides = ["exp=lightning", "data=coco", f"data.train_records={cut}", "data/augment=none"]
    spec = MoveNetSpec.from_config(compose_config(*overrides).model)
    with pytest.raises(shards.CorruptShardError, match="data.train_records: damaged TFRecord shard"):
        build_dataset(compose_config(*overrides).data, spec, "train", 2, training=True)
    dataset = build_dataset(compose_config(*overrides, "data.skip_corrupt=true").data, spec, "train", 2,
                            training=True)
    for images, _ in dataset.take(3):  # repeated: more batches than the intact records make
        assert images.shape == (2, 192, 192, 3)

"""Damaged TFRecord shards, found and named.

TensorFlow reports a damaged record as ``DataLossError: corrupted record at <byte>`` (or ``truncated record``) without
naming the file, and the training pipeline interleaves several shards, so the error alone cannot say which one
failed. Two checks name it:

- before any record is read, ``check_shards`` walks the record headers of every local shard: 12 bytes per record
  (the payload's length and that length's checksum), the payload skipped, so a thousand-record shard costs
  milliseconds. It finds what usually goes wrong: a shard cut short (an interrupted copy or conversion, a full
  disk), a file that is not a TFRecord at all, a damaged header.
- damage inside a payload only shows when the payload is read; when TensorFlow's ``DataLossError`` ends a command,
  ``damaged_shard_error`` reads the shards this process checked, in full, and names the first one that fails.

``data.skip_corrupt=true`` turns the first check's error into a warning with counts, and the pipeline reads every
shard through ``record_reader(skip_corrupt=True)``: a damaged shard is read up to its damage and its rest skipped, the
other shards whole.
"""

import dataclasses
import logging
import os
import re
import struct
import typing

from movenet_train.errors import UserError

log = logging.getLogger(__name__)

# A TFRecord is a sequence of: uint64 length, uint32 masked CRC-32C of the length, payload, uint32 masked CRC-32C of
# the payload (tensorflow/core/lib/io/record_writer.h).
_HEADER = struct.Struct("<QI")
_FOOTER_BYTES = 4
RECREATE = "re-create it (data/prepare_coco.py)"
OR_SKIP = ", or pass data.skip_corrupt=true to read only its intact records"

# Shards checked by this process, config key -> (files, advice): what ``damaged_shard_error`` reads after a
# DataLossError, and what it tells the user to do.
_checked = {}


class CorruptShardError(UserError):
    """A TFRecord shard that cannot be read whole; the message names it."""


@dataclasses.dataclass(frozen=True)
class Damage:
    """Where a shard stops being readable: the ``intact`` records before byte ``offset`` read fine (None: unknown)."""

    path: str
    intact: typing.Optional[int]
    offset: typing.Optional[int]
    what: str

    def describe(self):
        where = [f"at byte {self.offset}"] if self.offset is not None else []
        where += [f"after {self.intact} intact records"] if self.intact else []
        return f"{self.path} ({', '.join(where)}): {self.what}" if where else f"{self.path}: {self.what}"


def is_local(path):
    return "://" not in str(path)


def header_damage(path):
    """The first damage the record headers of the local file ``path`` show, or None when every record is framed
    whole (payload checksums are not verified: that needs the payload read)."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c  # TensorFlow's CRC, in Python

    size = os.path.getsize(path)
    records = offset = 0
    with open(path, "rb") as f:
        while offset < size:
            header = f.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return Damage(path, records, offset, "truncated: the file ends inside a record header")
            length, checksum = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != checksum:
                what = "not a TFRecord file (its first record header fails its checksum)" if records == 0 else \
                    "a record header fails its checksum"
                return Damage(path, records, offset, what)
            end = offset + _HEADER.size + length + _FOOTER_BYTES
            if end > size:
                return Damage(path, records, offset, f"truncated: a record of {length} bytes runs past the end of "
                              f"the file ({size} bytes)")
            f.seek(end)
            offset = end
            records += 1
    return None


def check_shards(files, key, skip_corrupt=None):
    """Raises ``CorruptShardError`` naming the first damaged shard of ``files`` (the config key ``key`` matched
    them); with ``skip_corrupt`` logs every damaged shard instead (None: a reader without that option, whose error
    does not offer it). Remote files (``gs://...``) are not walked: a header read each is a request each;
    ``damaged_shard_error`` still names them after a failure."""
    files = list(files)
    advice = RECREATE + ("" if skip_corrupt is None else OR_SKIP)
    _checked[key] = (tuple(files), advice)
    damaged = [damage for damage in (header_damage(f) for f in files if is_local(f)) if damage]
    if not damaged:
        return
    if not skip_corrupt:
        more = f" ({len(damaged) - 1} more shards are damaged)" if len(damaged) > 1 else ""
        raise CorruptShardError(f"{key}: damaged TFRecord shard {damaged[0].describe()}{more}; {advice}")
    log.warning("%s: %d of %d shards are damaged; data.skip_corrupt=true reads each up to its damage and skips the "
                "rest of it:", key, len(damaged), len(files))
    for damage in damaged:
        log.warning("  %s; its last %d bytes are skipped", damage.describe(), os.path.getsize(damage.path) - damage.offset)


def record_reader(skip_corrupt=False):
    """The per-shard reader of the pipelines: ``tf.data.TFRecordDataset``, or with ``skip_corrupt`` one that ends
    a shard quietly at its first unreadable record (TensorFlow then moves on to the next shard), logging it."""
    import tensorflow as tf

    if not skip_corrupt:
        return tf.data.TFRecordDataset
    return lambda path: tf.data.TFRecordDataset(path).ignore_errors(log_warning=True)


_OFFSET = re.compile(r"(?:corrupted|truncated) record at (\d+)")


def read_damage(path):
    """The damage found by reading ``path`` whole with TensorFlow (payload checksums included), or None."""
    import tensorflow as tf

    try:
        tf.data.TFRecordDataset(path).reduce(0, lambda count, _: count + 1)
    except tf.errors.DataLossError as err:
        found = _OFFSET.search(str(err))
        what = "a record fails its checksum" if "corrupted" in str(err) else "truncated"
        return Damage(str(path), None, int(found.group(1)) if found else None, what)
    return None


def damaged_shard_error(err):
    """A ``CorruptShardError`` naming the shard behind TensorFlow's ``DataLossError`` ``err`` (read in full: only
    after a failure), or None when ``err`` is another error or no checked shard is damaged (a checkpoint, say)."""
    import tensorflow as tf

    if not isinstance(err, tf.errors.DataLossError):
        return None
    for key, (files, advice) in reversed(_checked.items()):  # the latest first
        for path in files:
            damage = read_damage(path) if tf.io.gfile.exists(path) else None
            if damage:
                return CorruptShardError(f"{key}: damaged TFRecord shard {damage.describe()}; {advice}")
    return None

"""``data.sources``: training on several record sets at once, each drawn with its own probability.

    data:
      sources:
        own: {records: /data/yoga/records/train-*.tfrecord, weight: 0.7}
        coco: {records: ${data.root}/records/train-*.tfrecord, weight: 0.3}

Each source is read, shuffled and repeated on its own (the pipeline's usual reader) and
``tf.data.Dataset.sample_from_datasets`` draws every example from source ``i`` with probability
``weight_i / sum(weights)``, with a seed: the mixed order is the same on every run, so a resumed run skips the
examples of the steps already taken after the mixing and lands exactly where it stopped. Weights need not sum to 1.
Without ``sources``, training reads ``data.train_records`` as before; validation reads ``val_records`` (null: none).

A source may also be unlabeled: ``{media: <folder of images, video or GIF>, frame_step: N, weight: w}`` (every
N-th frame). Its images carry no people; each is stored as one ignore (crowd) region covering the whole image,
so the ground-truth terms skip it, the pipeline frames it whole (letterboxed), and a teacher (``train.teacher``,
required) supplies every target.
"""

import dataclasses
import math
import os
import typing

import tensorflow as tf

from movenet_train.config import ConfigError, config_from
from movenet_train.data import shards
from movenet_train.errors import UserError



@dataclasses.dataclass(frozen=True)
class SourceConfig:
    """``data.sources.<name>``."""

    weight: typing.Any
    records: typing.Optional[str] = None  # labelled: a glob of the project's TFRecords
    media: typing.Optional[str] = None  # unlabeled: a folder of images, a video or a GIF
    frame_step: int = 1  # of media: every frame_step-th frame


@dataclasses.dataclass(frozen=True)
class Source:
    name: str
    files: tuple
    weight: float
    unlabeled: tuple = ()  # serialized examples of an unlabeled source (files is empty)


def unlabeled_examples(path, frame_step, schema, key):
    """Serialized examples of the frames of ``path`` (every ``frame_step``-th), each one ignore region over the
    whole image and no labelled keypoint."""
    import cv2
    import numpy as np

    from movenet_train.data.tfrecord import encode_example
    from movenet_train.tracking.media import open_media

    if not isinstance(frame_step, int) or frame_step < 1:
        raise UserError(f"{key}.frame_step: must be an integer >= 1, got {frame_step!r}")
    k = schema.num_keypoints
    examples = []
    for index, frame in enumerate(open_media(path)):
        if index % frame_step:
            continue
        height, width = frame.image.shape[:2]
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise UserError(f"{key}.media: frame {index} of {path} could not be encoded")
        examples.append(encode_example(
            encoded.tobytes(), "jpeg", height, width, f"{os.path.basename(str(path))}:{index}", frame.name,
            boxes=np.array([[0.0, 0.0, 1.0, 1.0]]), is_crowd=np.array([1]), area=np.array([float(height * width)]),
            keypoints=np.zeros([1, k, 2]), keypoint_visibility=np.zeros([1, k], np.int64),
            keypoint_names=schema.names).SerializeToString())
    if not examples:
        raise UserError(f"{key}.media: {path} holds no frame")
    return tuple(examples)


def resolve(sources_cfg, schema=None, skip_corrupt=False):
    """``[Source]`` from ``cfg.data.sources``, with every error naming the ``data.sources.<name>`` key
    (``schema``: the keypoint schema of unlabeled sources' examples; ``skip_corrupt``: ``data.skip_corrupt``, for
    damaged record shards)."""
    if not sources_cfg:
        raise UserError("data.sources: empty; give at least one {records: <glob>, weight: <w>} or leave it out "
                        "to train on data.train_records")
    if not hasattr(sources_cfg, "items"):
        raise UserError("data.sources: expected a mapping name -> {records, weight}, got "
                        f"{type(sources_cfg).__name__}")
    resolved = []
    for name, source in sources_cfg.items():
        key = f"data.sources.{name}"
        if not hasattr(source, "items"):
            raise UserError(f"{key}: expected {{records: <glob>, weight: <w>}}, got {source!r}")
        source = config_from(SourceConfig, source, key)
        if (source.records is None) == (source.media is None):
            raise ConfigError(f"{key}: give exactly one of {key}.records (labelled records) and {key}.media "
                              "(unlabeled images or video)")
        if source.weight is None:
            raise ConfigError(f"{key}: missing {key}.weight")
        weight = source.weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise UserError(f"{key}.weight: must be a finite number >= 0, got {weight!r}")
        if source.media is not None:
            if schema is None:
                raise UserError(f"{key}.media: unlabeled sources need the keypoint schema")
            resolved.append(Source(str(name), (), float(weight),
                                   unlabeled_examples(str(source.media), source.frame_step, schema, key)))
            continue
        pattern = str(source.records)
        files = tuple(sorted(tf.io.gfile.glob(pattern)))
        if not files:
            raise FileNotFoundError(f"{key}.records: no files match {pattern} (convert the dataset with "
                                    "data/prepare_coco.py first)")
        shards.check_shards(files, f"{key}.records", skip_corrupt)
        resolved.append(Source(str(name), files, float(weight)))
    if sum(s.weight for s in resolved) <= 0:
        raise UserError(f"data.sources: every weight is 0 ({', '.join(s.name for s in resolved)}); at least one "
                        "must be > 0")
    return resolved


def mix(sources, read, seed):
    """One stream of serialized examples: ``read(files)`` of each source (shuffled, repeated; an unlabeled source's
    examples shuffled and repeated the same way), sampled by weight.

    Sources of weight 0 are left out (``sample_from_datasets`` would never draw them, but still open them).
    """
    used = [s for s in sources if s.weight > 0]

    def stream(source):
        if source.files:
            return read(list(source.files))
        # Unlabeled frames live in memory; every input pipeline reads all of them.
        return (tf.data.Dataset.from_tensor_slices(list(source.unlabeled))
                .shuffle(len(source.unlabeled), seed=seed).repeat())

    if len(used) == 1:
        return stream(used[0])
    total = sum(s.weight for s in used)
    return tf.data.Dataset.sample_from_datasets([stream(s) for s in used],
                                                weights=[s.weight / total for s in used], seed=seed,
                                                stop_on_empty_dataset=False)

"""``data.sources``: training on several record sets at once, each drawn with its own probability.

    data:
      sources:
        own: {records: /data/yoga/records/train-*.tfrecord, weight: 0.7}
        coco: {records: ${data.root}/records/train-*.tfrecord, weight: 0.3}

Each source is read, shuffled and repeated on its own (the pipeline's usual reader) and
``tf.data.Dataset.sample_from_datasets`` draws every example from source ``i`` with probability
``weight_i / sum(weights)``, with a seed: the mixed order is the same on every run, so a resumed run skips the
examples of the steps already taken after the mixing and lands exactly where it stopped. Weights need not sum to 1.
Without ``sources``, training reads ``data.train_records`` as before; validation always reads ``val_records``.
"""

import dataclasses
import math
import typing

import tensorflow as tf

from movenet_train.config import ConfigError, config_from



@dataclasses.dataclass(frozen=True)
class SourceConfig:
    """``data.sources.<name>``."""

    records: typing.Optional[str]
    weight: typing.Any


@dataclasses.dataclass(frozen=True)
class Source:
    name: str
    files: tuple
    weight: float


def resolve(sources_cfg):
    """``[Source]`` from ``cfg.data.sources``, with every error naming the ``data.sources.<name>`` key."""
    if not sources_cfg:
        raise ValueError("data.sources: empty; give at least one {records: <glob>, weight: <w>} or leave it out "
                         "to train on data.train_records")
    if not hasattr(sources_cfg, "items"):
        raise ValueError("data.sources: expected a mapping name -> {records, weight}, got "
                         f"{type(sources_cfg).__name__}")
    resolved = []
    for name, source in sources_cfg.items():
        key = f"data.sources.{name}"
        if not hasattr(source, "items"):
            raise ValueError(f"{key}: expected {{records: <glob>, weight: <w>}}, got {source!r}")
        source = config_from(SourceConfig, source, key)
        missing = [k for k in ("records", "weight") if getattr(source, k) is None]
        if missing:
            raise ConfigError(f"{key}: missing {', '.join(f'{key}.{k}' for k in missing)}")
        weight = source.weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"{key}.weight: must be a finite number >= 0, got {weight!r}")
        pattern = str(source.records)
        files = tuple(sorted(tf.io.gfile.glob(pattern)))
        if not files:
            raise FileNotFoundError(f"{key}.records: no files match {pattern} (convert the dataset with "
                                    "data/prepare_coco.py first)")
        resolved.append(Source(str(name), files, float(weight)))
    if sum(s.weight for s in resolved) <= 0:
        raise ValueError(f"data.sources: every weight is 0 ({', '.join(s.name for s in resolved)}); at least one "
                         "must be > 0")
    return resolved


def mix(sources, read, seed):
    """One stream of serialized examples: ``read(files)`` of each source (shuffled, repeated), sampled by weight.

    Sources of weight 0 are left out (``sample_from_datasets`` would never draw them, but still open them).
    """
    used = [s for s in sources if s.weight > 0]
    if len(used) == 1:
        return read(list(used[0].files))
    total = sum(s.weight for s in used)
    return tf.data.Dataset.sample_from_datasets([read(list(s.files)) for s in used],
                                                weights=[s.weight / total for s in used], seed=seed,
                                                stop_on_empty_dataset=False)

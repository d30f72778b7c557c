"""COCO-format keypoint data: TFRecord conversion, the tf.data training pipeline, a synthetic dataset.

Importing the package stays light (no TensorFlow) so that the conversion workers start fast; the pipeline
functions load on first use.
"""

_LAZY = {
    "build_dataset": "movenet_train.data.pipeline",
    "encode_example": "movenet_train.data.tfrecord",
    "parse_example": "movenet_train.data.tfrecord",
    "read_records": "movenet_train.data.tfrecord",
    "ensure_synthetic_dataset": "movenet_train.data.synthetic",
}


def prepare_dataset(data_cfg, schema):
    """Makes a generated dataset (one whose config has a ``generator`` block) on first use, with the joints of
    ``schema`` (a ``KeypointSchema``); others are read as they are."""
    from movenet_train.data.config import data_config

    data_cfg = data_config(data_cfg)  # an unknown key is an error before anything is generated
    if data_cfg.generator is not None:
        from movenet_train.data.synthetic import ensure_synthetic_dataset

        ensure_synthetic_dataset(data_cfg, schema=schema)


__all__ = sorted([*_LAZY, "prepare_dataset"])


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

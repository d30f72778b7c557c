"""Benchmark: images/s of the full training input pipeline, next to the training step's images/s.

    python bench/input_pipeline.py [--variant thunder] [--batch-size 32] [--batches 20] [--data coco_sample|synthetic]

The pipeline (read records, decode JPEG, choose and crop a person, augment, encode the targets, batch) runs
as training runs it; the step figure comes from bench/train_step.py (forward, backward, optimizer update on an
in-memory batch). Both use all the cores of this machine; the pipeline has to stay well ahead of the step.
"""

import argparse
import os
import tempfile
import time

import tensorflow as tf
from hydra import compose, initialize_config_dir

from movenet_train.data import build_dataset
from movenet_train.modeling import MoveNetSpec

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIGS = os.path.join(HERE, "..", "configs")
COCO_SAMPLE = os.path.join(HERE, "..", "..", "shared", "data", "coco_sample")


def compose_config(variant, data_overrides):
    with initialize_config_dir(version_base="1.3", config_dir=os.path.abspath(CONFIGS)):
        return compose("train", overrides=[f"exp={variant}", *data_overrides])


def records_of(data, workdir):
    """Data overrides pointing the config at records of the COCO sample (real photos) or the synthetic set."""
    if data == "coco_sample":
        from movenet_train.data.convert import convert_coco
        from movenet_train.keypoints import COCO_17

        records = os.path.join(workdir, "records")
        convert_coco(os.path.join(COCO_SAMPLE, "person_keypoints_sample.json"), os.path.join(COCO_SAMPLE, "images"),
                     records, split="train", num_shards=4, num_workers=0, progress=False, schema=COCO_17)
        return ["data=coco", f"data.train_records={records}/train-*.tfrecord"]
    from movenet_train.data.synthetic import ensure_synthetic_dataset
    from movenet_train.keypoints import KeypointSchema

    overrides = [f"data.root={workdir}/synthetic"]
    cfg = compose_config("lightning", overrides)
    ensure_synthetic_dataset(cfg.data, progress=False, schema=KeypointSchema.from_config(cfg.keypoints))
    return overrides


def pipeline_rate(cfg, batch_size, batches):
    spec = MoveNetSpec.from_config(cfg.model)
    iterator = iter(build_dataset(cfg.data, spec, "train", batch_size, training=True))
    for _ in range(3):  # warm-up: tracing, autotuning, filling the shuffle buffer
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        images, _ = next(iterator)
    images.numpy()
    return batches * batch_size / (time.perf_counter() - start)


def step_rate(variant, batch_size, steps):
    import train_step

    return train_step.in_memory(variant, batch_size, steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="thunder")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--steps", type=int, default=10, help="training steps timed by bench/train_step.py")
    parser.add_argument("--data", choices=["coco_sample", "synthetic"],
                        default="coco_sample" if os.path.isdir(COCO_SAMPLE) else "synthetic")
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, "
          f"GPUs: {len(tf.config.list_physical_devices('GPU'))}; data: {args.data}")
    with tempfile.TemporaryDirectory() as workdir:
        cfg = compose_config(args.variant, records_of(args.data, workdir))
        pipeline = pipeline_rate(cfg, args.batch_size, args.batches)
    print(f"input pipeline {args.variant:12s} batch {args.batch_size}: {pipeline:7.1f} images/s")
    step = step_rate(args.variant, args.batch_size, args.steps)
    print(f"pipeline / training step: {pipeline / step:.1f}x")


if __name__ == "__main__":
    main()

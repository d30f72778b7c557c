"""Benchmark: training images/s of the MoveNet training step (Orbit trainer, one in-memory batch repeated).

    python bench/train_step.py [--variants lightning thunder] [--batch-size 32] [--steps 20]

Isolates the model's forward + backward + optimizer update from the input pipeline
(bench/input_pipeline.py measures that side).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from movenet_train.losses import LossConfig  # noqa: E402
from movenet_train.modeling import MoveNetSpec, build_model  # noqa: E402
from movenet_train.training.optimizer import build_optimizer  # noqa: E402
from movenet_train.training.trainer import MoveNetTrainer  # noqa: E402

CONFIGS = os.path.join(os.path.dirname(__file__), "..", "configs")


def fake_batch(spec, batch_size):
    grid = spec.input_size // 4
    rng = np.random.default_rng(0)
    zeros = lambda c: np.zeros([batch_size, grid, grid, c], np.float32)  # noqa: E731
    targets = {
        "center_heatmap": zeros(1), "keypoint_heatmap": zeros(17), "keypoint_heatmap_mask": zeros(17) + 1,
        "keypoint_offset": zeros(34), "keypoint_offset_mask": zeros(34), "keypoint_regression": zeros(34),
        "keypoint_regression_mask": zeros(34), "num_people": np.ones([batch_size], np.float32),
        "num_keypoints": np.full([batch_size], 17, np.float32),
    }
    targets["center_heatmap"][:, grid // 2, grid // 2] = 1.0
    if spec.multi_pose:
        targets.update({"box_scale": zeros(2), "box_offset": zeros(2), "box_mask": zeros(2)})
    images = rng.uniform(0, 255, [batch_size, spec.input_size, spec.input_size, 3]).astype(np.float32)
    return images, targets


def bench(variant, batch_size, steps):
    spec = MoveNetSpec.from_config(OmegaConf.load(os.path.join(CONFIGS, "model", f"{variant}.yaml")))
    train_cfg = OmegaConf.load(os.path.join(CONFIGS, "train", "default.yaml"))
    strategy = tf.distribute.get_strategy()
    model = build_model(spec)
    optimizer, lr = build_optimizer(train_cfg)
    optimizer.shadow_copy(model)
    dataset = tf.data.Dataset.from_tensors(fake_batch(spec, batch_size)).repeat()
    trainer = MoveNetTrainer(model, spec, optimizer, lr, dataset, LossConfig(), strategy, batch_size)
    start = time.perf_counter()
    trainer.train(tf.constant(1))  # traces the step
    trace = time.perf_counter() - start
    start = time.perf_counter()
    trainer.train(tf.constant(steps))
    elapsed = time.perf_counter() - start
    print(f"{variant:20s} batch {batch_size}: {steps * batch_size / elapsed:7.1f} images/s "
          f"({elapsed / steps * 1000:.0f} ms/step; first step with tracing {trace:.1f} s)")
    tf.keras.backend.clear_session()
    return steps * batch_size / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["lightning", "thunder"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    for variant in args.variants:
        bench(variant, args.batch_size, args.steps)


if __name__ == "__main__":
    main()

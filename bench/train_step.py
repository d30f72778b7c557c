"""Benchmark: training images/s of the step the quickstart runs, and of the model step alone.

    python bench/train_step.py                       # the quickstart's run: exp=lightning data=synthetic
    python bench/train_step.py exp=thunder train.batch_size=32     # any train.py overrides
    python bench/train_step.py --in-memory [--variants lightning thunder] [--batch-size 32]

Default (real pipeline): composes ``configs/train.yaml`` exactly as ``python train.py +exp=lightning
data=synthetic`` does (plus the overrides given), builds the same training run (``build_training_run``: the
tf.data pipeline with augmentation and target encoding, the EMA optimizer, Orbit with its summaries,
checkpoints and progress actions) in a temporary folder, trains ``--warmup`` steps (tracing, autotuning,
shuffle buffer), then times ``--steps`` more. Its images/s is what the quickstart's progress bar and last lines
report. Then it shows where the time goes: the same step on one cached batch of the pipeline (no input work)
and the input pipeline alone; ``--profile DIR`` adds a TF profiler trace of 20 steps for TensorBoard.

``--in-memory``: one random batch repeated, so the figure isolates forward + backward + optimizer update from
the input pipeline (``bench/input_pipeline.py`` measures that side).
"""

import argparse
import logging
import os
import tempfile
import time

import numpy as np
import tensorflow as tf
import tf_keras
from omegaconf import OmegaConf

from movenet_train.config import default_config
from movenet_train.losses import LossConfig
from movenet_train.modeling import MoveNetSpec, build_model
from movenet_train.training.optimizer import build_optimizer
from movenet_train.training.trainer import MoveNetTrainer

CONFIGS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "configs"))
QUICKSTART = ["exp=lightning", "data=synthetic"]


def real_pipeline(overrides, warmup, steps, profile_dir=None):
    """Images/s of ``steps`` training steps of the run ``train.py`` builds from ``overrides``, then where the
    time goes: the same step on one cached batch (no input pipeline) and the input pipeline alone."""
    from hydra import compose, initialize_config_dir

    from movenet_train.data import build_dataset
    from movenet_train.training import build_training_run

    with tempfile.TemporaryDirectory() as workdir:
        with initialize_config_dir(version_base="1.3", config_dir=CONFIGS):
            cfg = compose("train", overrides=[*QUICKSTART, f"output_dir={workdir}/run", *overrides])
        logging.getLogger("absl").setLevel(logging.WARNING)  # Orbit's per-loop logs
        run = build_training_run(cfg)  # generates the synthetic set on first use (cached under data.root)
        run.progress.enabled = False
        run.progress.start()
        start = time.perf_counter()
        run.controller.train(steps=warmup)
        trace = time.perf_counter() - start
        start = time.perf_counter()
        run.controller.train(steps=warmup + steps)
        elapsed = time.perf_counter() - start
        if profile_dir:  # a TensorBoard profile of a few more steps (Profile tab, tensorboard-plugin-profile)
            tf.profiler.experimental.start(profile_dir)
            run.controller.train(steps=warmup + steps + 20)
            tf.profiler.experimental.stop()
            print(f"profile of 20 steps written to {profile_dir}")
        run.progress.close()
        batch = cfg.train.batch_size
        rate = steps * batch / elapsed
        print(f"real run {cfg.model.name}-{cfg.data.name} batch {batch}: {rate:7.1f} images/s "
              f"({elapsed / steps * 1000:.0f} ms/step over {steps} steps, after {warmup} warm-up steps in {trace:.1f} s)")

        # The same model, optimizer and step on one cached batch of the real pipeline: no input work.
        dataset = build_dataset(cfg.data, run.spec, "train", batch, training=True)
        cached = tf.data.Dataset.from_tensors(next(iter(dataset))).repeat()
        alone = MoveNetTrainer(run.model, run.spec, run.optimizer, run.trainer.learning_rate, cached,
                               run.trainer.loss_config, run.strategy, batch)
        alone.train(tf.constant(5))  # traces
        n = max(steps // 3, 10)
        start = time.perf_counter()
        alone.train(tf.constant(n))
        step_rate = n * batch / (time.perf_counter() - start)
        # The input pipeline alone, on all cores.
        iterator = iter(dataset)
        for _ in range(5):
            next(iterator)
        start = time.perf_counter()
        for _ in range(n):
            next(iterator)
        pipeline_rate = n * batch / (time.perf_counter() - start)
    print(f"  same step on one cached batch: {step_rate:7.1f} images/s; input pipeline alone: {pipeline_rate:7.1f} "
          f"images/s; the run reaches {rate / step_rate:.0%} of the step alone")
    return rate


def fake_batch(spec, batch_size):
    grid = spec.input_size // 4
    k = spec.num_keypoints
    rng = np.random.default_rng(0)
    zeros = lambda c: np.zeros([batch_size, grid, grid, c], np.float32)  # noqa: E731
    targets = {
        "center_heatmap": zeros(1), "keypoint_heatmap": zeros(k), "keypoint_heatmap_mask": zeros(k) + 1,
        "keypoint_offset": zeros(2 * k), "keypoint_offset_mask": zeros(2 * k), "keypoint_regression": zeros(2 * k),
        "keypoint_regression_mask": zeros(2 * k), "num_people": np.ones([batch_size], np.float32),
        "num_keypoints": np.full([batch_size], k, np.float32),
    }
    targets["center_heatmap"][:, grid // 2, grid // 2] = 1.0
    if spec.multi_pose:
        targets.update({"box_scale": zeros(2), "box_offset": zeros(2), "box_mask": zeros(2)})
    images = rng.uniform(0, 255, [batch_size, spec.input_size, spec.input_size, 3]).astype(np.float32)
    return images, targets


def in_memory(variant, batch_size, steps):
    """Images/s of the model step alone (one in-memory batch, default optimizer with EMA)."""
    spec = MoveNetSpec.from_config(OmegaConf.load(os.path.join(CONFIGS, "model", f"{variant}.yaml")))
    train_cfg = OmegaConf.load(os.path.join(CONFIGS, "train", "default.yaml"))
    strategy = tf.distribute.get_strategy()
    model = build_model(spec)
    optimizer, lr = build_optimizer(train_cfg)
    optimizer.shadow_copy(model)
    dataset = tf.data.Dataset.from_tensors(fake_batch(spec, batch_size)).repeat()
    trainer = MoveNetTrainer(model, spec, optimizer, lr, dataset, default_config(LossConfig), strategy, batch_size)
    start = time.perf_counter()
    trainer.train(tf.constant(1))  # traces the step
    trace = time.perf_counter() - start
    start = time.perf_counter()
    trainer.train(tf.constant(steps))
    elapsed = time.perf_counter() - start
    print(f"in-memory {variant:20s} batch {batch_size}: {steps * batch_size / elapsed:7.1f} images/s "
          f"({elapsed / steps * 1000:.0f} ms/step; first step with tracing {trace:.1f} s)")
    tf_keras.backend.clear_session()
    return steps * batch_size / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="train.py overrides (real-pipeline mode)")
    parser.add_argument("--in-memory", action="store_true", help="time the model step on one repeated batch")
    parser.add_argument("--variants", nargs="+", default=["lightning", "thunder"], help="--in-memory only")
    parser.add_argument("--batch-size", type=int, default=32, help="--in-memory only")
    parser.add_argument("--warmup", type=int, default=100, help="real pipeline: untimed steps first")
    parser.add_argument("--profile", metavar="DIR", help="real pipeline: also write a TF profiler trace of 20 steps")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps (default: 300 with the real pipeline, 20 in memory)")
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, GPUs: {len(tf.config.list_physical_devices('GPU'))}")
    if args.in_memory:
        for variant in args.variants:
            in_memory(variant, args.batch_size, args.steps or 20)
    else:
        real_pipeline(args.overrides, args.warmup, args.steps or 300, args.profile)


if __name__ == "__main__":
    main()

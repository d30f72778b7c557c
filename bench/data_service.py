"""Benchmark: images/s of the training input pipeline in this process and from 1 and 2 tf.data service workers.

    python bench/data_service.py [--variant thunder] [--batch-size 32] [--batches 20] [--workers 0 1 2]
                                 [--data coco_sample|synthetic]

The pipeline is the one training runs (bench/input_pipeline.py times it alone); with N > 0 workers it runs in a
dispatcher and N workers started in this process (``movenet_train.data.service``), as ``data.service`` would run
it on other machines. Here every worker shares this machine's cores, so the figures show what the service costs
and what it adds per worker, not a speed-up: on a real cluster each worker brings its own CPUs.
"""

import argparse
import os
import tempfile
import time

import tensorflow as tf

from input_pipeline import COCO_SAMPLE, compose_config, records_of
from movenet_train.data import build_dataset, service
from movenet_train.modeling import MoveNetSpec


def pipeline_rate(dataset, batch_size, batches, warmup=3):
    iterator = iter(dataset)
    for _ in range(warmup):  # tracing, autotuning, filling the shuffle buffer (and connecting to the workers)
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        images, _ = next(iterator)
    images.numpy()
    return batches * batch_size / (time.perf_counter() - start)


def rate_with_workers(cfg, workers, batch_size, batches):
    """Images/s with ``workers`` in-process tf.data service workers (0: the pipeline in this process)."""
    spec = MoveNetSpec.from_config(cfg.model)
    dataset = build_dataset(cfg.data, spec, "train", batch_size, training=True)
    if not workers:
        return pipeline_rate(dataset, batch_size, batches)
    dispatcher = service.start_dispatcher()
    servers = [service.start_worker(dispatcher.target) for _ in range(workers)]
    try:
        return pipeline_rate(service.distribute(dataset, dispatcher.target), batch_size, batches)
    finally:
        for server in servers:
            server.stop()
        dispatcher.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="thunder")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data", choices=["coco_sample", "synthetic"],
                        default="coco_sample" if os.path.isdir(COCO_SAMPLE) else "synthetic")
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; data: {args.data}")
    with tempfile.TemporaryDirectory() as workdir:
        cfg = compose_config(args.variant, records_of(args.data, workdir))
        for workers in args.workers:
            rate = rate_with_workers(cfg, workers, args.batch_size, args.batches)
            where = "in this process" if not workers else f"{workers} tf.data service worker{'s' * (workers > 1)}"
            print(f"input pipeline {args.variant} batch {args.batch_size}, {where:30s}: {rate:7.1f} images/s",
                  flush=True)


if __name__ == "__main__":
    main()

"""Subprocess entry of the distributed and resume tests: ``python run_training.py LOGICAL_CPUS OVERRIDES...``, the
training command's ``run`` on a config composed without Hydra's app.

Logical CPU devices must be configured before TensorFlow starts, hence a process of its own.
"""

import logging
import os
import sys

import tensorflow as tf
from hydra import compose, initialize_config_dir

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    logging.basicConfig(level=logging.INFO)  # what train.py's log shows (Hydra's logging): "resuming from ..."
    logical_cpus, overrides = int(sys.argv[1]), sys.argv[2:]
    if logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * logical_cpus)
    from movenet_train.jobs.train import run  # the training command's own entry: its signal handling included

    with initialize_config_dir(version_base="1.3", config_dir=os.path.join(REPO, "configs")):
        cfg = compose("train", overrides=overrides)
    metrics = run(cfg)
    if metrics is not None:  # None: stopped by a signal (it printed how to resume)
        print("METRICS", {k: round(v, 6) for k, v in metrics.items()})


if __name__ == "__main__":
    main()

"""``train.strategy`` -> a ``tf.distribute`` strategy (through official.common.distribute_utils)."""

import tensorflow as tf
from official.common import distribute_utils

from movenet_train.errors import UserError

_NAMES = {"default": "one_device", "mirrored": "mirrored", "multi_worker": "multi_worker_mirrored", "tpu": "tpu"}


def build_strategy(train_cfg):
    name = train_cfg.strategy
    if name not in _NAMES:
        raise UserError(f"train.strategy={name!r}: expected one of {sorted(_NAMES)}")
    if name == "mirrored" and train_cfg.devices:
        # Explicit devices, e.g. two logical CPUs in tests or a subset of GPUs.
        return tf.distribute.MirroredStrategy(devices=list(train_cfg.devices))
    num_gpus = len(tf.config.list_physical_devices("GPU"))
    return distribute_utils.get_distribution_strategy(
        distribution_strategy=_NAMES[name], num_gpus=num_gpus, tpu_address=train_cfg.tpu_address
    )


def is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                             and "chief" not in resolver.cluster_spec().as_dict())


def worker_id(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    return 0 if resolver is None or resolver.task_id is None else resolver.task_id

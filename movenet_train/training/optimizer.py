"""Optimiser with linear warm-up + cosine decay, weight decay, clipping and EMA, from official.modeling."""

from official.modeling import optimization


def build_optimizer(train_cfg):
    """(optimizer, learning-rate schedule) from a ``TrainConfig`` (or the ``train`` node, converted)."""
    from movenet_train.config import config_from
    from movenet_train.training.config import TrainConfig

    train_cfg = config_from(TrainConfig, train_cfg, "train")
    opt = train_cfg.optimizer
    decay_steps = max(int(train_cfg.steps) - int(opt.warmup_steps), 1)
    config = {
        "optimizer": {
            "type": opt.type,
            opt.type: {
                **({"weight_decay_rate": opt.weight_decay, "exclude_from_weight_decay": ["bias", "beta", "gamma"]}
                   if opt.type == "adamw" else {}),
                **({"gradient_clip_norm": opt.gradient_clip_norm} if opt.type == "adamw" else
                   {"global_clipnorm": opt.gradient_clip_norm} if opt.gradient_clip_norm else {}),
            },
        },
        "learning_rate": {"type": "cosine", "cosine": {"initial_learning_rate": opt.learning_rate,
                                                       "decay_steps": decay_steps}},
    }
    if opt.warmup_steps:
        config["warmup"] = {"type": "linear", "linear": {"warmup_steps": int(opt.warmup_steps),
                                                         "warmup_learning_rate": 0.0}}
    if train_cfg.ema_decay:
        # Trainable weights only: BatchNorm statistics are already moving averages (and per replica).
        config["ema"] = {"average_decay": float(train_cfg.ema_decay), "trainable_weights_only": True}
    factory = optimization.OptimizerFactory(optimization.OptimizationConfig(config))
    learning_rate = factory.build_learning_rate()
    return factory.build_optimizer(learning_rate), learning_rate

"""``train(cfg)``: the job behind ``python train.py``, on Orbit under a ``tf.distribute`` strategy."""

import logging
import math
import os
import shutil
import sys

import numpy as np
import orbit
import tensorflow as tf
import tf_keras as keras
from omegaconf import OmegaConf
from official.modeling import performance
from official.modeling.optimization import ema_optimizer

from movenet_train import checkpoints
from movenet_train.losses import LossConfig
from movenet_train.modeling import MoveNetSpec, build_model
from movenet_train.training.freeze import freeze_layers
from movenet_train.training.init import estimate_batch_norm_statistics, initialize_model, recalibrate_batch_norm
from movenet_train.training.optimizer import build_optimizer
from movenet_train.training.strategy import build_strategy, is_chief, worker_id
from movenet_train.training.trainer import MoveNetEvaluator, MoveNetTrainer

log = logging.getLogger(__name__)

INFERENCE_MODEL_DIR = "model"  # EMA weights in the checkpoint format eval / export / predict read
CHECKPOINT_DIR = "checkpoints"


class TrainingDiverged(RuntimeError):
    pass


class ProgressBar:
    """Orbit train action: a tqdm bar with loss, learning rate and ETA."""

    def __init__(self, global_step, total_steps, enabled=True):
        self.global_step, self.total_steps, self.enabled = global_step, total_steps, enabled
        self.bar = None

    def start(self):
        """Called once the checkpoint is restored, so a resumed run's bar starts at its step."""
        from tqdm import tqdm

        self.bar = tqdm(total=self.total_steps, initial=int(self.global_step.numpy()), desc="train", unit="step",
                        disable=not self.enabled, dynamic_ncols=True)

    def __call__(self, output):
        step = int(self.global_step.numpy())
        self.bar.update(step - self.bar.n)
        self.bar.set_postfix(loss=f"{float(output['loss/total']):.4f}", lr=f"{float(output['learning_rate']):.2e}",
                             img_s=f"{float(output['images_per_second']):.1f}")

    def close(self):
        if self.bar is not None:
            self.bar.close()


class NonFiniteLossGuard:
    """Orbit train action, run before Orbit saves: stops on a NaN/inf loss, naming the last good checkpoint."""

    def __init__(self, global_step, manager):
        self.global_step, self.manager = global_step, manager

    def __call__(self, output):
        loss = float(output["loss/total"])
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"loss is {loss} at step {int(self.global_step.numpy())}; stopping. Last good checkpoint: "
                f"{self.manager.latest_checkpoint or 'none (the run had not saved one yet)'}"
            )


def _distributed_dataset(strategy, data_cfg, spec, split, batch_size, training, deterministic, start_step=0):
    from movenet_train.data import build_dataset

    def dataset_fn(input_context):
        return build_dataset(data_cfg, spec, split, batch_size, training=training, deterministic=deterministic,
                             input_context=input_context, start_step=start_step)

    return strategy.distribute_datasets_from_function(dataset_fn)


def _validation(cfg, spec, run_dir, chief, worker):
    """Callback of the evaluator: COCO AP through the eval code, a skeleton image summary, the EMA model saved."""

    precise_batches = cfg.train.get("precise_batch_norm_batches", 0)
    if precise_batches:
        # Training-distribution images for precise BatchNorm; a local pipeline, read on demand.
        from movenet_train.data import build_dataset

        batches = iter(build_dataset(cfg.data, spec, "train", cfg.train.batch_size, training=True)
                       .map(lambda images, _: images))

    def validate(model, step):
        output = {}
        if precise_batches:
            estimate_batch_norm_statistics(model, [next(batches) for _ in range(precise_batches)])
        # Every worker saves (reading synced BatchNorm statistics is a collective op); only the chief's copy stays.
        target = os.path.join(run_dir, INFERENCE_MODEL_DIR if chief else f".worker_{worker}/{INFERENCE_MODEL_DIR}")
        checkpoints.save_model_checkpoint(model, spec, target,
                                          {"step": step, "weights": "ema" if cfg.train.ema_decay else "raw"},
                                          overwrite=True)
        if not chief:
            shutil.rmtree(os.path.dirname(target), ignore_errors=True)
        annotations, images = cfg.data.get("val_annotations"), cfg.data.get("val_images")
        if annotations and images and os.path.exists(annotations):
            from movenet_train.evaluation import evaluate
            from movenet_train.runtime import KerasPredictor

            predictor = KerasPredictor(model, spec)
            metrics = evaluate(predictor, annotations, images,
                               protocol="multi_person" if spec.multi_pose else "single_person",
                               progress=False, max_images=cfg.train.get("val_max_images"))
            output.update({f"coco/{k}": float(metrics[k]) for k in ("AP", "AP50", "AP75", "AR") if k in metrics})
            _skeleton_summary(predictor, annotations, images, step, cfg.train.get("val_summary_images", 4))
        return output

    return validate


def _skeleton_summary(predictor, annotations, images_dir, step, count, min_pose_score=0.25):
    import json

    from movenet_train.preprocessing import load_rgb, model_input, unletterbox
    from movenet_train.visualization import draw_skeleton

    with open(annotations) as f:
        files = [image["file_name"] for image in json.load(f)["images"]][:count]
    size = predictor.input_size or 256
    rendered = []
    for name in files:
        image = load_rgb(os.path.join(images_dir, name))
        people = predictor(model_input(image, size, size)[None])[0]  # [1, 17, 3] or [6, 56]
        for person in people.reshape(len(people), -1):
            if predictor.multi_pose and person[-1] < min_pose_score:  # empty multi-pose slots
                continue
            kpts = person[:51].reshape(-1, 3)
            yx = unletterbox(kpts[:, :2], image.shape[0], image.shape[1], size, size)
            image = draw_skeleton(image, yx, kpts[:, 2])
        rendered.append(tf.image.resize_with_pad(image, 256, 256).numpy().astype(np.uint8))
    if rendered:
        tf.summary.image("val/predictions", np.stack(rendered), step=step, max_outputs=count)


def _checkpoint_step(prefix):
    if not prefix:
        return 0
    reader = tf.train.load_checkpoint(prefix)
    (key,) = [k for k in reader.get_variable_to_shape_map() if k.startswith("optimizer/") and "/iter/" in k]
    return int(reader.get_tensor(key))


def _configure_precision(train_cfg):
    policy = train_cfg.get("mixed_precision")
    if policy:
        keras.mixed_precision.set_global_policy(policy)


def train(cfg):
    """Trains (or resumes) the run in ``cfg.output_dir``; returns the final validation metrics."""
    run_dir = os.path.abspath(cfg.output_dir)
    os.makedirs(run_dir, exist_ok=True)
    spec = MoveNetSpec.from_config(cfg.model)
    tf.keras.utils.set_random_seed(cfg.seed)
    if cfg.train.get("deterministic"):
        tf.config.experimental.enable_op_determinism()
    _configure_precision(cfg.train)
    strategy = build_strategy(cfg.train)
    chief = is_chief(strategy)
    print(f"strategy {type(strategy).__name__}: num_replicas_in_sync={strategy.num_replicas_in_sync}, "
          f"global batch {cfg.train.batch_size}, run folder {run_dir}")
    if cfg.data.name == "synthetic":
        from movenet_train.data.synthetic import ensure_synthetic_dataset

        ensure_synthetic_dataset(cfg.data)

    with strategy.scope():
        model = build_model(spec)
        freeze_layers(model, spec, cfg.train.get("freeze", "none"), cfg.train.get("freeze_batch_norm", False))
        optimizer, learning_rate = build_optimizer(cfg.train)
        if cfg.train.get("mixed_precision") == "mixed_float16":
            optimizer = performance.configure_optimizer(optimizer, use_float16=True)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    # Non-chief workers of a multi-worker run write to their own folder (MultiWorkerMirroredStrategy needs
    # every worker to save, but only the chief's copy is the run's).
    ckpt_dir = os.path.join(run_dir, CHECKPOINT_DIR if chief else f"{CHECKPOINT_DIR}/worker_{worker_id(strategy)}")
    manager = tf.train.CheckpointManager(checkpoint, ckpt_dir, max_to_keep=cfg.train.max_checkpoints,
                                         step_counter=optimizer.iterations,
                                         checkpoint_interval=cfg.train.checkpoint_every)
    if manager.latest_checkpoint:
        log.info("resuming from %s", manager.latest_checkpoint)
    else:
        init = cfg.get("checkpoint") or cfg.model.get("init", "scratch")
        initialize_model(model, spec, init)
        if init not in (None, "scratch", "imagenet") and cfg.model.get("recalibrate_batch_norm", True):
            from movenet_train.data import build_dataset

            images, _ = next(iter(build_dataset(cfg.data, spec, "train", cfg.train.batch_size, training=True,
                                                deterministic=True)))
            recalibrate_batch_norm(model, images)
    if isinstance(optimizer, ema_optimizer.ExponentialMovingAverage):
        optimizer.shadow_copy(model)
    # The data position: tf.data iterators under a strategy cannot be checkpointed, so the pipeline skips
    # the examples of the steps already taken (at the latest checkpoint, which Orbit restores below).
    start_step = _checkpoint_step(manager.latest_checkpoint)
    train_dataset = _distributed_dataset(strategy, cfg.data, spec, "train", cfg.train.batch_size, True,
                                         cfg.train.get("deterministic", False), start_step)
    if chief:
        OmegaConf.save(cfg, os.path.join(run_dir, "train_config.yaml"))

    loss_config = LossConfig.from_config(cfg.train.get("loss"))
    trainer = MoveNetTrainer(model, spec, optimizer, learning_rate, train_dataset, loss_config, strategy,
                             cfg.train.batch_size, jit_compile=cfg.train.get("jit_compile", False))
    val_dataset = _distributed_dataset(strategy, cfg.data, spec, "val", cfg.train.batch_size, False, True)
    evaluator = MoveNetEvaluator(model, spec, optimizer, val_dataset, loss_config, strategy,
                                 _validation(cfg, spec, run_dir, chief, worker_id(strategy)))
    progress = ProgressBar(optimizer.iterations, cfg.train.steps, enabled=cfg.train.get("progress_bar", True) and chief)
    controller = orbit.Controller(  # restores the latest checkpoint of ckpt_dir, if any
        global_step=optimizer.iterations, trainer=trainer, evaluator=evaluator, strategy=strategy,
        train_actions=[NonFiniteLossGuard(optimizer.iterations, manager), progress],
        steps_per_loop=cfg.train.steps_per_loop, checkpoint_manager=manager,
        summary_dir=os.path.join(run_dir, "tensorboard", "train") if chief else None,
        eval_summary_dir=os.path.join(run_dir, "tensorboard", "val") if chief else None,
    )
    progress.start()
    if progress.enabled:
        # Orbit logs every loop's outputs at INFO; with the bar on, TensorBoard and the bar carry them.
        logging.getLogger("absl").setLevel(logging.WARNING)
    try:
        metrics = controller.train_and_evaluate(train_steps=cfg.train.steps, eval_steps=cfg.train.val_batches,
                                                eval_interval=cfg.train.validate_every)
    except TrainingDiverged as err:
        sys.exit(f"error: {err}")
    finally:
        progress.close()
    if metrics is None:  # the run had already reached train.steps
        metrics = controller.evaluate(steps=cfg.train.val_batches)
    summary = {k: float(v) for k, v in metrics.items()}
    if chief:
        print(f"final step {int(optimizer.iterations.numpy())}: "
              + " ".join(f"{k}={v:.4f}" for k, v in sorted(summary.items()) if k.startswith("coco/")))
        print(f"inference checkpoint (EMA weights): {os.path.join(run_dir, INFERENCE_MODEL_DIR)}")
        if "coco/AP" in summary:
            print(f"AP={summary['coco/AP']:.4f}")
    return summary

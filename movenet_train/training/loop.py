"""``train(cfg)``: the job behind ``python train.py``, on Orbit under a ``tf.distribute`` strategy."""

import dataclasses
import logging
import math
import os
import shutil
import time

import numpy as np
import orbit
import tensorflow as tf
import tf_keras as keras
from omegaconf import OmegaConf
from official.modeling import performance
from official.modeling.optimization import ema_optimizer

from movenet_train import checkpoints, model_files
from movenet_train.checkpoints import checkpoint_step
from movenet_train.config import config_from
from movenet_train.modeling import MoveNetSpec, build_model
from movenet_train.modeling.outputs import POSE_SCORE_THRESHOLD, unpack
from movenet_train.training.config import TrainConfig
from movenet_train.training.freeze import freeze_layers
from movenet_train.training.batch_norm import reestimate_batch_norm
from movenet_train.training.init import initialize_model
from movenet_train.training.optimizer import build_optimizer
from movenet_train.training.preemption import Preempted, StopPoint, StopTraining
from movenet_train.training.resume import agree_on_resume_step
from movenet_train.training.strategy import build_strategy, is_chief, worker_id
from movenet_train.training.teacher import load_teacher
from movenet_train.training.trainer import MoveNetEvaluator, MoveNetTrainer

log = logging.getLogger(__name__)


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


def _distributed_dataset(strategy, data_cfg, spec, split, batch_size, training, deterministic, start_step=0,
                         teacher_view=None):
    from movenet_train.data import build_dataset, service

    # data.service: the training batches come from tf.data service workers (docs/scale.md).
    address = data_cfg.get("service") if training else None
    if address:
        data_cfg, start_step = service.resumed_config(data_cfg, start_step), 0

    def dataset_fn(input_context):
        dataset = build_dataset(data_cfg, spec, split, batch_size, training=training, deterministic=deterministic,
                                input_context=input_context, start_step=start_step, teacher_view=teacher_view)
        return service.distribute(dataset, address) if address else dataset

    return strategy.distribute_datasets_from_function(dataset_fn)


def _validation(cfg, train_cfg, spec, run_dir, chief, worker):
    """Callback of the evaluator: COCO AP through the eval code, a skeleton image summary, the EMA model saved.

    The AP is computed as ``eval/evaluate.py`` computes it, with the ``eval`` group's keys (protocol, crop,
    batch size, max_images, ...); its ``annotations``/``images`` default to the data's validation split.
    """
    precise_batches = train_cfg.precise_batch_norm_batches
    batches = None

    def validate(model, step):
        nonlocal batches
        output = {}
        if precise_batches:
            if batches is None:  # created on first use: an idle pipeline would hold its buffers all run long
                from movenet_train.data import build_dataset

                batches = iter(build_dataset(cfg.data, spec, "train", train_cfg.batch_size, training=True)
                               .map(lambda images, _: images))
            reestimate_batch_norm(model, (next(batches) for _ in range(precise_batches)),
                                  keep_function=train_cfg.precise_batch_norm_keep_function)
        # Every worker saves (reading synced BatchNorm statistics is a collective op); only the chief's copy stays.
        model_dir = model_files.MODEL_DIR  # EMA weights in the checkpoint format eval / export / predict read
        target = os.path.join(run_dir, model_dir if chief else f".worker_{worker}/{model_dir}")
        checkpoints.save_model_checkpoint(model, spec, target,
                                          {"step": step, "weights": "ema" if train_cfg.ema_decay else "raw"},
                                          overwrite=True)
        if not chief:
            shutil.rmtree(os.path.dirname(target), ignore_errors=True)
        options = validation_eval_options(cfg, spec)
        if options is not None:
            from movenet_train.evaluation import evaluate
            from movenet_train.runtime import KerasPredictor

            predictor = KerasPredictor(model, spec)
            metrics = evaluate(predictor, progress=False, **options)
            output.update({f"coco/{k}": float(metrics[k]) for k in ("AP", "AP50", "AP75", "AR") if k in metrics})
            if options.get("annotations"):
                _skeleton_summary(predictor, options["annotations"], options["images"], step,
                                  train_cfg.val_summary_images)
        return output

    return validate


def validation_eval_options(cfg, spec):
    """Keyword arguments of ``evaluation.evaluate`` for validation: the ``eval`` group, with the data's val split
    as the default annotations and images; ``None`` when there is nothing to score."""
    from movenet_train.evaluation import protocols
    from movenet_train.evaluation.config import EvalOptions

    options = dataclasses.asdict(config_from(EvalOptions, cfg.eval, "eval"))
    if not options.get("records"):
        options["annotations"] = options.get("annotations") or cfg.data.get("val_annotations")
        options["images"] = options.get("images") or cfg.data.get("val_images")
        if not (options["annotations"] and options["images"] and os.path.exists(options["annotations"])):
            return None
    options["protocol"] = protocols.protocol_for(options["protocol"], spec.multi_pose)
    return options


def _skeleton_summary(predictor, annotations, images_dir, step, count, min_pose_score=POSE_SCORE_THRESHOLD):
    import json

    from movenet_train.preprocessing import load_rgb, model_input, unletterbox
    from movenet_train.visualization import draw_skeleton

    with open(annotations) as f:
        files = [image["file_name"] for image in json.load(f)["images"]][:count]
    size = predictor.input_size or 256
    rendered = []
    for name in files:
        image = load_rgb(os.path.join(images_dir, name))
        people = unpack(predictor(model_input(image, size, size)[None])[0], predictor.schema.num_keypoints,
                        predictor.multi_pose)
        if predictor.multi_pose:
            people = people.above(min_pose_score)  # the empty slots of the six
        for kpts in people.keypoints:
            yx = unletterbox(kpts[:, :2], image.shape[0], image.shape[1], size, size)
            image = draw_skeleton(image, yx, kpts[:, 2], schema=predictor.schema)
        rendered.append(tf.image.resize_with_pad(image, 256, 256).numpy().astype(np.uint8))
    if rendered:
        tf.summary.image("val/predictions", np.stack(rendered), step=step, max_outputs=count)


def _check_run_model(run_dir, spec, qat=False):
    """A run folder resumes only with the model (variant, keypoint schema, float or quantisation-aware) it was
    started with."""
    config = os.path.join(run_dir, model_files.TRAIN_CONFIG_FILE)
    model_files.check_compatible(
        f"run folder {run_dir}", model_files.describe(run_dir), spec,
        fix=f"resume it with the model and keypoints it was started with ({config}), or pass another run_name= "
            "to start a new run")
    if os.path.isfile(config) and bool(OmegaConf.select(OmegaConf.load(config), "train.qat", default=False)) != qat:
        kind = "quantisation-aware" if not qat else "float"
        raise ValueError(f"run folder {run_dir} holds a {kind} run ({config}): resume it with train.qat="
                         f"{str(not qat).lower()}, or start a new run (run_name=) from checkpoint=<that run>")


@dataclasses.dataclass
class TrainingRun:
    """Everything ``train`` sets up, ready to run: ``bench/train_step.py`` times the same objects."""

    cfg: object
    train_cfg: TrainConfig
    run_dir: str
    spec: MoveNetSpec
    strategy: object
    chief: bool
    model: object
    optimizer: object
    trainer: MoveNetTrainer
    controller: orbit.Controller
    progress: ProgressBar
    stop: StopPoint = None  # where a stop signal ends training (preemption.py); None: signals keep their handlers

    @property
    def step(self):
        return int(self.optimizer.iterations.numpy())

    def fit(self):
        """Trains to ``train.steps`` with validation every ``train.validate_every``; the final metrics.

        Raises ``Preempted`` once a stop signal ended training, after writing the checkpoint of the step reached.
        """
        train_cfg = self.train_cfg
        self.progress.start()
        if self.progress.enabled:
            # Orbit logs every loop's outputs at INFO; with the bar on, TensorBoard and the bar carry them.
            logging.getLogger("absl").setLevel(logging.WARNING)
        metrics, every = None, train_cfg.validate_every
        try:
            # Orbit's train_and_evaluate counts validation intervals from the step it starts at; validating at the
            # multiples of validate_every keeps a run resumed between two (after a preemption) in step with an
            # uninterrupted one. The last checkpoint is written before the final validation, whose precise
            # BatchNorm changes the moving statistics, whatever train.checkpoint_every is.
            while self.step < train_cfg.steps:
                boundary = min(train_cfg.steps, (self.step // every + 1) * every)
                self.controller.train(steps=boundary, checkpoint_at_completion=boundary == train_cfg.steps)
                metrics = self.controller.evaluate(steps=train_cfg.val_batches)
        except StopTraining:
            self._preempted()
        finally:
            self.progress.close()
        if metrics is None:  # the run had already reached train.steps
            metrics = self.controller.evaluate(steps=train_cfg.val_batches)
        return {k: float(v) for k, v in metrics.items()}

    def _preempted(self):
        """Writes the checkpoint of the step reached (unless the newest one is of that step) and raises
        ``Preempted``; a NaN/inf loss in the loop cut short is ``TrainingDiverged`` instead, as at a loop's end."""
        manager = self.controller.checkpoint_manager
        NonFiniteLossGuard(self.optimizer.iterations, manager)({"loss/total": self.trainer.metrics["total"].result()})
        step, path = self.step, manager.latest_checkpoint
        if path is None or checkpoint_step(path) != step:
            path = manager.save(checkpoint_number=step, check_interval=False)
        log.info("stopped by %s at step %d; checkpoint %s", self.stop.signal_name, step, path)
        raise Preempted(step, path, self.stop.signal_name)


def initialise(cfg, train_cfg, spec, model):
    """The weights training starts from (``checkpoint=`` or ``model.init``), BatchNorm re-expressed with the
    statistics of the first training batches where imported (deterministic, so a resumed run's ``initial``
    teacher is rebuilt the same)."""
    init = cfg.get("checkpoint") or cfg.model.init
    initialize_model(model, spec, init)
    if init not in (None, "scratch", "imagenet") and cfg.model.recalibrate_batch_norm:
        batches = cfg.model.recalibrate_batch_norm_batches
        if not isinstance(batches, int) or batches < 1:
            raise ValueError(f"model.recalibrate_batch_norm_batches: expected an integer >= 1, got {batches!r} "
                             "(model.recalibrate_batch_norm=false turns the re-estimation off)")
        # Imported BatchNorm holds folded weights (mean 0, variance 1): express it with the statistics of the
        # training images, the released function unchanged, so training-mode BatchNorm starts where it is.
        from movenet_train.data import build_dataset

        images = iter(build_dataset(cfg.data, spec, "train", train_cfg.batch_size, training=True,
                                    deterministic=True).map(lambda images, _: images))
        reestimate_batch_norm(model, (next(images) for _ in range(batches)), keep_function=True)


def _quantisation_aware(cfg, train_cfg, spec, model, strategy, run_dir, resuming):
    """``train.qat``: (the quantisation-aware copy of the initialised float ``model``, its spec). A new run sets
    the activation ranges from ``train.qat_calibration_batches`` training batches; a resumed one restores them
    with the weights from the checkpoint."""
    from movenet_train.modeling.quantization import calibrate_ranges, quantize_model

    if not train_cfg.freeze_batch_norm:
        raise ValueError("train.qat=true needs train.freeze_batch_norm=true (the finetune schedule sets it): the "
                         "INT8 file folds BatchNorm into the convolutions with fixed statistics")
    if train_cfg.mixed_precision:
        raise ValueError(f"train.qat=true simulates INT8 in float32: set train.mixed_precision=null "
                         f"(got {train_cfg.mixed_precision})")
    init = cfg.get("checkpoint") or cfg.model.init
    if init in (None, "scratch", "imagenet"):
        raise ValueError(f"train.qat=true fine-tunes float weights: set checkpoint=<a training run, checkpoint or "
                         f"released model file> (model.init={init})")
    with strategy.scope():
        qat_model = quantize_model(model)
    if not resuming:
        from movenet_train.data import build_dataset

        images = iter(build_dataset(cfg.data, spec, "train", train_cfg.batch_size, training=True,
                                    deterministic=True).map(lambda images, _: images))
        count = calibrate_ranges(qat_model, (next(images) for _ in range(train_cfg.qat_calibration_batches)))
        log.info("quantisation-aware model: activation ranges from %d training batches", count)
    return qat_model, dataclasses.replace(spec, qat=True)


def build_training_run(cfg, stop_signals=None):
    """Sets up the run in ``cfg.output_dir`` (or restores it): data, strategy, model, optimizer, Orbit.

    ``stop_signals``: a ``preemption.StopSignals`` whose signal stops training with a checkpoint (``fit``).
    """
    from movenet_train.data import prepare_dataset

    train_cfg = config_from(TrainConfig, cfg.train, "train")
    if cfg.data.get("service") and train_cfg.deterministic:
        raise ValueError(f"train.deterministic=true needs the input pipeline in this process: the tf.data service "
                         f"workers deliver batches in the order they finish them (data.service={cfg.data.service}; "
                         "set data.service=null)")
    run_dir = os.path.abspath(cfg.output_dir)
    os.makedirs(run_dir, exist_ok=True)
    spec = MoveNetSpec.from_config(cfg.model, cfg.get("keypoints")).with_schema()
    tf.keras.utils.set_random_seed(cfg.seed)
    if train_cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    if train_cfg.mixed_precision:
        keras.mixed_precision.set_global_policy(train_cfg.mixed_precision)
    strategy = build_strategy(train_cfg)
    chief, worker = is_chief(strategy), worker_id(strategy)
    print(f"strategy {type(strategy).__name__}: num_replicas_in_sync={strategy.num_replicas_in_sync}, "
          f"global batch {train_cfg.batch_size}, run folder {run_dir}")
    prepare_dataset(cfg.data, schema=spec.schema)

    with strategy.scope():
        model = build_model(spec)
        freeze_layers(model, spec, train_cfg.freeze, train_cfg.freeze_batch_norm)
        optimizer, learning_rate = build_optimizer(train_cfg)
        if train_cfg.mixed_precision == "mixed_float16":
            optimizer = performance.configure_optimizer(optimizer, use_float16=True)
    # Non-chief workers of a multi-worker run write to their own folder (MultiWorkerMirroredStrategy needs
    # every worker to save, but only the chief's copy is the run's).
    checkpoints_dir = model_files.CHECKPOINTS_DIR
    ckpt_dir = os.path.join(run_dir, checkpoints_dir if chief else f"{checkpoints_dir}/worker_{worker}")
    agree_on_resume_step(strategy, ckpt_dir)  # several workers: all restore the same step
    resuming = tf.train.latest_checkpoint(ckpt_dir)
    if resuming:
        _check_run_model(run_dir, spec, train_cfg.qat)
        log.info("resuming from %s", resuming)
    else:
        initialise(cfg, train_cfg, spec, model)
    float_model, float_spec = model, spec  # the initial function, which an ``initial`` teacher copies
    if train_cfg.qat:
        model, spec = _quantisation_aware(cfg, train_cfg, spec, model, strategy, run_dir, resuming)
    manager = checkpoints.CheckpointManager(tf.train.Checkpoint(model=model, optimizer=optimizer), ckpt_dir,
                                            max_to_keep=train_cfg.max_checkpoints, step_counter=optimizer.iterations,
                                            checkpoint_interval=train_cfg.checkpoint_every)
    if isinstance(optimizer, ema_optimizer.ExponentialMovingAverage):
        optimizer.shadow_copy(model)
    # The data position: tf.data iterators under a strategy cannot be checkpointed, so the pipeline skips
    # the examples of the steps already taken (at the latest checkpoint, which Orbit restores below).
    start_step = checkpoint_step(manager.latest_checkpoint)
    def initial_teacher(teacher):
        if not resuming:
            teacher.set_weights(float_model.get_weights())
            return
        # Frozen as the student was when it was initialised (frozen BatchNorm is not re-estimated).
        freeze_layers(teacher, float_spec, train_cfg.freeze, train_cfg.freeze_batch_norm)
        initialise(cfg, train_cfg, float_spec, teacher)

    teacher, teacher_spec = load_teacher(cfg, train_cfg, spec, strategy, initial=initial_teacher)
    sources_cfg = cfg.data.get("sources")
    unlabeled = [name for name, source in sources_cfg.items() if hasattr(source, "get") and source.get("media")
                 ] if hasattr(sources_cfg, "items") else []
    if unlabeled and teacher is None:
        raise ValueError(f"data.sources.{unlabeled[0]} is unlabeled (media=): it needs a teacher to supply its "
                         "targets; set train.teacher (initial, or a model file)")
    teacher_view = None
    if teacher is not None and train_cfg.distill.view != "student":
        teacher_view = (train_cfg.distill.view, teacher_spec.input_size)
    train_dataset = _distributed_dataset(strategy, cfg.data, spec, "train", train_cfg.batch_size, True,
                                         train_cfg.deterministic, start_step, teacher_view)
    if cfg.data.get("service"):
        print(f"training input pipeline on the tf.data service {cfg.data.service} (docs/scale.md)")
    if chief:
        OmegaConf.save(cfg, os.path.join(run_dir, model_files.TRAIN_CONFIG_FILE))

    loss_config = train_cfg.loss
    stop = StopPoint(stop_signals, strategy) if stop_signals is not None else None
    trainer = MoveNetTrainer(model, spec, optimizer, learning_rate, train_dataset, loss_config, strategy,
                             train_cfg.batch_size, jit_compile=train_cfg.jit_compile, teacher=teacher,
                             distill_config=train_cfg.distill, before_step=stop and stop.before_step)
    val_dataset = _distributed_dataset(strategy, cfg.data, spec, "val", train_cfg.batch_size, False, True)
    evaluator = MoveNetEvaluator(model, spec, optimizer, val_dataset, loss_config, strategy,
                                 _validation(cfg, train_cfg, spec, run_dir, chief, worker))
    progress = ProgressBar(optimizer.iterations, train_cfg.steps, enabled=train_cfg.progress_bar and chief)
    controller = orbit.Controller(  # restores the latest checkpoint of ckpt_dir, if any
        global_step=optimizer.iterations, trainer=trainer, evaluator=evaluator, strategy=strategy,
        train_actions=[NonFiniteLossGuard(optimizer.iterations, manager), progress] + ([stop] if stop else []),
        steps_per_loop=train_cfg.steps_per_loop, checkpoint_manager=manager,
        summary_dir=os.path.join(run_dir, "tensorboard", "train") if chief else None,
        eval_summary_dir=os.path.join(run_dir, "tensorboard", "val") if chief else None,
    )
    return TrainingRun(cfg, train_cfg, run_dir, spec, strategy, chief, model, optimizer, trainer, controller, progress,
                       stop)


def train(cfg, stop_signals=None):
    """Trains (or resumes) the run in ``cfg.output_dir``; returns the final validation metrics.

    Raises ``TrainingDiverged`` on a NaN/inf loss (the message names the last good checkpoint), and ``Preempted``
    once a signal of ``stop_signals`` (``preemption.StopSignals``) stopped it with a checkpoint.
    """
    started = time.perf_counter()
    run = build_training_run(cfg, stop_signals)
    summary = run.fit()
    if run.chief:
        speed = run.trainer.throughput()
        print(f"final step {run.step}: "
              + " ".join(f"{k}={v:.4f}" for k, v in sorted(summary.items()) if k.startswith("coco/")))
        if speed:
            print(f"training speed {speed:.1f} images/s (after the first loop, which traces the step); "
                  f"{time.perf_counter() - started:.0f} s in train() including data preparation and validation")
        print(f"inference checkpoint (EMA weights): {os.path.join(run.run_dir, model_files.MODEL_DIR)}")
        if "coco/AP" in summary:
            print(f"AP={summary['coco/AP']:.4f}")
    return summary

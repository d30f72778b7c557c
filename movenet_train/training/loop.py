"""``train(cfg)``: the job behind ``python train.py``, on Orbit under a ``tf.distribute`` strategy: the run
builder (data, strategy, model, optimizer, Orbit) and the loop with its validation points.

The parts live beside it: the checks made before anything is built (``preflight.py``: config, files, the run
folder), Orbit train actions (``actions.py``), validation (``validation.py``), the run-folder check
(``run_folder.py``), initial weights and the quantisation-aware copy (``initialisation.py``)."""

import dataclasses
import logging
import os
import time

import orbit
import tensorflow as tf
import tf_keras as keras
from omegaconf import OmegaConf
from official.modeling import performance
from official.modeling.optimization import ema_optimizer

from movenet_train import checkpoints, model_files
from movenet_train.checkpoints import checkpoint_step
from movenet_train.modeling import MoveNetSpec, build_model
from movenet_train.training.actions import NonFiniteLossGuard, ProgressBar
from movenet_train.training.config import TrainConfig
from movenet_train.training.freeze import freeze_layers
from movenet_train.training.initialisation import initialise, quantisation_aware
from movenet_train.training.optimizer import build_optimizer
from movenet_train.training.preemption import Preempted, StopPoint, StopTraining
from movenet_train.training.preflight import check_training
from movenet_train.training.resume import agree_on_resume_step
from movenet_train.training.strategy import build_strategy, is_chief, worker_id
from movenet_train.training.teacher import load_teacher
from movenet_train.training.trainer import MoveNetEvaluator, MoveNetTrainer
from movenet_train.training.validation import ValidationPlan, validation_callback, validation_plan

log = logging.getLogger(__name__)


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
    validation: ValidationPlan = None  # what validation measures (validation.py)

    @property
    def step(self):
        return int(self.optimizer.iterations.numpy())

    def fit(self):
        """Trains to ``train.steps`` with validation every ``train.validate_every`` (0: at the end only, to write
        ``model/``); the final metrics.

        Raises ``Preempted`` once a stop signal ended training, after writing the checkpoint of the step reached.
        """
        train_cfg = self.train_cfg
        self.progress.start()
        if self.progress.enabled:
            # Orbit logs every loop's outputs at INFO; with the bar on, TensorBoard and the bar carry them.
            logging.getLogger("absl").setLevel(logging.WARNING)
        # train.validate_every=0: no validation point before the end, where model/ is written (validation.py).
        metrics, every = None, train_cfg.validate_every or train_cfg.steps
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


def build_training_run(cfg, stop_signals=None):
    """Sets up the run in ``cfg.output_dir`` (or restores it): data, strategy, model, optimizer, Orbit.

    ``stop_signals``: a ``preemption.StopSignals`` whose signal stops training with a checkpoint (``fit``).
    """
    from movenet_train.data import prepare_dataset

    train_cfg, spec = check_training(cfg)  # config, files, run folder: before anything is built
    run_dir = os.path.abspath(cfg.output_dir)
    os.makedirs(run_dir, exist_ok=True)
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
    if resuming:  # check_training checked that the run folder's model is this one
        log.info("resuming from %s", resuming)
    else:
        initialise(cfg, train_cfg, spec, model)
    float_model, float_spec = model, spec  # the initial function, which an ``initial`` teacher copies
    if train_cfg.qat:
        model, spec = quantisation_aware(cfg, train_cfg, spec, model, strategy, resuming)
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
    validation = validation_plan(cfg, train_cfg, spec)
    if validation.skipped():
        log.info("%s", validation.skipped())
    val_dataset = None  # no validation records: the evaluator skips the loss (trainer.py)
    if validation.records:
        val_dataset = _distributed_dataset(strategy, cfg.data, spec, "val", train_cfg.batch_size, False, True)
    evaluator = MoveNetEvaluator(model, spec, optimizer, val_dataset, loss_config, strategy,
                                 validation_callback(cfg, train_cfg, spec, run_dir, chief, worker, validation))
    progress = ProgressBar(optimizer.iterations, train_cfg.steps, enabled=train_cfg.progress_bar and chief)
    controller = orbit.Controller(  # restores the latest checkpoint of ckpt_dir, if any
        global_step=optimizer.iterations, trainer=trainer, evaluator=evaluator, strategy=strategy,
        train_actions=[NonFiniteLossGuard(optimizer.iterations, manager), progress] + ([stop] if stop else []),
        steps_per_loop=train_cfg.steps_per_loop, checkpoint_manager=manager,
        summary_dir=os.path.join(run_dir, "tensorboard", "train") if chief else None,
        eval_summary_dir=os.path.join(run_dir, "tensorboard", "val") if chief else None,
    )
    return TrainingRun(cfg, train_cfg, run_dir, spec, strategy, chief, model, optimizer, trainer, controller, progress,
                       stop, validation)


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
        elif run.validation.eval_options is None:  # no validation set (validation.py): the last line says so
            print(run.validation.final_line())
    return summary

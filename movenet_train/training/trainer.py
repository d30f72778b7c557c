"""Orbit trainer and evaluator for MoveNet."""

import logging
import time

import orbit
import tensorflow as tf
import tf_keras as keras
from official.modeling.optimization import ema_optimizer
from orbit.utils import loop_fns

from movenet_train.losses import distillation_losses, movenet_losses
from movenet_train.training.teacher import carry_outputs

log = logging.getLogger(__name__)


def _loss_keys(multi_pose, distill=False):
    heads = ["center", "keypoint_heatmap", "keypoint_offset", "keypoint_regression"]
    heads += ["box_scale", "box_offset"] if multi_pose else []
    return ["total", *heads] + ([f"distill/{key}" for key in ("total", *heads)] if distill else [])


class MoveNetTrainer(orbit.StandardTrainer):
    """``teacher``: a Keras model run in inference mode, whose head outputs the student is also pulled toward
    (``distill_config``: ``losses.DistillConfig``); None trains on the ground truth alone. With
    ``distill_config.view`` ``student`` it sees the student's images, otherwise its own view of each example
    (``targets["teacher_image"]``), whose maps are carried to the student's (``training/teacher.py``).
    ``before_step``: called between the steps of a loop (``preemption.StopPoint.before_step``, which may raise)."""

    def __init__(self, model, spec, optimizer, learning_rate, train_dataset, loss_config, strategy, global_batch_size,
                 jit_compile=False, teacher=None, distill_config=None, before_step=None):
        self.model, self.spec, self.optimizer, self.learning_rate = model, spec, optimizer, learning_rate
        self.strategy, self.loss_config, self.global_batch_size = strategy, loss_config, global_batch_size
        self.teacher, self.distill_config, self.before_step = teacher, distill_config, before_step
        with strategy.scope():
            self.metrics = {key: keras.metrics.Mean(key.replace("/", "_"), dtype=tf.float32)
                            for key in _loss_keys(spec.multi_pose, teacher is not None)}
        self._step_fn = tf.function(self._replica_step, jit_compile=True) if jit_compile else self._replica_step
        self._clock = None
        self._timed = [0, 0.0]
        self._loops_done = 0  # images and seconds of the loops after the first (which traces the step)
        super().__init__(train_dataset, orbit.StandardTrainerOptions(use_tf_while_loop=False))

    def _replica_step(self, images, targets):
        with tf.GradientTape() as tape:
            outputs = self.model(images, training=True)
            losses = movenet_losses(outputs, targets, self.loss_config)
            total = losses["total"]
            if self.teacher is not None:
                taught, valid = self._taught(images, targets, outputs)
                losses.update(distillation_losses(outputs, taught, self.distill_config, valid))
                total = (self.distill_config.ground_truth_weight * total
                         + self.distill_config.weight * losses["distill/total"])
            # Per-replica losses are already normalised; gradients are summed across replicas.
            loss = total / self.strategy.num_replicas_in_sync
            if isinstance(self.optimizer, keras.mixed_precision.LossScaleOptimizer):
                loss = self.optimizer.get_scaled_loss(loss)
        variables = self.model.trainable_variables
        grads = tape.gradient(loss, variables)
        if isinstance(self.optimizer, keras.mixed_precision.LossScaleOptimizer):
            grads = self.optimizer.get_unscaled_gradients(grads)
        self.optimizer.apply_gradients(zip(grads, variables))
        return losses

    def _taught(self, images, targets, outputs):
        """(The teacher's outputs on the student's view, the cells it covers or None)."""
        if "teacher_image" not in targets:
            taught = self.teacher(images, training=False)
            return {k: tf.stop_gradient(v) for k, v in taught.items()}, None
        taught = self.teacher(targets["teacher_image"], training=False)
        taught, valid = carry_outputs({k: tf.stop_gradient(v) for k, v in taught.items()},
                                      targets["teacher_carry"], outputs["center"].shape[1:3],
                                      self.spec.schema.flip_permutation)
        return taught, valid

    def create_train_loop_fn(self):
        """Orbit's loop for ``use_tf_while_loop=False`` (a Python loop over the compiled step), with ``before_step``
        between the steps."""
        if self.before_step is None:
            return super().create_train_loop_fn()
        compiled_step = tf.function(self.train_step)

        def step(iterator):
            self.before_step()
            return compiled_step(iterator)

        return loop_fns.create_loop_fn(step)

    def train_loop_begin(self):
        for metric in self.metrics.values():
            metric.reset_states()
        if self._clock is None:
            self._clock = (time.perf_counter(), int(self.optimizer.iterations.numpy()))

    def train_step(self, iterator):
        def step_fn(inputs):
            images, targets = inputs
            losses = self._step_fn(images, targets)
            for key, metric in self.metrics.items():
                metric.update_state(losses[key])

        self.strategy.run(step_fn, args=(next(iterator),))

    def train_loop_end(self):
        step = int(self.optimizer.iterations.numpy())
        now = time.perf_counter()
        start, start_step = self._clock
        self._clock = (now, step)
        if self._loops_done:
            self._timed[0] += (step - start_step) * self.global_batch_size
            self._timed[1] += now - start
        self._loops_done += 1
        output = {f"loss/{key}": metric.result() for key, metric in self.metrics.items()}
        output["learning_rate"] = self.learning_rate(self.optimizer.iterations)
        output["images_per_second"] = (step - start_step) * self.global_batch_size / max(now - start, 1e-9)
        return output


    def throughput(self):
        """Images/s over this process's loops after the first; ``None`` before the second loop ends."""
        images, seconds = self._timed
        return images / seconds if seconds else None


class MoveNetEvaluator(orbit.StandardEvaluator):
    """Validation loss on the val records, then COCO AP (the eval code) and an image summary, on EMA weights.

    ``val_dataset`` None (no validation records): no loss; ``validate_fn`` still runs (it writes ``model/``)."""

    def __init__(self, model, spec, optimizer, val_dataset, loss_config, strategy, validate_fn=None):
        self.model, self.spec, self.optimizer = model, spec, optimizer
        self.strategy, self.loss_config, self.validate_fn = strategy, loss_config, validate_fn
        with strategy.scope():
            self.metrics = {key: keras.metrics.Mean(key, dtype=tf.float32) for key in _loss_keys(spec.multi_pose)}
        super().__init__(val_dataset, orbit.StandardEvaluatorOptions(use_tf_while_loop=False))

    def _swap_ema(self):
        if isinstance(self.optimizer, ema_optimizer.ExponentialMovingAverage):
            with self.strategy.scope():  # swap_weights runs per replica
                self.optimizer.swap_weights()

    def evaluate(self, num_steps):
        if self.eval_dataset is None:  # Orbit would iterate over None: the callback alone, on the EMA weights
            self.eval_begin()
            return self.eval_end()
        return super().evaluate(num_steps)

    def eval_begin(self):
        for metric in self.metrics.values():
            metric.reset_states()
        self._swap_ema()

    def eval_step(self, iterator):
        def step_fn(inputs):
            images, targets = inputs
            losses = movenet_losses(self.model(images, training=False), targets, self.loss_config)
            for key, metric in self.metrics.items():
                metric.update_state(losses[key])

        self.strategy.run(step_fn, args=(next(iterator),))

    def eval_end(self):
        output = {}
        if self.eval_dataset is not None:
            output = {f"loss/{key}": metric.result().numpy() for key, metric in self.metrics.items()}
        try:
            if self.validate_fn is not None:
                output.update(self.validate_fn(self.model, int(self.optimizer.iterations.numpy())))
        finally:
            self._swap_ema()
        return output

"""Preemption: SIGTERM or SIGINT stops training with a checkpoint at the step it reached, and the same command
resumes it exactly.

A cluster that preempts a job sends SIGTERM and, after a grace period, SIGKILL; Ctrl-C sends SIGINT. Under
``StopSignals`` (installed by the training command, ``jobs/train.py``) the first such signal only sets a flag;
``StopPoint`` turns the flag into ``StopTraining`` where Orbit's loop can be left with the weights, optimizer and
step of a whole step: between two steps in one process, at the end of a loop when several workers must agree.
``TrainingRun.fit`` then writes the checkpoint and raises ``Preempted``, which the command prints before exiting 0.

Why not ``tf.distribute.experimental.PreemptionCheckpointHandler``: on GCP it probes the metadata server at start,
does nothing at all on CPU VMs and watches maintenance events instead of SIGTERM on GPU VMs; it never restores the
SIGTERM handler it installs; and its default save (``CheckpointManager.save()`` with the interval check) skips
the save between two ``train.checkpoint_every`` steps. The flag below behaves the same on every platform.
"""

import logging
import signal
import threading

import tensorflow as tf

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopTraining(Exception):
    """Leaves Orbit's loop once a stop signal was received (``StopPoint``); ``TrainingRun.fit`` catches it."""


class Preempted(Exception):
    """A run stopped by a signal after writing its checkpoint; the message says how to resume."""

    def __init__(self, step, checkpoint, signal_name):
        self.step, self.checkpoint, self.signal_name = step, checkpoint, signal_name
        super().__init__(f"preempted at step {step} ({signal_name}): checkpoint written to {checkpoint}; "
                         "run the same command again to resume")


class StopSignals:
    """Context manager: the first SIGTERM or SIGINT sets ``received`` (its name) instead of ending the process; any
    later one acts as it did before (Ctrl-C twice stops at once). The previous handlers are back when the block
    ends. Python runs signal handlers in the main thread only: elsewhere nothing is installed.

    A signal the process was told to ignore stays ignored: a shell without job control (a script, ``cmd &`` inside
    ``bash -c``) starts background commands with SIGINT ignored so that Ctrl-C in the terminal leaves them running,
    and Python then installs no ``KeyboardInterrupt`` handler. Catching such a signal here would let that Ctrl-C
    stop a background run after all."""

    def __init__(self, signals=STOP_SIGNALS):
        self.signals = signals
        self.received = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            log.warning("training runs outside the main thread: SIGTERM / SIGINT keep their handlers (no checkpoint "
                        "on preemption)")
            return self
        for sig in self.signals:
            if signal.getsignal(sig) == signal.SIG_IGN:
                log.info("%s is ignored in this process (started in the background?): it stays ignored",
                         signal.Signals(sig).name)
                continue
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc_info):
        for sig, previous in self._previous.items():
            signal.signal(sig, _settable(previous))
        self._previous.clear()

    def _handle(self, signum, frame):
        name = signal.Signals(signum).name
        if self.received is None:
            self.received = name
            log.warning("%s received: training stops after the current step and writes a checkpoint (send it again "
                        "to stop at once, without one)", name)
            return
        previous = _settable(self._previous.get(signum, signal.SIG_DFL))
        signal.signal(signum, previous)
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.raise_signal(signum)


def _settable(handler):
    """``handler`` as ``signal.signal`` takes it: None (a handler installed outside Python, which Python cannot put
    back) becomes the default action."""
    return signal.SIG_DFL if handler is None else handler


def worker_count(strategy):
    """Processes that train together: the chief and workers of a ``MultiWorkerMirroredStrategy``, else 1."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return 1
    spec = strategy.cluster_resolver.cluster_spec()
    return max(1, sum(spec.num_tasks(job) for job in spec.jobs if job in ("chief", "worker")))


class StopPoint:
    """Where training stops once ``signals`` has received a signal.

    In one process (one device, mirrored GPUs, a TPU host): before the next step (``before_step``, which
    ``MoveNetTrainer`` calls between the steps of Orbit's loop), so the checkpoint is written about one step after
    the signal. With several workers every one has to stop at the same step (one that stopped alone would leave
    the others waiting in the next step's all-reduce): at the end of each loop of ``train.steps_per_loop`` steps
    (this object is an Orbit train action), the workers add up their flags with one all-reduce and all stop if
    any was signalled.
    """

    def __init__(self, signals, strategy):
        self.signals, self.strategy = signals, strategy
        self.multi_worker = worker_count(strategy) > 1

    @property
    def signal_name(self):
        return self.signals.received or "a signal to another worker"

    def before_step(self):
        if not self.multi_worker and self.signals.received:
            raise StopTraining()

    def __call__(self, output):
        if self._received_anywhere():
            raise StopTraining()

    def _received_anywhere(self):
        received = int(self.signals.received is not None)
        if not self.multi_worker:
            return bool(received)
        flags = self.strategy.experimental_distribute_values_from_function(lambda _: tf.constant(received))
        return int(self.strategy.reduce(tf.distribute.ReduceOp.SUM, flags, axis=None)) > 0

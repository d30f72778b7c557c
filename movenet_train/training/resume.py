"""Where a multi-worker run resumes: the newest step every worker has a checkpoint of.

Each worker of a ``MultiWorkerMirroredStrategy`` run keeps its own checkpoints (the chief in ``checkpoints/``, the
others in ``checkpoints/worker_<i>``), written together at the same steps. A worker that dies while they save can
leave the others with one checkpoint more than itself; restarted, each would resume from its own newest one, at
different steps, and wait forever in their first all-reduce. ``agree_on_resume_step`` makes them agree first.

"""

import logging

import tensorflow as tf

from movenet_train.checkpoints import checkpoint_step
from movenet_train.errors import UserError
from movenet_train.training.preemption import worker_count

log = logging.getLogger(__name__)


def _steps(directory):
    """{step: prefix} of the checkpoints ``directory``'s index lists (and whose files exist)."""
    state = tf.train.get_checkpoint_state(directory)
    prefixes = list(state.all_model_checkpoint_paths) if state else []
    return {checkpoint_step(p): p for p in prefixes if tf.io.gfile.exists(f"{p}.index")}


def keep_checkpoints_up_to(directory, step):
    """Makes the checkpoint of ``step`` (none for 0) the newest of ``directory``: deletes the one newer checkpoint
    (the only one a worker that died while the workers saved can have left unmatched) and points the index at the
    rest. More than one newer, or none of ``step``, means the folders are not those of one run: an error."""
    steps = _steps(directory)
    newer = sorted(s for s in steps if s > step)
    if not newer:
        return
    if len(newer) > 1 or (step and step not in steps):
        raise UserError(f"the workers' checkpoints do not match: {directory} has steps {sorted(steps)}, but another "
                        f"worker's newest is step {step}; restart every worker with the checkpoint folders of one "
                        "run, or start a new run (run_name=)")
    log.warning("not every worker saved step %d (a worker stopped while they saved): discarding %s; every worker "
                "resumes from step %d", newer[0], steps[newer[0]], step)
    for path in tf.io.gfile.glob(f"{steps[newer[0]]}.*"):
        tf.io.gfile.remove(path)
    kept = [steps[s] for s in sorted(steps) if s <= step]
    if kept:  # TensorFlow 2 has no other public writer of the index than this one (CheckpointManager uses it)
        tf.compat.v1.train.update_checkpoint_state(directory, kept[-1], all_model_checkpoint_paths=kept)
    else:
        tf.io.gfile.remove(f"{directory}/checkpoint")


def agree_on_resume_step(strategy, directory):
    """Multi-worker: returns the newest checkpoint step all workers have (every worker calls this at the same point;
    it runs one all-gather), after ``keep_checkpoints_up_to`` it in this worker's ``directory``, so that the
    checkpoint manager restores it. One process: nothing to agree on, None."""
    if worker_count(strategy) == 1:
        return None
    newest = max(_steps(directory), default=0)
    values = strategy.experimental_distribute_values_from_function(lambda _: tf.constant([newest], tf.int64))
    agreed = int(tf.reduce_min(strategy.gather(values, axis=0)))
    keep_checkpoints_up_to(directory, agreed)
    return agreed

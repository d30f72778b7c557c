"""Small synthetic training runs shared by the end-to-end training tests (test_train*.py): a handful of images
generated once per module, the overrides of a short run, the command line a user types."""

import os
import sys

import numpy as np
import tensorflow as tf

from tests.helpers import REPO, TFJS, require_shared

RUNNER = os.path.join(os.path.dirname(__file__), "run_training.py")


def run_overrides(root, run_dir, **train):
    settings = {"batch_size": 4, "steps_per_loop": 2, "checkpoint_every": 2, "validate_every": 1000,
                "val_batches": 1, "val_summary_images": 1, "progress_bar": False,
                "optimizer.warmup_steps": 2, **train}
    return (["exp=lightning", "data=synthetic", f"data.root={root}", "data.num_train_images=8",
             "data.num_val_images=4", f"output_dir={run_dir}", "eval.max_images=2"] + [f"train.{k}={v}" for k, v in settings.items()])


def scalars(event_dir, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(event_dir), size_guidance={"tensors": 0})
    events.Reload()
    return [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]


def train_command(root, run_dir, **train):
    # The same command line a user types (train.py), with the run folder pinned.
    overrides = [o for o in run_overrides(root, run_dir, **train) if not o.startswith("output_dir=")]
    return [sys.executable, str(REPO / "train.py"), *overrides, f"hydra.run.dir={run_dir}"]


def teacher_overrides(teacher):
    """Train overrides of a teacher run: released Lightning teaching from its own upright view."""
    if not teacher:
        return {}
    require_shared(TFJS["lightning"])
    return {"teacher": str(TFJS["lightning"]), "distill.view": "upright"}


def model_weights(prefix):
    """{name: value} of the model's variables in a training checkpoint."""
    reader = tf.train.load_checkpoint(str(prefix))
    names = [n for n in reader.get_variable_to_shape_map() if n.startswith("model/") and n.endswith("VARIABLE_VALUE")]
    assert len(names) > 100
    return {name: reader.get_tensor(name) for name in names}


def assert_same_weights(a, b):
    a, b = model_weights(a), model_weights(b)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)

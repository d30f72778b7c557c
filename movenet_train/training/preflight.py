"""The training job's checks that need no TensorFlow, run before anything is imported or built.

A wrong value, a missing file or a rule between keys fails here, in about a second, with one ``error:`` line:
not after the synthetic set is generated, TensorFlow imported and the model, optimizer and teacher built.
``build_training_run`` starts with the same checks, so a run built from code fails as early.
"""

import os

from movenet_train import model_files
from movenet_train.config import config_from
from movenet_train.data.config import data_config
from movenet_train.errors import UserError
from movenet_train.modeling.spec import MoveNetSpec
from movenet_train.training.config import FREEZE_OPTIONS, TEACHER_REQUIRED, TrainConfig
from movenet_train.training.initialisation import check_initial_weights, initial_weights
from movenet_train.training.run_folder import check_run_model


def unlabeled_sources(data_cfg):
    """Names of the ``data.sources`` entries without labels (``media=``: images or video), in config order."""
    sources = data_cfg.get("sources")
    if not hasattr(sources, "items"):
        return []
    return [str(name) for name, source in sources.items() if hasattr(source, "get") and source.get("media")]


def check_teacher(cfg, train_cfg):
    """``train.teacher``: named on the command line where the schedule requires it (distill); required by
    unlabeled sources; ``initial`` needs trained initial weights; a model file must exist. Whether the file fits
    the student (schema, heads, input size) is checked when it loads."""
    source = train_cfg.teacher
    if source == TEACHER_REQUIRED:
        raise UserError("train.teacher is required by the distill schedule (configs/train/schedule/distill.yaml): "
                        "pass train.teacher=<the teacher's model file>, e.g. the released Thunder "
                        "train.teacher=../shared/reference_models/tfjs_human_models/movenet-thunder.json (a "
                        ".tflite, SavedModel, run folder or checkpoint of the student's keypoints works too)")
    unlabeled = unlabeled_sources(cfg.data)
    if source is None:
        if unlabeled:
            raise UserError(f"data.sources.{unlabeled[0]} is unlabeled (media=): it needs a teacher to supply its "
                            "targets; set train.teacher (initial, or a model file)")
        return
    if source == "initial":
        start, trained = initial_weights(cfg)
        if not trained:
            raise UserError(f"train.teacher=initial needs initial weights to learn from (checkpoint=<model file>); "
                            f"this run starts from model.init={start}")
        return
    try:
        model_files.file_format(str(source))
    except FileNotFoundError as err:
        raise FileNotFoundError(f"train.teacher: {err}") from err


def check_run_folder(run_dir, spec, train_cfg):
    """A run folder with a checkpoint resumes only with the model it was started with (``run_folder.py``)."""
    if os.path.isfile(os.path.join(run_dir, model_files.CHECKPOINTS_DIR, "checkpoint")):
        check_run_model(run_dir, spec, train_cfg.qat)


def check_training(cfg):
    """Every check of a training run that needs nothing built; returns (its ``TrainConfig``, its ``MoveNetSpec``
    with the keypoint schema filled in)."""
    train_cfg = config_from(TrainConfig, cfg.train, "train")
    data = data_config(cfg.data)  # an unknown data key
    spec = MoveNetSpec.from_config(cfg.model, cfg.get("keypoints")).with_schema()
    if train_cfg.freeze not in (None, *FREEZE_OPTIONS):
        raise UserError(f"train.freeze={train_cfg.freeze!r}: expected one of {', '.join(FREEZE_OPTIONS)}")
    if data.service and train_cfg.deterministic:
        raise UserError(f"train.deterministic=true needs the input pipeline in this process: the tf.data service "
                        f"workers deliver batches in the order they finish them (data.service={data.service}; "
                        "set data.service=null)")
    check_initial_weights(cfg, train_cfg)
    check_teacher(cfg, train_cfg)
    check_run_folder(os.path.abspath(cfg.output_dir), spec, train_cfg)
    return train_cfg, spec

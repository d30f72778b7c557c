"""How a training run's model starts: its initial weights (``checkpoint=`` or ``model.init``), imported BatchNorm
re-expressed with the training images' statistics, and the quantisation-aware copy of ``train.qat``.

``check_initial_weights`` needs no TensorFlow: the training job runs it before anything is built."""

import dataclasses
import logging

from movenet_train import model_files
from movenet_train.errors import UserError

log = logging.getLogger(__name__)

# The ``model.init`` values that are no model file: no trained weights to start from.
UNTRAINED_INITS = (None, "scratch", "imagenet")


def initial_weights(cfg):
    """(Where the run of ``cfg`` takes its initial weights from: ``checkpoint=``, else ``model.init``; whether
    those are trained weights, a model file, rather than ``scratch``, ``imagenet`` or none)."""
    source = cfg.get("checkpoint") or cfg.model.init
    return source, source not in UNTRAINED_INITS


def check_initial_weights(cfg, train_cfg):
    """What ``initialise`` and ``quantisation_aware`` need, checked before anything is built: the model file of
    the initial weights exists, ``model.recalibrate_batch_norm_batches`` is a count, and ``train.qat`` has float
    initial weights, frozen BatchNorm and float32."""
    init, trained = initial_weights(cfg)
    if trained:
        try:
            model_files.file_format(str(init))  # or not a model file: UserError naming it
        except FileNotFoundError as err:
            raise FileNotFoundError(f"{'checkpoint' if cfg.get('checkpoint') else 'model.init'}: {err}") from err
    if trained and cfg.model.recalibrate_batch_norm:
        batches = cfg.model.recalibrate_batch_norm_batches
        if not isinstance(batches, int) or isinstance(batches, bool) or batches < 1:
            raise UserError(f"model.recalibrate_batch_norm_batches: expected an integer >= 1, got {batches!r} "
                            "(model.recalibrate_batch_norm=false turns the re-estimation off)")
    if not train_cfg.qat:
        return
    if not train_cfg.freeze_batch_norm:
        raise UserError("train.qat=true needs train.freeze_batch_norm=true (the finetune schedule sets it): the "
                        "INT8 file folds BatchNorm into the convolutions with fixed statistics")
    if train_cfg.mixed_precision:
        raise UserError(f"train.qat=true simulates INT8 in float32: set train.mixed_precision=null "
                        f"(got {train_cfg.mixed_precision})")
    if not trained:
        raise UserError(f"train.qat=true fine-tunes float weights: set checkpoint=<a training run, checkpoint or "
                        f"released model file> (model.init={init})")


def _training_images(cfg, train_cfg, spec):
    """The images of the training batches, in a fixed order (so that a resumed run sees the same ones)."""
    from movenet_train.data import build_dataset

    return iter(build_dataset(cfg.data, spec, "train", train_cfg.batch_size, training=True,
                              deterministic=True).map(lambda images, _: images))


def initialise(cfg, train_cfg, spec, model):
    """The weights training starts from (``checkpoint=`` or ``model.init``), BatchNorm re-expressed with the
    statistics of the first training batches where imported (deterministic, so a resumed run's ``initial``
    teacher is rebuilt the same)."""
    from movenet_train.training.batch_norm import reestimate_batch_norm
    from movenet_train.training.init import initialize_model

    init, trained = initial_weights(cfg)
    initialize_model(model, spec, init)
    if trained and cfg.model.recalibrate_batch_norm:
        batches = cfg.model.recalibrate_batch_norm_batches  # checked by check_initial_weights
        # Imported BatchNorm holds folded weights (mean 0, variance 1): express it with the statistics of the
        # training images, the released function unchanged, so training-mode BatchNorm starts where it is.
        images = _training_images(cfg, train_cfg, spec)
        reestimate_batch_norm(model, (next(images) for _ in range(batches)), keep_function=True)


def quantisation_aware(cfg, train_cfg, spec, model, strategy, resuming):
    """``train.qat``: (the quantisation-aware copy of the initialised float ``model``, its spec). A new run sets
    the activation ranges from ``train.qat_calibration_batches`` training batches; a resumed one restores them
    with the weights from the checkpoint. Its needs are checked by ``check_initial_weights``."""
    from movenet_train.modeling.quantization import calibrate_ranges, quantize_model

    with strategy.scope():
        qat_model = quantize_model(model)
    if not resuming:
        images = _training_images(cfg, train_cfg, spec)
        count = calibrate_ranges(qat_model, (next(images) for _ in range(train_cfg.qat_calibration_batches)))
        log.info("quantisation-aware model: activation ranges from %d training batches", count)
    return qat_model, dataclasses.replace(spec, qat=True)

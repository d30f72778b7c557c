"""Validation during training: what it measures (``validation_plan``: the loss on the val records, COCO AP, either
optional) and the evaluator's callback (COCO AP through the eval code, a skeleton image summary, the EMA model saved
into the run folder).

Validation is optional: a run without validation records (``data.val_records=null``) has no validation loss, one
without validation annotations no AP, and ``train.validate_every=0`` turns both off. The validation points still
re-estimate BatchNorm and write ``model/`` (at the end at least), so a run without a validation set ends with the
same files."""

import dataclasses
import os
import shutil
from typing import Optional

import numpy as np
import tensorflow as tf

from movenet_train import checkpoints, model_files
from movenet_train.config import config_from
from movenet_train.modeling.outputs import POSE_SCORE_THRESHOLD, unpack
from movenet_train.training.batch_norm import reestimate_batch_norm


@dataclasses.dataclass(frozen=True)
class ValidationPlan:
    """What validation measures in a run: the loss on the ``records`` glob, COCO AP with ``eval_options``
    (``evaluate``'s keyword arguments); None where the run has none, ``no_loss`` / ``no_ap`` saying why; ``off``:
    ``train.validate_every=0``."""

    records: Optional[str]
    eval_options: Optional[dict]
    no_loss: Optional[str] = None
    no_ap: Optional[str] = None
    off: bool = False

    def skipped(self):
        """The one log line on what validation leaves out, or None when it measures both."""
        if self.off:
            return ("validation is off (train.validate_every=0): no validation loss, no COCO AP; model/ is written at "
                    "the end")
        if self.records is None and self.eval_options is None:
            return (f"no validation set ({self.no_loss}, {self.no_ap}): training runs without validation loss or COCO "
                    "AP; model/ is still written every train.validate_every steps and at the end")
        parts = [f"no validation loss ({self.no_loss})" if self.records is None else None,
                 f"no COCO AP during training ({self.no_ap})" if self.eval_options is None else None]
        return "; ".join(part for part in parts if part) or None

    def final_line(self):
        """The run's last line where there is no ``AP=`` to print."""
        if self.off:
            return "no AP: validation is off (train.validate_every=0)"
        if self.records is None:
            return f"no AP: no validation set was given ({self.no_loss}, {self.no_ap})"
        return f"no AP: no validation annotations ({self.no_ap})"


def validation_plan(cfg, train_cfg, spec):
    """The ``ValidationPlan`` of a run: ``data.val_records`` (null: no loss) and ``validation_eval_options`` (no
    annotations: no AP); neither with ``train.validate_every=0``."""
    if not train_cfg.validate_every:
        return ValidationPlan(None, None, off=True)
    records = cfg.data.get("val_records")
    options, no_ap = _eval_options(cfg, spec)
    return ValidationPlan(records or None, options, None if records else "data.val_records=null", no_ap)


def validation_callback(cfg, train_cfg, spec, run_dir, chief, worker, plan=None):
    """Callback of the evaluator: COCO AP through the eval code, a skeleton image summary, the EMA model saved.

    The AP is computed as ``eval/evaluate.py`` computes it, with the ``eval`` group's keys (protocol, crop,
    batch size, max_images, ...); its ``annotations``/``images`` default to the data's validation split. ``plan``
    (default: ``validation_plan``) without ``eval_options``: no AP, the rest as usual.
    """
    precise_batches = train_cfg.precise_batch_norm_batches
    options = (plan or validation_plan(cfg, train_cfg, spec)).eval_options
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
    return _eval_options(cfg, spec)[0]


def _eval_options(cfg, spec):
    """(``validation_eval_options``, None), or (None, why there is nothing to score: for the log)."""
    from movenet_train.evaluation import protocols
    from movenet_train.evaluation.config import EvalOptions

    options = dataclasses.asdict(config_from(EvalOptions, cfg.eval, "eval"))
    if not options.get("records"):
        annotations_key = "eval.annotations" if options.get("annotations") else "data.val_annotations"
        options["annotations"] = options.get("annotations") or cfg.data.get("val_annotations")
        options["images"] = options.get("images") or cfg.data.get("val_images")
        if not options["annotations"]:
            return None, f"{annotations_key}=null"
        if not os.path.exists(options["annotations"]):
            return None, f"{annotations_key}={options['annotations']} does not exist"
        if not options["images"]:
            return None, f"{'eval.images' if cfg.eval.get('images') else 'data.val_images'}=null"
    options["protocol"] = protocols.protocol_for(options["protocol"], spec.multi_pose)
    return options, None


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

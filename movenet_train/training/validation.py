"""Validation during training: the evaluator's callback (COCO AP through the eval code, a skeleton image summary,
the EMA model saved into the run folder)."""

import dataclasses
import os
import shutil

import numpy as np
import tensorflow as tf

from movenet_train import checkpoints, model_files
from movenet_train.config import config_from
from movenet_train.modeling.outputs import POSE_SCORE_THRESHOLD, unpack
from movenet_train.training.batch_norm import reestimate_batch_norm


def validation_callback(cfg, train_cfg, spec, run_dir, chief, worker):
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

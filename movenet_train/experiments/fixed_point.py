"""The fixed-point experiment (``python experiments/fixed_point.py``, configs/fixed_point.yaml).

Google's released weights should be (near) a fixed point of the training objective: fine-tuning them on upright
images of the kind they were trained on should fit those images better without making them worse on people
the run never saw. The experiment measures both:

1. the rotation experiment's split of the COCO sample (``held_out_images`` of the images the single_person
   protocol scores, drawn with ``split_seed``, held out; every other image trains), upright only;
2. fine-tune ``checkpoint`` with ``train_overrides`` (default: the ``finetune`` schedule as shipped);
3. single_person AP of the initial and the fine-tuned weights on the held-out images and on the training
   images the protocol scores; ``results.json`` / ``results.png``.

Every stage is skipped when its outputs exist, so running the command again resumes.
"""

import logging
import os

from hydra import compose

from movenet_train.evaluation import compare, evaluate
from movenet_train.runtime import load_predictor

log = logging.getLogger(__name__)


def prepare_data(cfg, work):
    """The split, the two annotation subsets and the training records under ``work``; returns their paths."""
    from movenet_train import keypoints
    from movenet_train.data.coco import load_keypoint_annotations
    from movenet_train.data.convert import convert_coco
    from movenet_train.data.rotate import subset
    from movenet_train.experiments.rotation import record_split, split_images

    schema = keypoints.resolve(cfg.get("keypoints"))
    data = load_keypoint_annotations(cfg.annotations, schema).raw
    train_ids, held_out_ids = split_images(data, cfg.held_out_images, cfg.split_seed)
    paths = {"split": os.path.join(work, "split.json"), "train": os.path.join(work, "train.json"),
             "held_out": os.path.join(work, "held_out.json"), "records": os.path.join(work, "records")}
    record_split(paths["split"], cfg, train_ids, held_out_ids)
    for name, ids in (("train", train_ids), ("held_out", held_out_ids)):
        if not os.path.exists(paths[name]):
            subset(cfg.annotations, ids, paths[name], schema)
    if not os.path.exists(os.path.join(paths["records"], "train-manifest.json")):
        convert_coco(paths["train"], cfg.images, paths["records"], split="train", num_shards=1, num_workers=0,
                     progress=False, overwrite=True, schema=schema)
    return paths


def train_config(cfg, paths, run_dir):
    """The composed training config (call inside an initialised Hydra)."""
    records = os.path.join(paths["records"], "train-*.tfrecord")
    overrides = list(cfg.train_overrides) + [
        f"checkpoint={cfg.checkpoint}",
        f"data.train_records={records}",
        # Validation looks at training images only: the held-out ones stay unseen until the final evaluation.
        f"data.val_records={records}",
        f"data.val_annotations={paths['train']}",
        f"data.val_images={cfg.images}",
        f"output_dir={run_dir}",
    ]
    return compose("train", overrides=overrides)


def run(cfg):
    """Runs (or resumes) the experiment; returns the report (also ``<output>/results.json``)."""
    from movenet_train.training import train

    work = os.path.abspath(cfg.output)
    paths = prepare_data(cfg, work)
    run_dir = os.path.join(work, "run")
    train_cfg = train_config(cfg, paths, run_dir)
    train(train_cfg)

    models = {"initial": cfg.checkpoint, "fine_tuned": run_dir}
    eval_sets = {"held_out": paths["held_out"], "train": paths["train"]}
    metrics = {}
    for model_name, checkpoint in models.items():
        predictor = load_predictor(checkpoint)
        for set_name, annotations in eval_sets.items():
            metrics[f"{model_name} {set_name}"] = evaluate(
                predictor, annotations, cfg.images, protocol="single_person", crop=cfg.crop, progress=False,
                checkpoint=str(checkpoint), output_dir=os.path.join(work, "eval", f"{model_name}_{set_name}"))
    report = compare.build_report(metrics)
    entries = report["entries"]
    report["headline"] = {
        "held_out_AP_change": entries["fine_tuned held_out"]["AP"] - entries["initial held_out"]["AP"],
        "train_AP_change": entries["fine_tuned train"]["AP"] - entries["initial train"]["AP"],
        "images": {s: entries[f"initial {s}"]["num_images"] for s in eval_sets},
    }
    report["train"] = {"steps": int(train_cfg.train.steps), "batch_size": int(train_cfg.train.batch_size),
                       "learning_rate": float(train_cfg.train.optimizer.learning_rate),
                       "overrides": list(cfg.train_overrides)}
    compare.write_report(work, report, "single_person AP: initial vs fine-tuned (held-out and training images)",
                         name="results")
    return report

"""The fixed-point experiment (``python experiments/fixed_point.py``, configs/fixed_point.yaml).

Google's released weights should be (near) a fixed point of the training objective: fine-tuning them on upright
images of the kind they were trained on should fit those images better without making them worse on people
the run never saw. The experiment measures both:

1. the split: with ``folds=1`` the rotation experiment's (``held_out_images`` of the images the single_person
   protocol scores, drawn with ``split_seed``, held out; every other image trains); with ``folds=K`` every image
   is held out in one of K folds (experiments/folds.py), upright only;
2. per fold, fine-tune ``checkpoint`` with ``train_overrides`` (default: the ``finetune`` schedule as shipped) on
   the training images' hand labels, or with ``train_annotations`` on that file's labels of the same images
   (matched by file name: autolabel's, say), while the held-out images are scored on the hand labels all the same;
3. AP (``protocol``) of the initial and the fine-tuned weights on the held-out and on the training images; the
   held-out predictions of all folds pooled, with the paired bootstrap interval of the change;
   ``results.json`` / ``results.png``.

Every stage is skipped when its outputs exist, so running the command again resumes.
"""

import os

from hydra import compose

from movenet_train.errors import UserError
from movenet_train.evaluation import compare
from movenet_train.experiments import folds


def prepare_data(cfg, work, schema, train_ids, held_out_ids):
    """The split, the two annotation subsets and the training records under ``work``; returns their paths."""
    from movenet_train.data.convert import convert_coco
    from movenet_train.data.rotate import subset

    paths = {"split": os.path.join(work, "split.json"), "train": os.path.join(work, "train.json"),
             "held_out": os.path.join(work, "held_out.json"), "records": os.path.join(work, "records")}
    folds.record_split(paths["split"], cfg, train_ids, held_out_ids)
    for name, ids in (("train", train_ids), ("held_out", held_out_ids)):
        if not os.path.exists(paths[name]):
            subset(cfg.annotations, ids, paths[name], schema)
    source = paths["train"]
    if cfg.get("train_annotations"):
        paths["train_labels"] = source = os.path.join(work, "train_labels.json")
        if not os.path.exists(source):
            labels_of_images(cfg.train_annotations, paths["train"], source, schema)
    if not os.path.exists(os.path.join(paths["records"], "train-manifest.json")):
        convert_coco(source, cfg.images, paths["records"], split="train", num_shards=1, num_workers=0,
                     progress=False, overwrite=True, schema=schema)
    return paths


def labels_of_images(labels, images_of, output, schema):
    """Writes the COCO file ``labels`` (autolabel's, say) restricted to the images of the COCO file ``images_of``,
    matched by file name (the two files number their images differently); an image ``labels`` lacks is an error."""
    from movenet_train.data.coco import load_keypoint_annotations
    from movenet_train.data.rotate import subset

    names = {image["file_name"] for image in load_keypoint_annotations(str(images_of), schema).raw["images"]}
    data = load_keypoint_annotations(str(labels), schema).raw
    ids = [image["id"] for image in data["images"] if image["file_name"] in names]
    missing = sorted(names - {image["file_name"] for image in data["images"]})
    if missing:
        raise UserError(f"train_annotations={labels} has no image named {', '.join(missing[:5])}"
                        + (", ..." if len(missing) > 5 else "") + f" ({len(missing)} of the {len(names)} training "
                        "images): label the images of annotations= (autolabel input=<their folder>)")
    return subset(labels, ids, output, schema)


def train_config(cfg, paths, run_dir):
    """The composed training config (call inside an initialised Hydra)."""
    records = os.path.join(paths["records"], "train-*.tfrecord")
    overrides = list(cfg.train_overrides) + [
        f"checkpoint={cfg.checkpoint}",
        f"data.train_records={records}",
        # Validation looks at training images only: the held-out ones stay unseen until the final evaluation.
        f"data.val_records={records}",
        f"data.val_annotations={paths.get('train_labels', paths['train'])}",
        f"data.val_images={cfg.images}",
        f"eval.protocol={cfg.protocol}",
        f"output_dir={run_dir}",
    ]
    return compose("train", overrides=overrides)


def eval_sets(cfg, paths):
    return {"held_out": (paths["held_out"], cfg.images), "train": (paths["train"], cfg.images)}


def run(cfg):
    """Runs (or resumes) the experiment; returns the report (also ``<output>/results.json``)."""
    work = os.path.abspath(cfg.output)
    per_fold, splits, train_cfg, _, schema = folds.run_folds(cfg, prepare_data, train_config, eval_sets)
    report = folds.summarize_folds(cfg, per_fold, ["held_out"], schema)
    paired = report["changes"]["held_out"]
    report["headline"] = {
        "held_out_AP_change": paired["difference"],
        "held_out_interval": [paired["low"], paired["high"]],
        "train_AP_change": report["mean_fold_change"]["train"],
        "held_out_people": paired["num_people"],
        "held_out_images": paired["num_images"],
        "protocol": cfg.protocol,
        "folds": len(splits),
    }
    report["train"] = {"steps": int(train_cfg.train.steps), "batch_size": int(train_cfg.train.batch_size),
                       "learning_rate": float(train_cfg.train.optimizer.learning_rate),
                       "overrides": list(cfg.train_overrides)}
    compare.write_report(work, report, f"{cfg.protocol} AP: initial vs fine-tuned (held-out, {len(splits)} "
                         "fold(s))", name="results")
    return report

"""The rotation fine-tuning experiment (``python experiments/rotation_finetune.py``, configs/rotation_finetune.yaml).

1. Split a COCO keypoint set deterministically: ``held_out_images`` of the images the single_person protocol can
   score (exactly one person, non-crowd, with keypoints), drawn with ``split_seed``, are held out; every other
   image (the rest of the single-person ones and all the multi-person ones) is for training.
   With ``held_out_images=0`` every image trains and the evaluation is skipped.
2. Training data: the training images upright, converted to records (``data.sources.upright``); the train exp
   turns them by quarter turns in augmentation, where the teacher sees each view upright (equivariant teaching),
   and may add unlabeled sources of its own.
3. Fine-tune from ``checkpoint`` (released Lightning) with ``train_overrides`` (default ``exp=rotation_finetune``).
4. Evaluate the initial and the fine-tuned weights (``protocol``) on the held-out images upright (the original
   files) and turned by ``angles`` (``data.rotate``); write ``results.json`` and ``results.png``.

With ``folds=K`` steps 1-4 run once per fold, every image held out in one of them, and the held-out figures are
pooled with paired bootstrap intervals (experiments/folds.py).

Every stage writes its outputs whole (``atomic``) and is skipped when they exist, so running the command again
resumes (training resumes from its last checkpoint).
"""

import json
import os

from hydra import compose

from movenet_train.atomic import atomic_path
from movenet_train.evaluation import compare
from movenet_train.experiments import folds



def prepare_data(cfg, work, schema, train_ids, held_out_ids):
    """Writes the split, the held-out sets (upright and turned) and the training records under ``work``; returns
    their paths."""
    from movenet_train.data.convert import convert_coco
    from movenet_train.data.rotate import rotate_coco, subset

    paths = {
        "split": os.path.join(work, "split.json"),
        "train_upright": os.path.join(work, "train_upright.json"),
        "held_out_upright": os.path.join(work, "held_out_upright.json"),
        "held_out_rotated": os.path.join(work, "held_out_rotated"),
        "records": os.path.join(work, "records"),
    }
    folds.record_split(paths["split"], cfg, train_ids, held_out_ids)
    if not os.path.exists(paths["train_upright"]):
        subset(cfg.annotations, train_ids, paths["train_upright"], schema)
    if held_out_ids and not os.path.exists(paths["held_out_upright"]):
        subset(cfg.annotations, held_out_ids, paths["held_out_upright"], schema)
    if held_out_ids and not os.path.exists(paths["held_out_rotated"]):
        rotate_coco(cfg.annotations, cfg.images, paths["held_out_rotated"], angles=cfg.angles,
                    image_ids=held_out_ids, schema=schema)
    if not os.path.exists(os.path.join(paths["records"], "upright-manifest.json")):
        convert_coco(paths["train_upright"], cfg.images, paths["records"], split="upright", num_shards=1,
                     num_workers=0, progress=False, overwrite=True, schema=schema)
    return paths


def eval_sets(cfg, paths):
    """The held-out images upright and turned; none when nothing is held out (``held_out_images=0``)."""
    from movenet_train.data.rotate import ANNOTATIONS_FILE, IMAGES_DIR

    if not os.path.exists(paths["held_out_upright"]):
        return {}
    rotated = paths["held_out_rotated"]
    return {"upright": (paths["held_out_upright"], cfg.images),
            "rotated": (os.path.join(rotated, ANNOTATIONS_FILE), os.path.join(rotated, IMAGES_DIR))}


def train_config(cfg, paths, run_dir):
    """The composed training config of the experiment (call inside an initialised Hydra)."""
    records = paths["records"]
    overrides = list(cfg.train_overrides) + [
        f"checkpoint={cfg.checkpoint}",
        f"data.sources.upright.records={records}/upright-*.tfrecord",
        # Validation looks at training images only: the held-out ones stay unseen until the final evaluation.
        f"data.val_records={records}/upright-*.tfrecord",
        f"data.val_annotations={paths['train_upright']}",
        f"data.val_images={cfg.images}",
        f"eval.protocol={cfg.protocol}",
        f"output_dir={run_dir}",
    ]
    return compose("train", overrides=overrides)


def run(cfg):
    """Runs (or resumes) the experiment of ``cfg`` (configs/rotation_finetune.yaml); returns the report
    (also written as ``<output>/results.json``; with ``held_out_images=0``, the training run's summary only).
    With ``folds=K`` every image is held out once (experiments/folds.py) and the held-out figures are pooled.
    Call inside an initialised Hydra (it composes the train config)."""
    work = os.path.abspath(cfg.output)
    per_fold, splits, train_cfg, paths, schema = folds.run_folds(cfg, prepare_data, train_config, eval_sets)
    run_dir = os.path.join(work, "run")
    train_summary = {"steps": int(train_cfg.train.steps), "batch_size": int(train_cfg.train.batch_size),
                     "learning_rate": float(train_cfg.train.optimizer.learning_rate),
                     "teacher": train_cfg.train.teacher, "freeze": train_cfg.train.freeze,
                     "overrides": list(cfg.train_overrides)}
    if not per_fold:  # held_out_images=0 with one split: every image trained, nothing to score
        with open(paths["split"]) as f:
            split = json.load(f)
        report = {"model": run_dir, "split": {"num_train_images": len(split["train"]), "held_out": []},
                  "train": train_summary}
        with atomic_path(os.path.join(work, "results.json")) as tmp, open(tmp, "w") as f:
            json.dump(report, f, indent=1)
        return report

    report = folds.summarize_folds(cfg, per_fold, ["upright", "rotated"], schema)
    changes = report["changes"]
    report["headline"] = {
        "rotated_AP_gain": changes["rotated"]["difference"],
        "rotated_interval": [changes["rotated"]["low"], changes["rotated"]["high"]],
        "upright_AP_change": changes["upright"]["difference"],
        "upright_interval": [changes["upright"]["low"], changes["upright"]["high"]],
        "held_out_images": {s: report["entries"][f"initial {s}"]["num_images"] for s in ("upright", "rotated")},
        "held_out_people": {s: changes[s]["num_people"] for s in ("upright", "rotated")},
        "protocol": cfg.protocol,
        "folds": len(splits),
    }
    report["split"] = {"folds": len(splits), "held_out": [ids for _, ids in splits],
                       "num_train_images": [len(ids) for ids, _ in splits], "angles": list(cfg.angles)}
    report["train"] = train_summary
    compare.write_report(work, report, f"{cfg.protocol} AP on held-out images: initial vs fine-tuned "
                         f"({len(splits)} fold(s))", name="results")
    return report

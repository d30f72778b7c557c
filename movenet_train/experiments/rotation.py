"""The rotation fine-tuning experiment (``python experiments/rotation_finetune.py``, configs/rotation_finetune.yaml).

1. Split a COCO keypoint set deterministically: ``held_out_images`` of the images the single_person protocol can
   score (exactly one person, non-crowd, with keypoints), drawn with ``split_seed``, are held out; every other
   image (the rest of the single-person ones and all the multi-person ones) is for training.
   With ``held_out_images=0`` every image trains and the evaluation is skipped.
2. Training data: the training images upright, converted to records (``data.sources.upright``); the train exp
   turns them by quarter turns in augmentation, where the teacher sees each view upright (equivariant teaching),
   and may add unlabeled sources of its own.
3. Fine-tune from ``checkpoint`` (released Lightning) with ``train_overrides`` (default ``exp=rotation_finetune``).
4. Evaluate the initial and the fine-tuned weights, single_person protocol, on the held-out images upright (the
   original files) and turned by ``angles`` (``data.rotate``); write ``results.json`` and ``results.png``.

Every stage writes its outputs whole (``atomic``) and is skipped when they exist, so running the command again
resumes (training resumes from its last checkpoint).
"""

import json
import logging
import os

import numpy as np
from hydra import compose

from movenet_train.atomic import atomic_path
from movenet_train.evaluation import compare, evaluate
from movenet_train.evaluation.protocols import is_person_with_keypoints
from movenet_train.runtime import load_predictor

log = logging.getLogger(__name__)



def split_images(data, held_out_images, seed):
    """(train ids, held-out ids): ``held_out_images`` single_person-scorable images drawn with ``seed``; 0 holds
    out none."""
    per_image = {}
    for ann in data["annotations"]:
        per_image.setdefault(ann["image_id"], []).append(ann)
    scorable = sorted(i["id"] for i in data["images"]
                      if len(per_image.get(i["id"], [])) == 1 and is_person_with_keypoints(per_image[i["id"]][0]))
    if not 0 <= held_out_images < len(scorable):
        raise ValueError(f"held_out_images={held_out_images}: the set has {len(scorable)} images the single_person "
                         "protocol scores; hold out 0 (train on all, no evaluation) to at most "
                         f"{len(scorable) - 1}")
    held_out = sorted(int(i) for i in np.random.default_rng(seed).permutation(scorable)[:held_out_images])
    train = sorted(i["id"] for i in data["images"] if i["id"] not in set(held_out))
    return train, held_out


def record_split(path, cfg, train_ids, held_out_ids):
    """Writes the split to ``path``, or checks that the one already there is the same (a rerun resumes only the
    experiment it started)."""
    split = {"train": train_ids, "held_out": held_out_ids, "held_out_images": cfg.held_out_images,
             "split_seed": cfg.split_seed, "folds": cfg.get("folds", 1), "annotations": os.path.abspath(cfg.annotations)}
    if os.path.exists(path):
        with open(path) as f:
            if json.load(f) != split:
                raise ValueError(f"{path} holds another split; use another output= folder")
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(split, f, indent=1)


def prepare_data(cfg, work):
    """Writes the split, the held-out sets (upright and turned) and the training records under ``work``; returns
    their paths."""
    from movenet_train import keypoints
    from movenet_train.data.coco import load_keypoint_annotations
    from movenet_train.data.convert import convert_coco
    from movenet_train.data.rotate import rotate_coco, subset

    schema = keypoints.resolve(cfg.get("keypoints"))
    data = load_keypoint_annotations(cfg.annotations, schema).raw
    train_ids, held_out_ids = split_images(data, cfg.held_out_images, cfg.split_seed)
    paths = {
        "split": os.path.join(work, "split.json"),
        "train_upright": os.path.join(work, "train_upright.json"),
        "held_out_upright": os.path.join(work, "held_out_upright.json"),
        "held_out_rotated": os.path.join(work, "held_out_rotated"),
        "records": os.path.join(work, "records"),
    }
    record_split(paths["split"], cfg, train_ids, held_out_ids)
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
        f"output_dir={run_dir}",
    ]
    return compose("train", overrides=overrides)


def run(cfg):
    """Runs (or resumes) the experiment of ``cfg`` (configs/rotation_finetune.yaml); returns the report
    (also written as ``<output>/results.json``; with ``held_out_images=0``, the training run's summary only).
    Call inside an initialised Hydra (it composes the train config)."""
    from movenet_train.data.rotate import ANNOTATIONS_FILE, IMAGES_DIR
    from movenet_train.training import train

    work = os.path.abspath(cfg.output)
    paths = prepare_data(cfg, work)
    run_dir = os.path.join(work, "run")
    train_cfg = train_config(cfg, paths, run_dir)
    train(train_cfg)
    train_summary = {"steps": int(train_cfg.train.steps), "batch_size": int(train_cfg.train.batch_size),
                     "learning_rate": float(train_cfg.train.optimizer.learning_rate),
                     "teacher": train_cfg.train.teacher, "freeze": train_cfg.train.freeze,
                     "overrides": list(cfg.train_overrides)}
    with open(paths["split"]) as f:
        split = json.load(f)
    if not cfg.held_out_images:
        report = {"model": run_dir, "split": {"num_train_images": len(split["train"]), "held_out": []},
                  "train": train_summary}
        with atomic_path(os.path.join(work, "results.json")) as tmp, open(tmp, "w") as f:
            json.dump(report, f, indent=1)
        return report

    eval_sets = {
        "upright": (paths["held_out_upright"], cfg.images),
        "rotated": (os.path.join(paths["held_out_rotated"], ANNOTATIONS_FILE),
                    os.path.join(paths["held_out_rotated"], IMAGES_DIR)),
    }
    models = {"initial": cfg.checkpoint, "fine_tuned": run_dir}
    metrics = {}
    for model_name, checkpoint in models.items():
        predictor = load_predictor(checkpoint)
        for set_name, (annotations, images) in eval_sets.items():
            metrics[(model_name, set_name)] = evaluate(
                predictor, annotations, images, protocol="single_person", crop=cfg.crop, progress=False,
                checkpoint=checkpoint, output_dir=os.path.join(work, "eval", f"{model_name}_{set_name}"))
    report = compare.build_report({f"{m} {s}": metrics[(m, s)] for m in models for s in eval_sets})
    entries = report["entries"]
    report["headline"] = {
        "rotated_AP_gain": entries["fine_tuned rotated"]["AP"] - entries["initial rotated"]["AP"],
        "upright_AP_change": entries["fine_tuned upright"]["AP"] - entries["initial upright"]["AP"],
        "held_out_images": {s: entries[f"initial {s}"]["num_images"] for s in eval_sets},
    }
    report["split"] = {"held_out": split["held_out"], "num_train_images": len(split["train"]),
                       "angles": list(cfg.angles)}
    report["train"] = train_summary
    compare.write_report(work, report, "single_person AP on held-out images: initial vs fine-tuned",
                         name="results")
    return report

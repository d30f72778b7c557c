"""Cross-validated experiments: images split into K folds, one fine-tuning run per fold, pooled held-out AP.

With ``folds=1`` an experiment keeps its single split (``held_out_images`` of the single_person-scorable images,
``split_seed``). With ``folds=K >= 2`` every image of the annotation file goes to one of K groups (seeded); each
group is held out once while the others train. Every held-out person is then predicted exactly once by a model
that never saw it, so the fine-tuned predictions of all folds form one set that COCOeval scores against the same
people as the initial weights: the paired bootstrap interval (evaluation/bootstrap.py) of that pooled change is
what the data can say about the recipe. The training-image change is per fold (each image trains in K-1 folds).
"""

import json
import logging
import os

import numpy as np

from movenet_train.errors import UserError
from movenet_train.atomic import atomic_path

from movenet_train.evaluation import bootstrap, coco_metrics, compare, slices
from movenet_train.evaluation.protocols import is_person_with_keypoints
from movenet_train.evaluation.evaluator import run_evaluation
from movenet_train.runtime import load_predictor

MODELS = ("initial", "fine_tuned")
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
        raise UserError(f"held_out_images={held_out_images}: the set has {len(scorable)} images the single_person "
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
    if cfg.get("train_annotations"):  # recorded only when given: a split without it reads as it always did
        split["train_annotations"] = os.path.abspath(cfg.train_annotations)
    if os.path.exists(path):
        with open(path) as f:
            if json.load(f) != split:
                raise UserError(f"{path} holds another split; use another output= folder")
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(split, f, indent=1)


def fold_splits(data, folds, held_out_images, seed):
    """[(train ids, held-out ids)] of each fold of the COCO dict ``data``."""
    if folds == 1:
        return [split_images(data, held_out_images, seed)]
    ids = sorted(image["id"] for image in data["images"])
    if not 2 <= folds <= len(ids):
        raise UserError(f"folds={folds}: expected 1 (one held-out split) or 2 to {len(ids)} (the images of the set)")
    groups = np.array_split(np.random.default_rng(seed).permutation(ids), folds)
    return [(sorted(i for i in ids if i not in set(group.tolist())), sorted(int(i) for i in group)) for group in groups]


def fold_dir(work, folds, fold):
    """The working folder of one fold: the experiment's own with one split (as before folds existed)."""
    return work if folds == 1 else os.path.join(work, f"fold_{fold}")


def train_unless_finished(train_cfg):
    """Trains (or resumes) the run of ``train_cfg`` unless it already finished: its ``model/`` written and its
    last checkpoint at ``train.steps``. A finished run entered again would validate and write ``model/`` anew
    (BatchNorm re-estimated on other batches), so a rerun of an experiment would score other weights."""
    import tensorflow as tf

    from movenet_train import model_files
    from movenet_train.training import train

    run_dir = train_cfg.output_dir
    latest = tf.train.latest_checkpoint(os.path.join(run_dir, model_files.CHECKPOINTS_DIR))
    if (latest and os.path.isdir(os.path.join(run_dir, model_files.MODEL_DIR))
            and int(latest.rsplit("-", 1)[-1]) >= int(train_cfg.train.steps)):
        log.info("%s finished (%s): not trained again", run_dir, os.path.basename(latest))
        return
    train(train_cfg)


def trained_models(cfg, fold_work, paths, run_dir):
    """The models a fold scores by default: the initial weights and the run trained from them."""
    return {"initial": cfg.checkpoint, "fine_tuned": run_dir}


def every_set(model_name, set_name):
    return True


def run_folds(cfg, prepare_data, train_config, eval_sets, fold_models=trained_models, scores=every_set):
    """Prepares, trains (or resumes) and evaluates every fold of the experiment ``cfg`` under ``cfg.output``.

    ``prepare_data(cfg, fold_work, schema, train_ids, held_out_ids)`` -> paths; ``train_config(cfg, paths,
    run_dir)`` -> the composed training config (inside an initialised Hydra); ``eval_sets(cfg, paths)`` ->
    {name: (annotations, images)} (empty: nothing to score, e.g. nothing held out); ``fold_models(cfg, fold_work,
    paths, run_dir)`` -> {model name: model file} (after the fold's run; it may train or export more, resumably),
    each scored on the eval sets ``scores(model name, set name)`` allows (default: all). Returns (one {(model, set): Evaluation} per fold that has eval sets, the splits, the
    last training config, the last paths, the schema).
    """
    from movenet_train import keypoints
    from movenet_train.data.coco import load_keypoint_annotations
    work = os.path.abspath(cfg.output)
    schema = keypoints.resolve(cfg.get("keypoints"))
    splits = fold_splits(load_keypoint_annotations(cfg.annotations, schema).raw, cfg.folds, cfg.held_out_images,
                         cfg.split_seed)
    per_fold, train_cfg, paths = [], None, None
    only = cfg.get("only_folds")
    if only is not None and not set(only) <= set(range(len(splits))):
        raise UserError(f"only_folds={list(only)}: the experiment has folds 0 to {len(splits) - 1}")
    for fold, (train_ids, held_out_ids) in enumerate(splits):
        if only is not None and fold not in only:
            continue
        fold_work = fold_dir(work, cfg.folds, fold)
        if len(splits) > 1:
            log.info("fold %d of %d: %d training images, %d held out", fold + 1, len(splits), len(train_ids),
                     len(held_out_ids))
        paths = prepare_data(cfg, fold_work, schema, train_ids, held_out_ids)
        run_dir = os.path.join(fold_work, "run")
        train_cfg = train_config(cfg, paths, run_dir)
        train_unless_finished(train_cfg)
        sets = eval_sets(cfg, paths)
        if sets:
            per_fold.append(evaluate_fold(cfg, fold_work, fold_models(cfg, fold_work, paths, run_dir), sets, scores))
    return per_fold, splits, train_cfg, paths, schema


def evaluate_fold(cfg, work, checkpoints, eval_sets, scores=every_set):
    """{(model, set): Evaluation} of the initial and fine-tuned weights on each eval set of one fold.

    ``checkpoints``: {model name: path} ({"initial": path, "fine_tuned": path} by default); ``eval_sets``:
    {name: (annotations, images)}.
    """
    out = {}
    for model_name, checkpoint in checkpoints.items():
        predictor = load_predictor(checkpoint)
        for set_name, (annotations, images) in eval_sets.items():
            if not scores(model_name, set_name):
                continue
            out[(model_name, set_name)] = run_evaluation(
                predictor, annotations, images, protocol=cfg.protocol, crop=cfg.crop, progress=False,
                checkpoint=str(checkpoint),
                output_dir=os.path.join(work, "eval", f"{model_name}_{set_name}"))
    return out


def pooled_metrics(evaluations, schema):
    """(metrics of the union of ``evaluations``' images as one COCOeval, its KeypointAP) for folds that hold out
    disjoint images: ground truths merged, results concatenated."""
    first = evaluations[0].ground_truth
    ground_truth = {**first, "images": [], "annotations": []}
    results, image_ids, people = [], [], 0
    for evaluation in evaluations:
        kept = set(evaluation.image_ids)
        ground_truth["images"] += [i for i in evaluation.ground_truth["images"] if i["id"] in kept]
        ground_truth["annotations"] += [a for a in evaluation.ground_truth["annotations"] if a["image_id"] in kept]
        results += evaluation.results
        image_ids += evaluation.image_ids
        people += evaluation.metrics["num_people"]
    if len(set(image_ids)) != len(image_ids):
        raise ValueError("pooled folds must hold out disjoint images")
    ap = coco_metrics.keypoint_ap(ground_truth, results, image_ids, schema)
    metrics = {**ap.stats, "num_images": len(image_ids), "num_people": people,
               "protocol": evaluations[0].metrics["protocol"], "checkpoint": None, "data": "pooled held-out folds",
               "slices": slices.orientation_ap(ground_truth, results, image_ids, schema)}
    return metrics, ap


def summarize_folds(cfg, per_fold, held_out_sets, schema):
    """The cross-validated report: pooled held-out entries with the paired change and its interval per
    held-out set, the per-fold changes of every set, and their means.

    ``per_fold``: one {(model, set): Evaluation} per fold; ``held_out_sets``: the sets pooled across folds.
    """
    entries, paired = {}, {}
    for set_name in held_out_sets:
        pooled = {m: pooled_metrics([fold[(m, set_name)] for fold in per_fold], schema) for m in MODELS}
        for model_name in MODELS:
            entries[f"{model_name} {set_name}"] = pooled[model_name][0]
        result = bootstrap.paired_difference(pooled["initial"][1].matches, pooled["fine_tuned"][1].matches,
                                             cfg.bootstrap.resamples, cfg.bootstrap.seed)
        result["num_people"] = pooled["initial"][0]["num_people"]
        result["protocol"] = cfg.protocol
        paired[set_name] = result
    set_names = sorted({s for fold in per_fold for _, s in fold})
    if len(per_fold) == 1:  # one split: the training-image figures are entries too, as they always were
        entries.update({f"{m} {s}": per_fold[0][(m, s)].metrics for m in MODELS for s in set_names
                        if s not in held_out_sets})
    report = compare.build_report(entries)
    report["folds"] = [
        {s: {"AP_change": fold[("fine_tuned", s)].metrics["AP"] - fold[("initial", s)].metrics["AP"],
             "initial_AP": fold[("initial", s)].metrics["AP"],
             "num_images": fold[("initial", s)].metrics["num_images"],
             "num_people": fold[("initial", s)].metrics["num_people"]} for s in set_names}
        for fold in per_fold]
    report["mean_fold_change"] = {s: float(np.mean([f[s]["AP_change"] for f in report["folds"]])) for s in set_names}
    report["changes"] = paired
    report["protocol"] = cfg.protocol
    report["num_folds"] = len(per_fold)
    return report


def format_paired(report):
    """One line per pooled held-out set: the change with its interval, people and images."""
    return "\n".join(f"{name}: AP change (fine-tuned - initial) " + bootstrap.format_difference(r, r["num_people"])
                     for name, r in report["changes"].items())

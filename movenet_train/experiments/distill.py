"""The distillation experiment (``python experiments/distill.py``, configs/distill.yaml): a stronger model
(released Thunder) teaches Lightning, cross-validated on the COCO sample.

Per fold (experiments/folds.py; ``folds=5 protocol=every_person`` for the figures in docs/experiments.md):

1. the fold's training images as records (their ground truth used as ``train_overrides`` say: the ``distill``
   schedule's ``distill.ground_truth_weight``), plus ``unlabeled`` media (the shared videos' frames) as label-free
   sources the teacher alone supplies targets for;
2. the student (``checkpoint``, released Lightning) trained with ``teacher`` (released Thunder) and
   ``train_overrides`` (default: the ``distill`` schedule); with ``baseline_overrides`` also the shipped
   ``finetune`` schedule on the same fold, for the paired difference between the two recipes;
3. the distilled model exported as ``export.formats`` (INT8 TFLite by default, calibrated on the fold's training
   images only);
4. every model scored on the held-out and the training images: the released Lightning (``initial``), the
   distilled run (``fine_tuned``), the ``baseline``, the ``teacher`` (the ceiling) and, for the INT8 figures, the
   released ``reference_int8`` file (Google's) beside the distilled INT8 export.

The held-out predictions of all folds are pooled and each comparison of ``COMPARISONS`` gets the paired bootstrap
interval over the pooled people; training-image changes are per fold. Every stage is skipped when its outputs
exist, so running the command again resumes.
"""

import logging
import os
import time

from hydra import compose

from movenet_train.evaluation import bootstrap, compare
from movenet_train.experiments import fixed_point, folds

log = logging.getLogger(__name__)

# (name, before, after): the paired changes the report gives on the pooled held-out people.
COMPARISONS = (
    ("distilled - released Lightning", "initial", "fine_tuned"),
    ("distilled - finetune schedule", "baseline", "fine_tuned"),
    ("distilled INT8 - Google's int8", "reference_int8", "fine_tuned_int8"),
    ("distilled INT8 - distilled float", "fine_tuned", "fine_tuned_int8"),
    ("distilled INT8 - released Lightning INT8 (same export)", "initial_int8", "fine_tuned_int8"),
    ("released Lightning INT8 (this export) - released float", "initial", "initial_int8"),
    ("teacher - released Lightning", "initial", "teacher"),
    ("finetune schedule - released Lightning", "initial", "baseline"),
)
INT8_FORMAT = "tflite_int8"


def train_config(cfg, paths, run_dir, train_overrides=None):
    """The composed training config of one fold's run (call inside an initialised Hydra): the fold's records,
    the unlabeled media as label-free sources, and the teacher."""
    records = os.path.join(paths["records"], "train-*.tfrecord")
    overrides = list(cfg.train_overrides if train_overrides is None else train_overrides) + [
        f"checkpoint={cfg.checkpoint}",
        f"+data.sources.labelled.records={records}",
        f"+data.sources.labelled.weight={cfg.labelled_weight}",
        # Validation looks at training images only: the held-out ones stay unseen until the final evaluation.
        f"data.val_records={records}",
        f"data.val_annotations={paths['train']}",
        f"data.val_images={cfg.images}",
        f"eval.protocol={cfg.protocol}",
        f"output_dir={run_dir}",
    ]
    if train_overrides is None:  # the distilled run: the teacher and the unlabeled frames
        overrides.append(f"train.teacher={cfg.teacher}")
        for name, source in (cfg.unlabeled or {}).items():
            overrides += [f"+data.sources.{name}.media={source.media}",
                          f"+data.sources.{name}.frame_step={int(source.frame_step)}",
                          f"+data.sources.{name}.weight={source.weight}"]
    return compose("train", overrides=overrides)


def _export_int8(cfg, paths, checkpoint, output):
    """``checkpoint`` exported as ``export.formats`` into ``output``, INT8 calibrated on the fold's training
    images only; returns the INT8 file."""
    import json

    from omegaconf import OmegaConf

    from movenet_train.export.calibration import calibration_images
    from movenet_train.export.exporter import export_model
    from movenet_train.runtime import load_keras

    report_file = os.path.join(output, "export_report.json")  # written last: the export is complete
    if not os.path.exists(report_file):  # else resumed: the model is not loaded again
        model, spec = load_keras(checkpoint)
        calibration = OmegaConf.create({"annotations": paths["train"], "images": cfg.images,
                                        "num_images": int(cfg.export.calibration_images)})
        images, _ = calibration_images(calibration, spec.input_size, spec.input_size, schema=spec.schema)
        export_model(model, spec, output, list(cfg.export.formats), images, overwrite=True, latency_runs=0)
    with open(report_file) as f:
        return os.path.join(output, json.load(f)["files"][INT8_FORMAT]["path"])


def fold_models(cfg, fold_work, paths, run_dir):
    """{model name: file} of one fold, after training the baseline and exporting the distilled run (resumably)."""
    models = {"initial": cfg.checkpoint, "fine_tuned": run_dir, "teacher": cfg.teacher}
    if cfg.baseline_overrides:
        baseline_dir = os.path.join(fold_work, "baseline_run")
        folds.train_unless_finished(train_config(cfg, paths, baseline_dir, list(cfg.baseline_overrides)))
        models["baseline"] = baseline_dir
    if INT8_FORMAT in cfg.export.formats:
        models["fine_tuned_int8"] = _export_int8(cfg, paths, run_dir, os.path.join(fold_work, "export"))
        if cfg.export.initial:  # the same export of the released weights: what INT8 costs before training
            models["initial_int8"] = _export_int8(cfg, paths, cfg.checkpoint,
                                                  os.path.join(fold_work, "export_initial"))
        if cfg.reference_int8:
            models["reference_int8"] = cfg.reference_int8
    return models


def scores(model_name, set_name):
    """Every model on the held-out people; on the training images only the two the training change compares."""
    return set_name == "held_out" or model_name in folds.MODELS


def _pooled_changes(cfg, per_fold, schema):
    """{comparison name: paired change on the pooled held-out people} of every comparison whose two models
    were scored, and {model: pooled held-out metrics}."""
    models = sorted({m for fold in per_fold for m, _ in fold})
    pooled = {m: folds.pooled_metrics([fold[(m, "held_out")] for fold in per_fold], schema) for m in models}
    changes = {}
    for name, before, after in COMPARISONS:
        if before in pooled and after in pooled:
            result = bootstrap.paired_difference(pooled[before][1].matches, pooled[after][1].matches,
                                                 cfg.bootstrap.resamples, cfg.bootstrap.seed)
            changes[name] = {**result, "num_people": pooled[before][0]["num_people"], "protocol": cfg.protocol,
                             "before": before, "after": after}
    return changes, {m: metrics for m, (metrics, _) in pooled.items()}


def run(cfg):
    """Runs (or resumes) the experiment of ``cfg``; returns the report (also ``<output>/results.json``)."""
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    work = os.path.abspath(cfg.output)
    per_fold, splits, train_cfg, _, schema = folds.run_folds(cfg, fixed_point.prepare_data, train_config,
                                                             fixed_point.eval_sets, fold_models, scores)
    if cfg.get("only_folds") is not None:
        log.info("folds %s done; run again without only_folds to pool every fold", list(cfg.only_folds))
        return {"folds_done": list(cfg.only_folds)}
    changes, pooled = _pooled_changes(cfg, per_fold, schema)
    report = compare.build_report({f"{m} held_out": metrics for m, metrics in pooled.items()})
    report["changes"] = changes
    report["folds"] = [
        {f"{m} {s}": fold[(m, s)].metrics["AP"] for m, s in sorted(fold)} for fold in per_fold]
    report["mean_fold_change"] = {
        s: sum(fold[("fine_tuned", s)].metrics["AP"] - fold[("initial", s)].metrics["AP"] for fold in per_fold)
        / len(per_fold) for s in ("held_out", "train")}
    headline = changes["distilled - released Lightning"]
    report["headline"] = {
        "held_out_AP_change": headline["difference"], "held_out_interval": [headline["low"], headline["high"]],
        "train_AP_change": report["mean_fold_change"]["train"], "held_out_people": headline["num_people"],
        "held_out_images": pooled["initial"]["num_images"], "protocol": cfg.protocol, "folds": len(splits),
        "teacher_AP": pooled["teacher"]["AP"], "initial_AP": pooled["initial"]["AP"],
        "distilled_AP": pooled["fine_tuned"]["AP"]}
    report["protocol"] = cfg.protocol
    report["num_folds"] = len(per_fold)
    report["train"] = {"steps": int(train_cfg.train.steps), "batch_size": int(train_cfg.train.batch_size),
                       "learning_rate": float(train_cfg.train.optimizer.learning_rate),
                       "teacher": str(cfg.teacher), "overrides": list(cfg.train_overrides),
                       "baseline_overrides": list(cfg.baseline_overrides or []),
                       "unlabeled": {k: dict(v) for k, v in (cfg.unlabeled or {}).items()}}
    # A resumed run's time counts only what this call did; the load average says whether the machine was idle.
    report["this_call"] = {"seconds": round(time.monotonic() - started, 1),
                           "load_average_before": load_before, "load_average_after": os.getloadavg()[0],
                           "cpus": os.cpu_count()}
    compare.write_report(work, report, f"{cfg.protocol} AP, pooled held-out people ({len(splits)} fold(s))",
                         name="results")
    return report


def format_changes(report):
    """One line per comparison: the change with its interval, people and images."""
    return "\n".join(f"{name}: " + bootstrap.format_difference(r, r["num_people"])
                     for name, r in report["changes"].items())

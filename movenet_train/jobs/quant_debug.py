"""``python -m movenet_train.jobs.quant_debug checkpoint=A [compare=B] calibration.images=DIR output=DIR``: per-layer
INT8 quantisation error of one or two models, quantised and calibrated as the INT8 export does
(movenet_train/export/quant_debug.py); writes ``layers.csv``, ``quant_debug.json``, ``quant_debug.png`` and each
model's INT8 and calibrated float ``.tflite`` files, and prints the worst layers."""

import json
import os

from movenet_train.atomic import check_output
from movenet_train.config import COUNT
from movenet_train.errors import UserError
from movenet_train.jobs import launch
from movenet_train.model_files import check_compatible, config_schema, config_spec, file_format

CONFIG = "quant_debug"
REPORT_FILE = "quant_debug.json"
TABLE_FILE = "layers.csv"
PLOT_FILE = "quant_debug.png"


def model_label(path):
    """A short name for a model file: its file name without extension, or a run's folder name for ``<run>/model``."""
    path = os.path.normpath(str(path))
    name = os.path.basename(path)
    if name in ("model", "checkpoints") or name.startswith("ckpt-"):
        name = os.path.basename(os.path.dirname(path)) or name
    return os.path.splitext(name)[0] or "model"


def labels_of(cfg, paths):
    labels = list(cfg.labels) if cfg.get("labels") else [model_label(p) for p in paths]
    if len(labels) != len(paths):
        raise UserError(f"labels={labels}: give one name per model ({len(paths)})")
    if len(set(labels)) != len(labels):
        labels = [f"{label}_{'ab'[i]}" for i, label in enumerate(labels)] if not cfg.get("labels") else labels
        if len(set(labels)) != len(labels):
            raise UserError(f"labels={labels}: the names must differ")
    if any(not label or "/" in label or label.startswith(".") for label in labels):
        raise UserError(f"labels={labels}: each name becomes a file name (no '/', no leading '.')")
    return labels


def run(cfg):
    """The per-layer report of ``cfg.checkpoint`` (and ``cfg.compare``) as configs/quant_debug.yaml describes;
    returns ``{"models": {label: report}, ...}``."""
    from movenet_train.export import quant_debug
    from movenet_train.export.calibration import calibration_images

    paths = [str(cfg.checkpoint)] + ([str(cfg.compare)] if cfg.get("compare") else [])
    for key, path in zip(("checkpoint", "compare"), paths):
        try:
            file_format(path)
        except FileNotFoundError as err:
            raise FileNotFoundError(f"{key}={path}: {err}") from None
    calibration = cfg.calibration
    if not (calibration.get("records") or calibration.get("annotations") or calibration.get("images")):
        raise UserError("quant_debug needs the INT8 calibration images: calibration.images=<dir or glob>, "
                        "calibration.annotations=<json> with calibration.images=<dir>, or calibration.records=<glob> "
                        "(the export's keys: pass what the export was given)")
    if cfg.rank_by not in quant_debug.RANK_KEYS:
        raise UserError(f"rank_by={cfg.rank_by}: expected one of {', '.join(quant_debug.RANK_KEYS)}")
    top = COUNT.check(cfg.top, "top")
    labels = labels_of(cfg, paths)
    output = os.path.abspath(cfg.output)
    check_output(output, cfg.overwrite)  # before the slow part

    import tf_keras

    from movenet_train.atomic import staging_folder
    from movenet_train.checkpoints import sha256_of
    from movenet_train.export.tflite import check_int8_options
    from movenet_train.runtime import load_keras

    float_parts = list(cfg.int8.float_parts)
    reports, calibration_names = {}, {}
    with staging_folder(output, cfg.overwrite) as staging:
        for label, path in zip(labels, paths):
            model, spec = load_keras(path, config_spec(cfg))
            check_compatible(path, spec, config_schema(cfg))
            images, names = calibration_images(calibration, spec.input_size, spec.input_size, schema=spec.schema)
            check_int8_options(images, float_parts)
            print(f"{label}: {path} ({spec.name}, {spec.input_size} px), {len(names)} calibration images", flush=True)
            report = quant_debug.analyse(model, spec, images, float_parts, staging, label)
            report.update({"checkpoint": os.path.abspath(path), "model": spec.name, "input_size": spec.input_size,
                           "checkpoint_sha256": sha256_of(path), "num_layers": len(report["layers"])})
            reports[label], calibration_names[label] = report, names
            del model
            tf_keras.backend.clear_session()
        compared = None
        if len(reports) == 2:
            a, b = (reports[label]["layers"] for label in labels)
            compared = (tuple(labels), quant_debug.comparison(a, b, cfg.rank_by, top))
        first = calibration_names[labels[0]]
        result = {"models": reports, "int8_float_parts": float_parts, "rank_by": cfg.rank_by,
                  "calibration": {"num_images": len(first), "images": first,
                                  **({k: calibration.get(k) for k in ("records", "annotations", "images")})},
                  "comparison": {"a": labels[0], "b": labels[1], "layers": compared[1]} if compared else None,
                  "worst": {label: [r["index"] for r in quant_debug.ranked(rep["layers"], cfg.rank_by, top)]
                            for label, rep in reports.items()},
                  "files": {"table": TABLE_FILE, "plot": PLOT_FILE if cfg.plot else None}}
        quant_debug.rows_csv(os.path.join(staging, TABLE_FILE), reports)
        with open(os.path.join(staging, REPORT_FILE), "w") as f:
            json.dump(_without_nan(result), f, indent=1)
        if cfg.plot:
            quant_debug.figure(reports).savefig(os.path.join(staging, PLOT_FILE))
    print(quant_debug.format_report(reports, cfg.rank_by, top, compared))
    print(f"wrote {output}/{TABLE_FILE}, {REPORT_FILE}" + (f", {PLOT_FILE}" if cfg.plot else ""))
    return result


def _without_nan(value):
    """``value`` with NaN as null (a figure that does not apply, such as the weight spread of an ADD), for strict
    JSON readers."""
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_nan(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

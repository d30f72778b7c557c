"""The ``python export/export.py`` job: load the checkpoint, pick calibration images, export, print the report."""

import dataclasses
import os

from movenet_train.atomic import check_output
from movenet_train.config import NON_NEGATIVE_COUNT, config_from
from movenet_train.evaluation.config import EvalOptions
from movenet_train.jobs import launch
from movenet_train.model_files import check_compatible, config_input_size, config_schema, config_spec

CONFIG = "export"


def run(cfg):
    """Exports ``cfg.checkpoint`` as configs/export.yaml describes; returns the report dict.

    With ``+exp``, the variant is checked against the checkpoint; the model is the checkpoint's own (its schema,
    and quantisation-aware for a ``train.qat`` run: ``checkpoints.restored_spec``)."""
    from movenet_train.checkpoints import sha256_of
    from movenet_train.export.calibration import calibration_images
    from movenet_train.export.exporter import check_formats, export_model
    from movenet_train.runtime import load_keras

    orientation = cfg.get("orientation", "upright")
    input_size = config_input_size(cfg)  # the files' signature size; null: the size the checkpoint was trained at
    formats = check_formats(cfg.formats, orientation)
    latency = cfg.get("latency") or {}
    latency_runs = NON_NEGATIVE_COUNT.check(latency.get("runs", 30), "latency.runs")
    latency_warmup = NON_NEGATIVE_COUNT.check(latency.get("warmup", 3), "latency.warmup")
    output = os.path.abspath(cfg.output)
    check_output(output, cfg.overwrite)  # before the slow part
    model, spec = load_keras(cfg.checkpoint, config_spec(cfg), input_size=input_size)
    check_compatible(cfg.checkpoint, spec, config_schema(cfg))
    eval_options = dataclasses.asdict(config_from(EvalOptions, cfg.eval, "eval")) if cfg.get("eval") else None
    if eval_options:
        from movenet_train.evaluation.protocols import protocol_for

        eval_options["protocol"] = protocol_for(eval_options["protocol"], spec.multi_pose)
    exclude = eval_scored_images(spec, eval_options) if cfg.calibration.exclude_eval_images else []
    images, names = calibration_images(cfg.calibration, spec.input_size, spec.input_size, exclude, schema=spec.schema)
    checkpoint = str(cfg.checkpoint)
    extra = {
        "checkpoint": os.path.abspath(checkpoint),
        "checkpoint_sha256": sha256_of(checkpoint) if os.path.exists(checkpoint) else None,
        "calibration": {"num_images": len(names), "excluded_eval_images": len(exclude), "images": names},
    }
    if eval_options and (eval_options.get("annotations") or eval_options.get("records")):
        extra["eval"] = {k: eval_options.get(k) for k in ("annotations", "records", "protocol", "crop")}
    result = export_model(model, spec, output, formats, images, list(cfg.int8.float_parts), overwrite=cfg.overwrite,
                          eval_options=eval_options, num_threads=cfg.get("num_threads"), extra_report=extra,
                          orientation=orientation, latency_runs=latency_runs, latency_warmup=latency_warmup)
    print(summary(result, output))
    return result


def eval_scored_images(spec, eval_options):
    """File names of the images ``evaluate`` would score with ``eval_options`` (annotation files only)."""
    if not eval_options or not eval_options.get("annotations"):
        return []
    from movenet_train.evaluation import inputs, protocols

    _, samples = inputs.coco_source(eval_options["annotations"], eval_options.get("images"), spec.schema)
    options = {k: eval_options[k] for k in protocols.MULTI_PERSON_OPTIONS if k in eval_options}
    protocol = protocols.build(eval_options.get("protocol", "single_person"), spec,
                               eval_options.get("crop", "none"), eval_options.get("crop_scale", 1.25), **options)
    return [s.image["file_name"] for s in samples if protocol.select(s.annotations)]


def summary(result, output):
    searching = result.get("orientation") == "any"
    lines = [f"MoveNet {result['model']} exported to {output}" + (
        " with orientation=any (quarter-turn search in the graph; compared with the Python search over the Keras "
        "model):" if searching else ":")]
    for fmt, entry in result["files"].items():
        parity = entry.get("parity", {})
        line = f"  {entry['path']:<40} {entry['megabytes']:6.2f} MB"
        if "latency" in entry:
            line += f"  {entry['latency']['median_ms']:7.2f} ms"
        if parity.get("num_poses"):
            line += f"  keypoint diff vs Keras: max {parity['keypoint_max']:.2e} mean {parity['keypoint_mean']:.2e}"
        elif "error" in parity:
            line += f"  NOT RUN: {parity['error']}"
        if "turns" in parity:
            line += f"  same turn {parity['turns']['agree']}/{parity['turns']['num_images']}"
        if "AP" in entry:
            line += f"  AP {entry['AP']['AP']:.3f}"
        lines.append(line)
    if "keras" in result:
        lines.append(f"  Keras model{' + search' if searching else ''} AP {result['keras']['AP']['AP']:.3f}")
    timed = [entry["latency"] for entry in result["files"].values() if "latency" in entry]
    if timed:
        threads = timed[0]["num_threads"]
        lines.append(f"  ms: median of {timed[0]['runs']} LiteRT calls per .tflite file after {timed[0]['warmup']} "
                     f"warm-ups, {threads if threads else 'default'} threads, image in, keypoints out")
    return "\n".join(lines)


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

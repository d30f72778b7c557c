"""The ``python eval/evaluate.py`` job: load the checkpoint, evaluate, print the figures; last line ``AP=``."""

import os

from omegaconf import OmegaConf

from movenet_train.errors import UserError
from movenet_train.evaluation.config import EvalOptions
from movenet_train.jobs import launch

CONFIG = "eval"


def run(cfg):
    """Evaluates ``cfg.checkpoint`` as configs/eval.yaml describes (and ``cfg.compare`` on the same data, with a
    before/after report); returns the metrics dict of ``cfg.checkpoint``."""
    if OmegaConf.is_missing(cfg, "checkpoint"):
        raise UserError("checkpoint=<path> is required: a training or imported checkpoint, a released model.json, "
                        "a .tflite or a SavedModel directory")
    for key, valid in EvalOptions.RANGES.items():  # the eval group's keys sit at this config's top level
        valid.check(cfg[key], key)
    from movenet_train.model_files import config_input_size

    config_input_size(cfg)  # checked before anything loads
    from movenet_train.evaluation import compare

    first = _evaluate(cfg, cfg.checkpoint, cfg.output)
    metrics = first.metrics
    if cfg.get("compare"):
        second = _evaluate(cfg, cfg.compare, os.path.join(cfg.output, "compare") if cfg.output else None,
                           cfg.compare_orientation or cfg.orientation)
        report = compare.build_report({_label("checkpoint", cfg.checkpoint, metrics): metrics,
                                       _label("compare", cfg.compare, second.metrics): second.metrics})
        report["paired"] = compare.paired(first, second, cfg.bootstrap.resamples, cfg.bootstrap.seed)
        print(compare.format_report(report))
        if cfg.output:
            path = compare.write_report(cfg.output, report, f"{metrics['protocol']}: {_name(cfg.checkpoint)} vs "
                                        f"{_name(cfg.compare)}")
            print(f"comparison written to {path} and {os.path.splitext(path)[0]}.png")
    print(f"AP={metrics['AP']:.4f}")
    return metrics


def _label(role, checkpoint, metrics):
    label = f"{role} {_name(checkpoint)}"
    return label + " (any)" if metrics["orientation"] == "any" else label


def _name(checkpoint):
    return os.path.basename(os.path.normpath(str(checkpoint)))


def _evaluate(cfg, checkpoint, output, orientation=None):
    from movenet_train.evaluation import protocols
    from movenet_train.evaluation.evaluator import run_evaluation
    from movenet_train.model_files import check_compatible, config_input_size, config_schema, config_spec
    from movenet_train.runtime import load_predictor

    predictor = load_predictor(checkpoint, config_spec(cfg), num_threads=cfg.num_threads,
                               orientation=orientation or cfg.orientation, input_size=config_input_size(cfg))
    check_compatible(checkpoint, predictor, config_schema(cfg))
    protocol = protocols.protocol_for(cfg.protocol, predictor.multi_pose)
    evaluation = run_evaluation(
        predictor,
        annotations=cfg.annotations,
        images=cfg.images,
        records=cfg.records,
        protocol=protocol,
        crop=cfg.crop,
        crop_scale=cfg.crop_scale,
        output_dir=output,
        checkpoint=checkpoint,
        batch_size=cfg.batch_size,
        max_images=cfg.max_images,
        progress=cfg.progress,
        long_side=cfg.long_side,
        multiple=cfg.multiple,
        score_threshold=cfg.score_threshold,
        orientation_slices=cfg.get("orientation_slices", True),
    )
    metrics = evaluation.metrics
    print(f"{checkpoint} ({predictor.kind}), protocol={protocol}: AP {metrics['AP']:.4f} on "
          f"{metrics['num_images']} images, {metrics['num_people']} people ({metrics['num_detections']} poses)")
    print("  ".join(f"{k} {metrics[k]:.3f}" for k in ("AP50", "AP75", "APm", "APl", "AR")))
    if output:
        print(f"results written to {output}")
    return evaluation


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

"""The ``python eval/evaluate.py`` job: load the checkpoint, evaluate, print the figures; last line ``AP=``."""

from omegaconf import OmegaConf

from movenet_train.evaluation.evaluator import evaluate
from movenet_train.runtime import check_config_schema, config_spec, load_predictor


def run(cfg):
    """Evaluates ``cfg.checkpoint`` as configs/eval.yaml describes; returns the metrics dict."""
    if OmegaConf.is_missing(cfg, "checkpoint"):
        raise ValueError("checkpoint=<path> is required: a training or imported checkpoint, a released model.json, "
                         "a .tflite or a SavedModel directory")
    predictor = load_predictor(cfg.checkpoint, config_spec(cfg), num_threads=cfg.num_threads)
    check_config_schema(cfg, predictor.schema, cfg.checkpoint)
    protocol = cfg.protocol or ("multi_person" if predictor.multi_pose else "single_person")
    metrics = evaluate(
        predictor,
        annotations=cfg.annotations,
        images=cfg.images,
        records=cfg.records,
        protocol=protocol,
        crop=cfg.crop,
        crop_scale=cfg.crop_scale,
        output_dir=cfg.output,
        checkpoint=cfg.checkpoint,
        batch_size=cfg.batch_size,
        max_images=cfg.max_images,
        progress=cfg.progress,
        long_side=cfg.long_side,
        multiple=cfg.multiple,
        score_threshold=cfg.score_threshold,
    )
    print(f"{cfg.checkpoint} ({predictor.kind}), protocol={protocol}: {metrics['num_images']} images, "
          f"{metrics['num_people']} people")
    print("  ".join(f"{k} {metrics[k]:.3f}" for k in ("AP50", "AP75", "APm", "APl", "AR")))
    if cfg.output:
        print(f"results written to {cfg.output}")
    print(f"AP={metrics['AP']:.4f}")
    return metrics

"""``python -m movenet_train.audit checkpoint=<model> records=<glob>``: where a model and the training objective
disagree (movenet_train/diagnostics/); writes ``audit.json`` and prints a table."""

import json
import os

from movenet_train.atomic import atomic_path
from movenet_train.config import config_from
from movenet_train.errors import UserError
from movenet_train.jobs import launch
from movenet_train.training.config import LossConfig

CONFIG = "audit"


def run(cfg):
    """The report of ``cfg.checkpoint`` on ``cfg.records``."""
    from movenet_train.diagnostics import audit, format_report
    from movenet_train.runtime import load_keras

    loss_config = config_from(LossConfig, cfg.loss, "loss")
    model, spec = load_keras(str(cfg.checkpoint))
    if spec.multi_pose:
        raise UserError(f"checkpoint={cfg.checkpoint}: the audit frames one target person per example "
                        "(single-pose models only)")
    report = audit(model, spec, cfg.data, str(cfg.records), cfg.batch_size, cfg.max_batches, loss_config,
                   tuple(cfg.framings), cfg.signed_step, cfg.held_out_records)
    report["checkpoint"] = str(cfg.checkpoint)
    os.makedirs(cfg.output, exist_ok=True)
    path = os.path.join(cfg.output, "audit.json")
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(report, f, indent=1)
    print(format_report(report))
    print(f"wrote {path}")
    return report


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

"""``python experiments/rotation_finetune.py [output=DIR] [held_out_images=10] [train_overrides=[...]]``: released
Lightning vs fine-tuned on upright + quarter-turned images, held-out AP upright and turned
(movenet_train/experiments/rotation.py, configs/rotation_finetune.yaml)."""

import json

from movenet_train.jobs import launch

CONFIG = "rotation_finetune"


def run(cfg):
    from movenet_train.evaluation import compare
    from movenet_train.experiments import folds, rotation

    report = rotation.run(cfg)
    if "headline" not in report:  # held_out_images=0: trained on every image, nothing to score
        print(f"trained on all {report['split']['num_train_images']} images; model: {report['model']}")
        return report
    print(compare.format_report(report))
    print(folds.format_paired(report))
    print(json.dumps(report["headline"]))
    return report


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

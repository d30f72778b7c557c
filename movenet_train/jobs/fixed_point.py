"""``python experiments/fixed_point.py [output=DIR] [train_overrides=[...]]``: released Lightning vs fine-tuned on
the upright COCO-sample training split, single_person AP on held-out and training images
(movenet_train/experiments/fixed_point.py, configs/fixed_point.yaml)."""

import json

from movenet_train.jobs import launch

CONFIG = "fixed_point"


def run(cfg):
    from movenet_train.evaluation import compare
    from movenet_train.experiments import fixed_point, folds

    report = fixed_point.run(cfg)
    print(compare.format_report(report))
    print(folds.format_paired(report))
    print(json.dumps(report["headline"]))
    return report


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

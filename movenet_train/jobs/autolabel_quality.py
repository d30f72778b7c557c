"""``python experiments/autolabel_quality.py [output=DIR]``: autolabel's people=multi labels of the COCO sample
scored against its hand labels, per labeller and transform set, with paired intervals
(movenet_train/experiments/autolabel_quality.py, configs/autolabel_quality.yaml)."""

from movenet_train.jobs import launch

CONFIG = "autolabel_quality"


def run(cfg):
    from movenet_train.experiments import autolabel_quality

    report = autolabel_quality.run(cfg)
    print(autolabel_quality.format_report(report))
    return report


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

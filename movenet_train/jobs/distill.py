"""``python experiments/distill.py [folds=5] [protocol=every_person] [output=DIR]``: released Thunder teaches
Lightning, cross-validated on the COCO sample (movenet_train/experiments/distill.py, configs/distill.yaml)."""

import json

from movenet_train.jobs import launch

CONFIG = "distill"


def run(cfg):
    from movenet_train.evaluation import compare
    from movenet_train.experiments import distill

    report = distill.run(cfg)
    if "folds_done" in report:
        print(f"folds {report['folds_done']} done; run again without only_folds to pool every fold")
        return report
    print(compare.format_report(report))
    print(distill.format_changes(report))
    print(json.dumps({**report["headline"], **report["this_call"]}))
    return report


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

"""``python experiments/rotation_finetune.py [output=DIR] [held_out_images=10] [train_overrides=[...]]``: released
Lightning vs fine-tuned on upright + quarter-turned images, held-out AP upright and turned
(movenet_train/experiments/rotation.py, configs/rotation_finetune.yaml)."""

import json

from movenet_train.experiments import rotation
from movenet_train.jobs import launch

CONFIG = "rotation_finetune"


def run(cfg):
    report = rotation.run(cfg)
    for label, entry in report["entries"].items():
        slices = "  ".join(f"{k} {v['AP']:.3f} ({v['num_images']})" for k, v in entry["slices"].items())
        print(f"{label:20s} AP {entry['AP']:.3f} on {entry['num_images']} images   {slices}")
    print(json.dumps(report["headline"]))
    return report


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

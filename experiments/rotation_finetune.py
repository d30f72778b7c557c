"""Rotation fine-tuning experiment: released Lightning vs fine-tuned on upright + quarter-turned images.

    python experiments/rotation_finetune.py [output=DIR] [train_overrides='[exp=rotation_finetune,train.steps=300]']

Prints the held-out single_person AP of both models, upright and turned; see configs/rotation_finetune.yaml and
movenet_train/experiments/rotation.py.
"""

import json
import os
import sys

import hydra
from omegaconf import DictConfig

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout


@hydra.main(version_base="1.3", config_path="../configs", config_name="rotation_finetune")
def main(cfg: DictConfig):
    from movenet_train.experiments.rotation import run

    try:
        report = run(cfg)
    except (FileNotFoundError, ValueError) as err:  # bad input: one line, no traceback
        sys.exit(f"error: {err}")
    for label, entry in report["entries"].items():
        slices = "  ".join(f"{k} {v['AP']:.3f} ({v['num_images']})" for k, v in entry["slices"].items())
        print(f"{label:20s} AP {entry['AP']:.3f} on {entry['num_images']} images   {slices}")
    print(json.dumps(report["headline"]))


if __name__ == "__main__":
    main()

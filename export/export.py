"""Export MoveNet to SavedModel, TFLite FP32/FP16/INT8 (and TF.js): ``python export/export.py +exp=lightning
checkpoint=PATH output=DIR`` (see configs/export.yaml and the README)."""

import sys

import hydra
from omegaconf import DictConfig

from movenet_train.cli import accept_both_experiment_forms


@hydra.main(version_base="1.3", config_path="../configs", config_name="export")
def main(cfg: DictConfig):
    from movenet_train.export import run

    try:
        run(cfg)
    except (FileNotFoundError, FileExistsError, ValueError) as err:  # bad input: one line, no traceback
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    accept_both_experiment_forms()
    main()

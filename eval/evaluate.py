"""COCO keypoint AP of any MoveNet file: ``python eval/evaluate.py +exp=thunder checkpoint=PATH annotations=JSON
images=DIR protocol=single_person output=DIR`` (see configs/eval.yaml and the README)."""

import sys

import hydra
from omegaconf import DictConfig

from movenet_train.cli import accept_both_experiment_forms


@hydra.main(version_base="1.3", config_path="../configs", config_name="eval")
def main(cfg: DictConfig):
    from movenet_train.evaluation import run

    try:
        run(cfg)
    except (FileNotFoundError, ValueError) as err:  # bad input: one line, no traceback
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    accept_both_experiment_forms()
    main()

"""Train MoveNet: ``python train.py +exp=thunder`` (see README)."""

import sys

import hydra
from omegaconf import DictConfig

from movenet_train.cli import accept_both_experiment_forms


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig):
    from movenet_train.training import TrainingDiverged, train

    try:
        return train(cfg)
    except TrainingDiverged as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    accept_both_experiment_forms()
    main()

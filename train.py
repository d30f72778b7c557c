"""Train MoveNet: ``python train.py +exp=thunder`` (see README)."""

import hydra
from omegaconf import DictConfig

from movenet_train.cli import accept_both_experiment_forms


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig):
    from movenet_train.training import train

    return train(cfg)


if __name__ == "__main__":
    accept_both_experiment_forms()
    main()

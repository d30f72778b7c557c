"""``python -m movenet_train.pretrained source=<released file> output=<dir>``: import into a checkpoint."""

import os

import hydra
from omegaconf import DictConfig

from movenet_train.cli import accept_both_experiment_forms

CONFIG_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "configs")


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="import_weights")
def main(cfg: DictConfig):
    from movenet_train.pretrained.importer import import_to_checkpoint

    import_to_checkpoint(cfg)


if __name__ == "__main__":
    accept_both_experiment_forms()
    main()

"""``python -m movenet_train.predict checkpoint=<model> input=<image|folder|video|GIF> output=<dir>``.

Writes keypoints.json and the annotated media; see configs/predict.yaml for the options.
"""

import os

import hydra
from omegaconf import DictConfig

from movenet_train.cli import accept_both_experiment_forms

CONFIG_PATH = os.path.join(os.path.dirname(__file__), "..", "configs")


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="predict")
def main(cfg: DictConfig):
    from movenet_train.tracking.annotate import predict

    predict(cfg)


if __name__ == "__main__":
    accept_both_experiment_forms()
    main()

"""Fixtures of the end-to-end training tests."""

import pytest
from hydra import compose, initialize_config_dir

from tests.helpers import REPO


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    """A handful of synthetic images, generated once for the module."""
    from movenet_train.data import ensure_synthetic_dataset
    from movenet_train.keypoints import KeypointSchema

    root = tmp_path_factory.mktemp("synthetic") / "data"
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=["data=synthetic", f"data.root={root}", "data.num_train_images=8",
                                          "data.num_val_images=4"])
    ensure_synthetic_dataset(cfg.data, progress=False, schema=KeypointSchema.from_config(cfg.keypoints))
    return root

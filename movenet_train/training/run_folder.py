"""The run-folder check: a run folder resumes only with the model it was started with."""

import os

from omegaconf import OmegaConf

from movenet_train import model_files
from movenet_train.errors import UserError


def check_run_model(run_dir, spec, qat=False):
    """A run folder resumes only with the model (variant, keypoint schema, float or quantisation-aware) it was
    started with."""
    config = os.path.join(run_dir, model_files.TRAIN_CONFIG_FILE)
    model_files.check_compatible(
        f"run folder {run_dir}", model_files.describe(run_dir), spec,
        fix=f"resume it with the model and keypoints it was started with ({config}), or pass another run_name= "
            "to start a new run")
    if os.path.isfile(config) and bool(OmegaConf.select(OmegaConf.load(config), "train.qat", default=False)) != qat:
        kind = "quantisation-aware" if not qat else "float"
        raise UserError(f"run folder {run_dir} holds a {kind} run ({config}): resume it with train.qat="
                        f"{str(not qat).lower()}, or start a new run (run_name=) from checkpoint=<that run>")

"""The import job (``python -m movenet_train.pretrained``): a released file in, a checkpoint out, or a clear error."""

import pytest
from hydra import compose, initialize

from movenet_train import model_files
from movenet_train.jobs.import_weights import run as import_to_checkpoint
from movenet_train.model_files import IncompatibleModelError
from tests.helpers import TFJS, require_shared


def _config(*overrides):
    with initialize(version_base="1.3", config_path="../../configs"):
        return compose("import_weights", overrides=list(overrides))


def test_import_writes_a_checkpoint_of_the_files_variant(tmp_path):
    require_shared(TFJS["lightning"])
    out = import_to_checkpoint(_config(f"source={TFJS['lightning']}", f"output={tmp_path / 'ckpt'}"))
    found = model_files.describe(out)
    assert (found.spec.name, found.spec.alpha, found.schema.name) == ("lightning", 1.0, "coco17")
    with pytest.raises(IncompatibleModelError, match=r"holds MoveNet lightning .* asks for MoveNet thunder .*: pass "
                                                     r"\+exp=lightning"):
        import_to_checkpoint(_config(f"source={TFJS['lightning']}", f"output={tmp_path / 'x'}", "exp=thunder"))
    with pytest.raises(IncompatibleModelError, match=r"predicts the keypoint schema 'coco17' .* asks for the keypoint "
                                                     r"schema 'body13' .*: leave keypoints= out"):
        import_to_checkpoint(_config(f"source={TFJS['lightning']}", f"output={tmp_path / 'y'}", "keypoints=body13"))

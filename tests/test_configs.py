"""Config composition, as lightning-hydra-template tests it: hydra.initialize + compose."""

import subprocess
import sys

import pytest
from hydra import compose, initialize
from hydra.errors import ConfigCompositionException

from movenet_train.jobs import accept_both_experiment_forms
from movenet_train.modeling import MoveNetSpec
from tests.helpers import REPO


@pytest.mark.parametrize("variant,alpha,size", [("lightning", 1.0, 192), ("thunder", 1.75, 256),
                                                ("multipose_lightning", 1.5, 256)])
def test_experiments_compose(variant, alpha, size):
    with initialize(version_base="1.3", config_path="../configs"):
        cfg = compose("train", overrides=[f"exp={variant}"])
    spec = MoveNetSpec.from_config(cfg.model)
    assert (spec.name, spec.alpha, spec.input_size) == (variant, alpha, size)
    assert spec.multi_pose == (variant == "multipose_lightning")


def test_plus_form_is_rewritten():
    assert accept_both_experiment_forms(["train.py", "+exp=thunder", "+foo=1"]) == ["train.py", "exp=thunder", "+foo=1"]


def test_bad_overrides_fail_with_hydra_messages():
    with initialize(version_base="1.3", config_path="../configs"):
        with pytest.raises(ConfigCompositionException):
            compose("train", overrides=["exp=nonexistent"])
        with pytest.raises(ConfigCompositionException):
            compose("train", overrides=["model.alhpa=2"])


# The + form in the fast suite (the rewrite itself is unit-tested above); both end to end with the slow checks.
@pytest.mark.parametrize("form", ["+exp=thunder", pytest.param("exp=thunder", marks=pytest.mark.slow)])
def test_train_prints_composed_config(form):
    result = subprocess.run([sys.executable, "train.py", form, "--cfg", "job"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "name: thunder" in result.stdout and "alpha: 1.75" in result.stdout


def test_bad_override_on_the_command_line_is_short():
    result = subprocess.run([sys.executable, "train.py", "+exp=thundr"], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert "Could not find 'exp/thundr'" in result.stderr
    assert "Traceback" not in result.stderr


def test_qat_schedule_is_the_finetune_schedule_label_free_and_gentler():
    with initialize(version_base="1.3", config_path="../configs"):
        finetune = compose("train", overrides=["exp=lightning", "data=coco", "train/schedule@train=finetune"]).train
        qat = compose("train", overrides=["exp=lightning", "data=coco", "train/schedule@train=qat"]).train
    assert qat.qat and not finetune.qat
    assert qat.optimizer.learning_rate == pytest.approx(finetune.optimizer.learning_rate / 3)
    assert qat.steps == finetune.steps // 2
    assert (qat.distill.ground_truth_weight, qat.teacher, qat.freeze_batch_norm) == (0.0, "initial", True)
    assert (finetune.distill.weight, qat.distill.weight) == (1.0, 3.0)  # QAT's figures were measured at 3
    for key in ("batch_size", "ema_decay", "optimizer.warmup_steps", "freeze_batch_norm"):
        node_q, node_f = qat, finetune
        for part in key.split("."):
            node_q, node_f = node_q[part], node_f[part]
        assert node_q == node_f, key

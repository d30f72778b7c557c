"""Teacher-guided training (``train.teacher``): the teacher's outputs join the loss, in inference mode."""

from types import SimpleNamespace

import pytest
import tensorflow as tf
from hydra import compose, initialize_config_dir

from movenet_train.keypoints import COCO_17
from tests.helpers import COCO_SAMPLE, REPO, TFJS, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"


def _config(tmp_path, records, *overrides):
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        return compose("train", overrides=[
            "exp=lightning", "data=coco", f"data.train_records={records}/train-*.tfrecord",
            f"data.val_records={records}/train-*.tfrecord", f"data.val_annotations={SAMPLE_JSON}",
            f"data.val_images={COCO_SAMPLE / 'images'}", f"output_dir={tmp_path / 'run'}", "train.batch_size=4",
            "train.steps_per_loop=1", "train.progress_bar=false", "data/augment=none", *overrides])


@pytest.mark.slow
def test_initial_teacher_is_the_starting_function(tmp_path):
    """With BatchNorm frozen the student's training-mode outputs are its inference outputs, so on the first step
    the student is its teacher (the released weights): every distillation term is ~0 while the ground-truth terms
    are not; once the weights move, the distillation terms do too."""
    require_shared(TFJS["lightning"], SAMPLE_JSON)
    from movenet_train.data.convert import convert_coco
    from movenet_train.training import build_training_run

    records = tmp_path / "records"
    convert_coco(str(SAMPLE_JSON), str(COCO_SAMPLE / "images"), str(records), split="train", num_shards=1,
                 num_workers=0, progress=False, schema=COCO_17)
    cfg = _config(tmp_path, records, f"checkpoint={TFJS['lightning']}", "train.teacher=initial",
                  "train.freeze_batch_norm=true", "train.optimizer.learning_rate=1e-4", "train.optimizer.warmup_steps=0")
    run = build_training_run(cfg)
    first = {k: float(v) for k, v in run.trainer.train(tf.constant(1)).items()}
    assert first["loss/distill/total"] < 1e-3, first
    assert first["loss/total"] > 0.1, first  # the ground truth disagrees with the released model; the teacher does not
    later = {k: float(v) for k, v in run.trainer.train(tf.constant(2)).items()}
    assert later["loss/distill/total"] > 10 * first["loss/distill/total"], (first, later)


@pytest.mark.slow
def test_teacher_of_another_schema_is_a_clear_error():
    require_shared(TFJS["lightning"])
    from omegaconf import OmegaConf

    from movenet_train.keypoints import load_schema
    from movenet_train.model_files import IncompatibleModelError
    from movenet_train.modeling import MoveNetSpec
    from movenet_train.training.teacher import load_teacher

    body13 = MoveNetSpec("lightning", 1.0, 192, keypoints=load_schema(REPO / "configs" / "keypoints" / "body13.yaml"))
    train_cfg = SimpleNamespace(teacher=str(TFJS["lightning"]))  # the schema check comes before any other key
    with pytest.raises(IncompatibleModelError, match="train.teacher must predict the student's keypoint schema"):
        load_teacher(OmegaConf.create({}), train_cfg, body13, tf.distribute.get_strategy())

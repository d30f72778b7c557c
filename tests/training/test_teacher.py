"""Teacher-guided training (``train.teacher``): the teacher's outputs join the loss, in inference mode."""

from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf
from hydra import compose, initialize_config_dir

from movenet_train.keypoints import COCO_17
from tests.helpers import COCO_SAMPLE, REPO, SHARED, TFJS, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"
VIDEO = SHARED / "data" / "video_sample" / "pose_squats.mp4"


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
    # A resumed run rebuilds the same teacher: the initial weights, not the checkpoint's.
    teacher = [v.numpy() for v in run.trainer.teacher.weights]
    run.controller.checkpoint_manager.save(checkpoint_number=run.step)
    resumed = build_training_run(cfg)
    assert resumed.step == 3
    for before, after in zip(teacher, resumed.trainer.teacher.weights):
        np.testing.assert_allclose(after.numpy(), before, rtol=1e-5, atol=1e-6)
    moved = [v.numpy() for v in resumed.model.trainable_variables]
    assert max(float(np.abs(m - t).max()) for m, t in zip(moved, (v.numpy() for v in run.model.trainable_variables))) == 0


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


def _label_free_first_step(tmp_path, view, images):
    """(Largest weight gradient, mean keypoint move in pixels of the student on ``images``, losses) of one label-free
    step: released Lightning teaching itself on unlabeled video frames with the full default augmentation (tilts,
    zoom, mirror, colour, blur, occlusion), with the optimizer the finetune schedule ships (AdamW: its learning
    rate, weight decay, epsilon and EMA) without its warm-up (the first step would not move) and without its
    gradient clipping, so that AdamW's first moment holds the gradient unscaled: 0.1 of it after one step."""
    from movenet_train.data.convert import convert_coco
    from movenet_train.runtime import KerasPredictor
    from movenet_train.training import build_training_run

    records = tmp_path / "records"
    if not records.exists():
        convert_coco(str(SAMPLE_JSON), str(COCO_SAMPLE / "images"), str(records), split="train", num_shards=1,
                     num_workers=0, progress=False, schema=COCO_17)
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=[
            "exp=lightning", "data=coco", "train/schedule@train=finetune", f"checkpoint={TFJS['lightning']}",
            "data.train_records=/nothing/train-*.tfrecord", f"data.val_records={records}/train-*.tfrecord",
            f"+data.sources.video.media={VIDEO}", "+data.sources.video.frame_step=10", "+data.sources.video.weight=1",
            f"output_dir={tmp_path / view}", "train.batch_size=4", "train.steps_per_loop=1", "train.progress_bar=false",
            # a clip no gradient reaches (null fails inside official's AdamW, which compares it with 0.0)
            "train.optimizer.warmup_steps=0", "train.optimizer.gradient_clip_norm=1e9", f"train.distill.view={view}"])
    assert cfg.train.optimizer.type == "adamw"  # what the finetune schedule ships
    run = build_training_run(cfg)
    student = KerasPredictor(run.model, run.spec)
    before = student(images)
    losses = {k: float(v) for k, v in run.trainer.train(tf.constant(1)).items()}
    adamw = run.optimizer._optimizer  # inside the EMA wrapper (train.ema_decay)
    beta_1 = float(adamw._get_hyper("beta_1"))
    gradient = max(float(tf.reduce_max(tf.abs(adamw.get_slot(v, "m")))) for v in run.model.trainable_variables)
    moved = float(np.abs(student(images)[..., :2] - before[..., :2]).mean()) * run.spec.input_size
    return gradient / (1 - beta_1), moved, losses


@pytest.mark.slow
def test_label_free_self_teaching_does_not_drift(tmp_path, single_person_images):
    """The distillation path alone barely pulls a model that already is its teacher: with the upright view the
    teacher sees exactly the student's augmented input (no quarter turns here), so what is left is the rounding
    between the compiled student graph (kept for backprop) and the teacher's (fused), which differs by CPU; the
    terms' gradients vanish with the gap (KL, Huber), so its gradient is ~1e5 times smaller than that of carrying
    the teacher's maps through the augmentation (``unaugmented``), which MoveNet, not equivariant to shifts, zooms
    and tilts, does not reproduce, and whose one AdamW step moves keypoints by pixels (2 px on average over the 16
    single-person images; the largest gradient 532, the upright view's exactly 0 on a 2-core VM with AVX-512).

    The pull is read from what AdamW is given (its first moment), not from the step it takes: Adam scales every
    weight's step to about the learning rate whatever the gradient's size, so on a CPU where the two graphs round
    apart (0.02 measured once; exactly 0 on a 2-core VM with AVX-512) the upright view's step is no smaller than
    the other's. A rounding-sized gap (the teacher's logits times 1 +- 1e-6) moved keypoints by 6 px in one step
    at the shipped learning rate; the shipped schedules warm up from 0, and the ground-truth terms pull too."""
    require_shared(TFJS["lightning"], SAMPLE_JSON, VIDEO)
    from movenet_train.preprocessing import load_rgb, model_input

    images = np.stack([model_input(load_rgb(COCO_SAMPLE / "images" / name), 192, 192)
                       for name in single_person_images])
    upright, _, upright_losses = _label_free_first_step(tmp_path, "upright", images)
    carried, carried_moved, carried_losses = _label_free_first_step(tmp_path, "unaugmented", images)
    print(f"\nlabel-free step, largest gradient: upright {upright:.3g}, unaugmented {carried:.3g}; the unaugmented "
          f"view's AdamW step moved keypoints by {carried_moved:.2f} px")
    assert upright_losses["loss/distill/total"] < 1e-6, upright_losses
    assert carried_losses["loss/distill/total"] > 0.1, carried_losses
    assert carried > 1.0 and upright < 1e-3 * carried, (upright, carried)
    assert carried_moved > 0.5, carried_moved  # pixels of the 192-pixel input, mean over joints and images (2.0)

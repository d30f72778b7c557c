"""End-to-end training: Lightning learns a handful of synthetic images. Resuming after SIGKILL and SIGTERM is in
test_train_interrupted.py, mirrored, multi-worker and tf.data service training in test_train_distributed.py (files
of their own so that pytest-xdist's workers share them out)."""

import json

import numpy as np
import pytest
import tensorflow as tf
from hydra import compose, initialize_config_dir

from movenet_train.preprocessing import letterbox, load_rgb, unletterbox
from movenet_train.runtime import load_predictor
from tests.helpers import REPO
from tests.training.synthetic_runs import run_overrides, scalars


@pytest.mark.slow
def test_lightning_learns_a_handful_of_synthetic_images(synthetic_root, tmp_path):
    from movenet_train.training import train

    run_dir = tmp_path / "run"
    overrides = run_overrides(synthetic_root, run_dir, steps=300, batch_size=8, steps_per_loop=25,
                           checkpoint_every=300, ema_decay="null", **{"optimizer.learning_rate": 3e-3,
                                                                     "optimizer.warmup_steps": 20})
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=overrides + ["data/augment=none"])
    train(cfg)
    losses = scalars(run_dir / "tensorboard" / "train", "loss/total")
    assert losses[-1][0] == 300
    assert losses[-1][1] < 0.25 * losses[0][1], losses

    # Decode the trained model on the training images: keypoints within a few pixels of their labels.
    with open(synthetic_root / "train" / "annotations.json") as f:
        coco = json.load(f)
    predictor = load_predictor(run_dir)
    errors = []
    for image_info in coco["images"]:
        people = [a for a in coco["annotations"] if a["image_id"] == image_info["id"] and a["num_keypoints"]]
        image = load_rgb(synthetic_root / "train" / "images" / image_info["file_name"])
        out = predictor(tf.cast(letterbox(image[None], 192, 192), tf.uint8).numpy())[0, 0]
        yx = unletterbox(out[:, :2], image.shape[0], image.shape[1], 192, 192)
        # The labelled person nearest the prediction (images can hold extra people).
        label = min((np.array(a["keypoints"], float).reshape(17, 3) for a in people),
                    key=lambda k: np.abs(k[:, [1, 0]] - yx)[k[:, 2] > 0].mean())
        visible = label[:, 2] > 0
        errors.append(np.linalg.norm(label[visible][:, [1, 0]] - yx[visible], axis=1))
    errors = np.concatenate(errors)
    assert np.median(errors) < 4.0, f"median keypoint error {np.median(errors):.1f} px"

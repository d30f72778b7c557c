"""Initialisation: partial loads, BatchNorm recalibration of imported weights, the imagenet error."""

import numpy as np
import pytest
import tensorflow as tf

from movenet_train.modeling import MoveNetSpec, build_model
from movenet_train.pretrained import import_released
from movenet_train.training.init import copy_matching_weights, initialize_model, recalibrate_batch_norm
from tests.helpers import TFJS, require_shared


def test_partial_load_reports_heads_of_another_size():
    source = build_model(MoveNetSpec("lightning", 1.0, 192))
    target = build_model(MoveNetSpec("lightning_20", 1.0, 192, num_keypoints=20))
    loaded, skipped = copy_matching_weights(source, target)
    assert "block_16_project" in loaded and "center_0" in loaded
    assert {s.split(" ")[0] for s in skipped} == {"kpt_heatmap_0", "kpt_regress_0", "kpt_offset_0"}
    np.testing.assert_array_equal(target.get_layer("Conv1").kernel.numpy(), source.get_layer("Conv1").kernel.numpy())


def test_recalibrated_batch_norm_keeps_inference_and_matches_batch_statistics():
    require_shared(TFJS["lightning"])
    model, _ = import_released(TFJS["lightning"])
    images = tf.random.stateless_uniform([4, 192, 192, 3], seed=[1, 2], maxval=255.0)
    before = model(images, training=False)
    recalibrate_batch_norm(model, images)
    after = model(images, training=False)
    for key in before:
        np.testing.assert_allclose(after[key].numpy(), before[key].numpy(), atol=2e-3, rtol=1e-3)
    # Training-mode BatchNorm (batch statistics) now computes (nearly) the same function.
    train_mode = model(images, training=True)
    err = np.abs(train_mode["keypoint_heatmap"].numpy() - before["keypoint_heatmap"].numpy()).mean()
    assert err < 0.05


def test_imagenet_without_weights_for_the_width_is_a_clear_error():
    spec = MoveNetSpec("thunder", 1.75, 256)
    # Keras checks the width before it downloads anything, so this holds offline too.
    with pytest.raises(ValueError, match="no ImageNet MobileNetV2 weights for alpha 1.75"):
        initialize_model(build_model(spec), spec, "imagenet")


def test_imagenet_offline_is_a_clear_error(monkeypatch):
    import tf_keras

    def offline(*args, **kwargs):
        raise OSError("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tf_keras.applications, "MobileNetV2", offline)
    spec = MoveNetSpec("lightning", 1.0, 192)
    with pytest.raises(RuntimeError, match="are you offline"):
        initialize_model(build_model(spec), spec, "imagenet")

"""Initialisation: partial loads, the imagenet error (BatchNorm re-estimation: test_batch_norm.py)."""

import numpy as np
import pytest

from movenet_train.errors import UserError
from movenet_train.modeling import MoveNetSpec, build_model
from movenet_train.training.init import copy_matching_weights, initialize_model


def test_partial_load_reports_heads_of_another_size():
    source = build_model(MoveNetSpec("lightning", 1.0, 192))
    target = build_model(MoveNetSpec("lightning_20", 1.0, 192, num_keypoints=20))
    loaded, skipped = copy_matching_weights(source, target)
    assert "block_16_project" in loaded and "center_0" in loaded
    assert {s.split(" ")[0] for s in skipped} == {"kpt_heatmap_0", "kpt_regress_0", "kpt_offset_0"}
    np.testing.assert_array_equal(target.get_layer("Conv1").kernel.numpy(), source.get_layer("Conv1").kernel.numpy())


def test_imagenet_without_weights_for_the_width_is_a_clear_error():
    spec = MoveNetSpec("thunder", 1.75, 256)
    # Keras checks the width before it downloads anything, so this holds offline too.
    with pytest.raises(UserError, match="no ImageNet MobileNetV2 weights for alpha 1.75"):
        initialize_model(build_model(spec), spec, "imagenet")


def test_imagenet_offline_is_a_clear_error(monkeypatch):
    import tf_keras

    def offline(*args, **kwargs):
        raise OSError("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tf_keras.applications, "MobileNetV2", offline)
    spec = MoveNetSpec("lightning", 1.0, 192)
    with pytest.raises(RuntimeError, match="are you offline"):
        initialize_model(build_model(spec), spec, "imagenet")

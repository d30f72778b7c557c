"""Checkpoint round trips, SavedModel import and the errors a user sees."""

import json

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from movenet_train import checkpoints, runtime
from movenet_train.model_files import IncompatibleModelError
from movenet_train.modeling import MoveNetInference, MoveNetSpec, build_model
from movenet_train.pretrained import import_released
from movenet_train.pretrained.folded import ReleasedGraphError
from tests.helpers import TFJS, require_shared

LIGHTNING = MoveNetSpec("lightning", 1.0, 192)


def _images(size, n=2, seed=0):
    return tf.constant(np.random.default_rng(seed).integers(0, 256, [n, size, size, 3]), tf.int32)


@pytest.mark.slow
def test_imported_checkpoint_round_trip(tmp_path):
    require_shared(TFJS["lightning"])
    model, spec = import_released(TFJS["lightning"])
    out_dir = checkpoints.save_model_checkpoint(model, spec, tmp_path / "imported", {"source": "test"})
    with pytest.raises(FileExistsError):
        checkpoints.save_model_checkpoint(model, spec, out_dir)
    restored, restored_spec = checkpoints.restore_model(out_dir)
    assert restored_spec == spec
    x = _images(192)
    np.testing.assert_array_equal(MoveNetInference(model, spec)(x).numpy(), MoveNetInference(restored, spec)(x).numpy())
    # Every runtime entry point accepts it: checkpoint dir and released file give the same numbers.
    from_dir = runtime.load_predictor(out_dir)(x.numpy())
    from_json = runtime.load_predictor(TFJS["lightning"])(x.numpy())
    np.testing.assert_allclose(from_dir, from_json, atol=1e-6)


def test_imported_batch_norm_is_identity_in_inference_and_trainable():
    require_shared(TFJS["lightning"])
    model, _ = import_released(TFJS["lightning"])
    bn = model.get_layer("block_5_project_BN")
    gamma, beta, mean, var = (w.numpy() for w in bn.weights)
    np.testing.assert_array_equal(gamma, 1.0)
    np.testing.assert_array_equal(mean, 0.0)
    np.testing.assert_allclose(var + bn.epsilon, 1.0)
    assert bn.trainable and np.any(beta != 0)


@pytest.mark.slow
def test_saved_model_import_round_trip(tmp_path):
    """A SavedModel goes through the TFLite converter (which folds BatchNorm) and back into Keras."""
    model = build_model(LIGHTNING)
    # Non-trivial BatchNorm statistics, so that folding is exercised.
    rng = np.random.default_rng(1)
    norms = [layer for layer in model.layers if isinstance(layer, tf_keras.layers.BatchNormalization)]
    assert len(norms) > 50  # every conv of the network has one
    for layer in norms:
        c = layer.gamma.shape[0]
        layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c), rng.normal(0, 0.1, c), rng.uniform(0.5, 2, c)])
    inference = MoveNetInference(model, LIGHTNING)
    path = str(tmp_path / "saved_model")
    tf.saved_model.save(inference, path, signatures=inference.__call__.get_concrete_function(
        tf.TensorSpec([1, 192, 192, 3], tf.int32, name="input")))
    imported, spec = import_released(path)
    assert (spec.alpha, spec.multi_pose) == (1.0, False)
    x = _images(192, n=1)
    expected = model(tf.cast(x, tf.float32))
    got = imported(tf.cast(x, tf.float32))
    for key in expected:
        np.testing.assert_allclose(got[key].numpy(), expected[key].numpy(), atol=2e-3, rtol=1e-3)


def test_wrong_variant_is_a_clear_error(tmp_path):
    require_shared(TFJS["thunder"])
    with pytest.raises(IncompatibleModelError, match=r"holds MoveNet thunder .*: pass \+exp=thunder"):
        import_released(TFJS["thunder"], LIGHTNING)
    thunder_as_192 = MoveNetSpec("lightning_like", 1.75, 192)
    with pytest.raises(IncompatibleModelError, match=r"takes 256x256 input .*: pass model.input_size=256 or "
                                                     r"\+exp=thunder"):
        import_released(TFJS["thunder"], thunder_as_192)


def test_not_a_movenet_file(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps({"format": "layers-model"}))
    with pytest.raises(ReleasedGraphError, match="not a TF.js graph model"):
        import_released(bad)
    with pytest.raises(FileNotFoundError):
        import_released(tmp_path / "missing.tflite")
    with pytest.raises(ReleasedGraphError, match="not a released MoveNet file"):
        import_released(tmp_path)

"""The imported released weights + the project's decoding reproduce Google's outputs (reference_outputs.json)."""

import numpy as np
import pytest
import tensorflow as tf

from movenet_train.modeling import MoveNetInference
from movenet_train.preprocessing import letterbox, load_rgb
from movenet_train.pretrained import import_released
from tests.helpers import COCO_SAMPLE, TFJS, require_shared


def _inputs(file_names, size):
    images = [letterbox(load_rgb(COCO_SAMPLE / "images" / name)[None], size, size) for name in file_names]
    return tf.cast(tf.concat(images, axis=0), tf.int32)  # truncation, as the reference preprocessing


# Lightning in the fast suite; the two larger variants (10 s each) with the end-to-end checks.
@pytest.mark.parametrize("variant", ["lightning", pytest.param("thunder", marks=pytest.mark.slow),
                                     pytest.param("multipose_lightning", marks=pytest.mark.slow)])
def test_imported_tfjs_model_reproduces_reference_outputs(variant, reference_outputs):
    path = TFJS[variant]
    require_shared(path)
    key = f"tfjs_human_models/{path.name}"
    size = reference_outputs["models"][key]
    names = sorted(reference_outputs["images"])
    assert len(names) == 55
    model, spec = import_released(path)
    out = MoveNetInference(model, spec)(_inputs(names, size)).numpy()
    ref = np.array([reference_outputs["images"][n][key] for n in names], np.float32)
    if spec.multi_pose:
        ref, out = ref[:, 0], out  # reference [55, 1, 6, 56]
        kept = ref[..., 55] >= 0.1
        assert kept.sum() >= 55  # people with instance score >= 0.1 across the sample
        ref_k, out_k = ref[kept][:, :51].reshape(-1, 17, 3), out[kept][:, :51].reshape(-1, 17, 3)
        coords = np.abs(ref_k[..., :2] - out_k[..., :2])
        scores = np.abs(ref_k[..., 2] - out_k[..., 2])
        np.testing.assert_allclose(out[kept][:, 51:], ref[kept][:, 51:], atol=1e-3)  # boxes, instance score
    else:
        ref = ref[:, 0]  # reference [55, 1, 1, 17, 3]
        coords = np.abs(ref[..., :2] - out[..., :2])
        scores = np.abs(ref[..., 2] - out[..., 2])
    assert np.mean(coords <= 1e-3) >= 0.99, f"only {np.mean(coords <= 1e-3):.3f} of coordinates within 1e-3"
    assert scores.max() <= 1e-3


def test_imported_int8_tflite_agrees_with_the_file(single_person_images):
    """The float model imported from the int8 file vs that file's int8 inference.

    Int8 activations make the file pick a neighbouring cell or another joint now and then (Google's float
    model disagrees with it as often: see reference_models/README.md), so the bound is on each image's median
    keypoint deviation, and on the mean over the sample.
    """
    from movenet_train.runtime import TFLitePredictor
    from tests.helpers import TFLITE_INT8_LIGHTNING

    require_shared(TFLITE_INT8_LIGHTNING)
    assert len(single_person_images) == 16
    model, spec = import_released(TFLITE_INT8_LIGHTNING)
    assert (spec.name, spec.input_size) == ("lightning", 192)
    inputs = _inputs(single_person_images, 192)
    imported = MoveNetInference(model, spec)(inputs).numpy()
    released = TFLitePredictor(str(TFLITE_INT8_LIGHTNING))(inputs.numpy().astype(np.uint8))
    deviation = np.abs(imported[..., :2] - released[..., :2]).reshape(len(single_person_images), -1)
    assert np.median(deviation, axis=1).max() < 0.03
    assert deviation.mean() < 0.03

"""BatchNorm re-estimation: the function-keeping pass on Google's weights, and classic precise BatchNorm by hand."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from movenet_train.modeling import MoveNetInference
from movenet_train.preprocessing import load_rgb, model_input
from movenet_train.training.batch_norm import reestimate_batch_norm
from tests.helpers import COCO_SAMPLE, TFJS, require_shared


@pytest.fixture(scope="module")
def sample_images(coco_sample):
    """The 55 COCO-sample images letterboxed to 192, as the single_person protocol feeds them."""
    return np.stack([model_input(load_rgb(COCO_SAMPLE / "images" / i["file_name"]), 192, 192)
                     for i in coco_sample["images"]])


def _heatmap_gap(model, images):
    """Mean |training-mode - inference-mode| keypoint-heatmap logit; the moving statistics that a training-mode
    call updates are put back."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.get_weights() for layer in norms]
    train_mode = model(images, training=True)["keypoint_heatmap"].numpy()
    for layer, w in zip(norms, saved):
        layer.set_weights(w)
    return float(np.abs(train_mode - model(images, training=False)["keypoint_heatmap"].numpy()).mean())


@pytest.mark.slow  # the released Lightning on 55 images, 18 s
def test_reestimation_on_released_weights_keeps_the_outputs(sample_images):
    require_shared(TFJS["lightning"])
    from movenet_train.pretrained import import_released

    model, spec = import_released(TFJS["lightning"])
    images = tf.constant(sample_images, tf.float32)
    decode = MoveNetInference(model, spec)
    before, heads_before = decode(tf.cast(images, tf.int32)).numpy(), model(images, training=False)
    fit, other = images[:32], images[32:48]  # statistics from two batches; the gap measured on a third
    gap_before = _heatmap_gap(model, other)
    reestimate_batch_norm(model, [fit[:16], fit[16:]], keep_function=True)
    after, heads_after = decode(tf.cast(images, tf.int32)).numpy(), model(images, training=False)
    # Every decoded coordinate and score of the 55 images within 1e-4 (head logits: float32 rounding of the
    # compensated scale and shift, a few 1e-4 at most).
    assert np.abs(after - before).max() < 1e-4
    for key in heads_before:
        assert np.abs(heads_after[key].numpy() - heads_before[key].numpy()).max() < 2e-3, key
    # Training-mode BatchNorm now normalises with statistics like the moving ones, also on images the statistics
    # were not taken from: the imported (folded) weights are ~12 logits off in training mode, re-estimated ones ~1.
    gap_after = _heatmap_gap(model, other)
    print(f"training- vs inference-mode keypoint heatmap logits on unseen images: {gap_before:.3f} -> {gap_after:.3f}")
    assert gap_before > 5.0 and gap_after < gap_before / 5


def test_classic_precise_batch_norm_is_the_average_of_batch_statistics():
    inputs = keras.Input([2, 2, 3])
    norm = keras.layers.BatchNormalization(epsilon=1e-3)
    model = keras.Model(inputs, norm(inputs))
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc, scale, [4, 2, 2, 3]).astype(np.float32) for loc, scale in ((1.0, 2.0), (-3.0, 0.5))]
    norm.set_weights([np.full(3, 2.0, np.float32), np.full(3, 0.5, np.float32), np.zeros(3, np.float32),
                      np.ones(3, np.float32)])
    reestimate_batch_norm(model, batches, keep_function=False)
    np.testing.assert_allclose(norm.moving_mean.numpy(), np.mean([b.mean((0, 1, 2)) for b in batches], 0), rtol=1e-5)
    np.testing.assert_allclose(norm.moving_variance.numpy(), np.mean([b.var((0, 1, 2)) for b in batches], 0),
                               rtol=1e-5)
    np.testing.assert_array_equal(norm.gamma.numpy(), 2.0)  # classic: scale and shift untouched
    # Function-keeping: the same statistics, gamma and beta compensated, so y is unchanged for any x.
    x = rng.normal(0.0, 3.0, [5, 2, 2, 3]).astype(np.float32)
    before = model(x, training=False).numpy()
    reestimate_batch_norm(model, [b * 3.0 + 7.0 for b in batches], keep_function=True)
    np.testing.assert_allclose(model(x, training=False).numpy(), before, atol=1e-5)
    np.testing.assert_allclose(norm.moving_mean.numpy(), np.mean([(b * 3 + 7).mean((0, 1, 2)) for b in batches], 0),
                               rtol=1e-5)


def test_frozen_batch_norm_is_left_alone():
    inputs = keras.Input([2, 2, 3])
    frozen = keras.layers.BatchNormalization()
    model = keras.Model(inputs, frozen(inputs))
    frozen.trainable = False
    assert reestimate_batch_norm(model, [np.ones([2, 2, 2, 3], np.float32)], keep_function=False) == 0
    np.testing.assert_array_equal(frozen.moving_mean.numpy(), 0.0)

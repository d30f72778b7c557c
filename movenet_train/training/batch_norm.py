"""BatchNorm statistics: re-estimation that keeps the model's function, and classic precise BatchNorm.

Google's released graphs have BatchNorm folded into the convolutions; the importer gives every BatchNorm mean 0,
variance 1 - eps and the folded bias as beta. That inference function is what fine-tuning starts from, so
whatever re-estimates statistics must not change it:

* ``reestimate_batch_norm(model, batches, keep_function=True)`` averages each BatchNorm's input statistics over
  many batches (inputs taken in inference mode, the function as it is) and re-expresses the layer with them:
  gamma and beta are compensated so that the inference output is unchanged (to float32 rounding), and
  training-mode BatchNorm, which normalises with batch statistics, now computes nearly the same function on
  batches like these. Before fine-tuning (``model.recalibrate_batch_norm``) and, for fine-tuning schedules,
  before each validation (``train.precise_batch_norm_keep_function``).
* ``keep_function=False`` is classic precise BatchNorm (Wu & Johnson, "Rethinking batch in BatchNorm"): the
  moving statistics are replaced by the average of the batch statistics the layers see in training mode, which
  fixes the lag of the moving averages in runs from scratch (their inference function is meant to change).

Frozen BatchNorm (``train.freeze_batch_norm``, ``train.freeze``) is left alone by both.
"""

import numpy as np
import tensorflow as tf
import tf_keras as keras


def batch_norm_layers(model, trainable_only=False):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
            and (layer.trainable or not trainable_only)]


def input_statistics(model, norms, batches, training):
    """Per layer of ``norms``: (mean, variance) of its input, each the average over ``batches`` of the batch's
    per-channel mean and variance (what training-mode BatchNorm normalises with), in float64."""
    probe = keras.Model(model.inputs, [layer.input for layer in norms])
    sums = [[0.0, 0.0] for _ in norms]
    count = 0
    for images in batches:
        outputs = probe(images, training=training)
        for total, x in zip(sums, outputs if isinstance(outputs, (list, tuple)) else [outputs]):
            x = tf.cast(x, tf.float64)
            total[0] = total[0] + tf.reduce_mean(x, axis=[0, 1, 2]).numpy()
            total[1] = total[1] + tf.math.reduce_variance(x, axis=[0, 1, 2]).numpy()
        count += 1
    if not count:
        raise ValueError("BatchNorm re-estimation needs at least one batch of images")
    return [(mean / count, var / count) for mean, var in sums]


def reestimate_batch_norm(model, batches, keep_function=True):
    """Sets the moving statistics of every trainable BatchNorm from ``batches`` (an iterable of image batches).

    ``keep_function``: compensate gamma / beta so the inference function is unchanged; otherwise classic precise
    BatchNorm (statistics of the training-mode inputs, no compensation). Returns the number of layers changed.
    """
    norms = batch_norm_layers(model, trainable_only=True)
    if not norms:
        return 0
    statistics = input_statistics(model, norms, batches, training=not keep_function)
    for layer, (mean, var) in zip(norms, statistics):
        gamma, beta, moving_mean, moving_var = (w.astype(np.float64) for w in layer.get_weights())
        if keep_function:
            # Inference is y = scale * x + shift; keep it while the statistics become (mean, var).
            scale = gamma / np.sqrt(moving_var + layer.epsilon)
            shift = beta - scale * moving_mean
            gamma, beta = scale * np.sqrt(var + layer.epsilon), shift + scale * mean
        layer.set_weights([w.astype(np.float32) for w in (gamma, beta, mean, var)])
    return len(norms)

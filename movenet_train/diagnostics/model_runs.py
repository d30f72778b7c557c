"""The model runs the diagnostics share: head outputs (BatchNorm statistics kept) and the single_person AP."""

from movenet_train.training.batch_norm import batch_norm_layers


def head_outputs(model, images, training=False):
    """Head outputs; in training mode the BatchNorm moving statistics (which a training-mode call updates) are
    put back afterwards."""
    saved = [layer.get_weights() for layer in batch_norm_layers(model)] if training else None
    outputs = {k: v.numpy() for k, v in model(images, training=training).items()}
    if saved is not None:
        for layer, w in zip(batch_norm_layers(model), saved):
            layer.set_weights(w)
    return outputs


def single_person_ap(model, spec, records):
    """single_person AP of ``model`` on ``records``, or None where they hold no single-person image."""
    from movenet_train.evaluation import evaluate
    from movenet_train.runtime import KerasPredictor

    try:
        return float(evaluate(KerasPredictor(model, spec), records=records, protocol="single_person", progress=False,
                              orientation_slices=False)["AP"])
    except ValueError:  # no single-person image with ground truth
        return None

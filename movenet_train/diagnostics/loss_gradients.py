"""The loss terms on a model's outputs: each term's value, share and backbone gradient norm, and the AP after one
signed-gradient step per term."""

import numpy as np
import tensorflow as tf

from movenet_train.diagnostics.model_runs import single_person_ap
from movenet_train.losses import movenet_losses


def _backbone_variables(model, spec):
    from movenet_train.training.freeze import layer_groups

    return [w for layer in layer_groups(model, spec)["backbone"] for w in layer.trainable_weights]


def term_gradients(model, batches, loss_config, variables):
    """Yields, per batch, {loss term: (value, [gradient of each of ``variables``, None where it has none])}
    with the model in inference mode."""
    for images, targets in batches:
        targets = {k: tf.convert_to_tensor(v) for k, v in targets.items()}
        with tf.GradientTape(persistent=True) as tape:
            losses = movenet_losses(model(images, training=False), targets, loss_config)
        yield {key: (float(value), tape.gradient(value, variables)) for key, value in losses.items()}
        del tape


def loss_terms(model, spec, batches, loss_config):
    """Mean of each weighted loss term over ``batches`` (inference mode), its share, and its backbone gradient norm."""
    sums = {}
    for terms in term_gradients(model, batches, loss_config, _backbone_variables(model, spec)):
        for key, (value, grads) in terms.items():
            grads = [g for g in grads if g is not None]
            entry = sums.setdefault(key, [0.0, 0.0])
            entry[0] += value
            entry[1] += float(tf.linalg.global_norm(grads)) if grads else 0.0
    n = max(len(batches), 1)
    total = sums["total"][0] / n
    return {key: {"loss": s / n, "share": (s / n) / total if total else None, "backbone_gradient_norm": g / n}
            for key, (s, g) in sums.items()}



def signed_step_ap(model, spec, batches, loss_config, eval_sets, step_size):
    """single_person AP of each of ``eval_sets`` ({name: records}) after one signed-gradient step (every weight
    moved by ``step_size``, as Adam's first step) on the loss of ``batches``, for the total and for each term
    alone; the weights are restored.

    An objective that agrees with the metric raises the AP of the images whose own labels it descends on
    (``own``); one that generalises also raises the AP of images it did not see (``held_out``)."""
    variables = model.trainable_variables
    saved = [v.numpy() for v in variables]
    grads = {}
    for terms in term_gradients(model, batches, loss_config, variables):
        for key, (_, term_grads) in terms.items():
            for i, g in enumerate(term_grads):
                if g is not None:
                    grads.setdefault(key, {})[i] = grads.get(key, {}).get(i, 0.0) + g.numpy()
    result = {"step_size": step_size}
    for name, records in eval_sets.items():
        result[name] = {"before": single_person_ap(model, spec, records)}
    for key, per_variable in grads.items():
        for i, g in per_variable.items():
            variables[i].assign(saved[i] - step_size * np.sign(g))
        for name, records in eval_sets.items():
            result[name][key] = single_person_ap(model, spec, records)
        for v, w in zip(variables, saved):
            v.assign(w)
    return result

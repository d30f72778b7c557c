"""BatchNorm re-estimation checks: the function-keeping re-estimation's output change, training- vs
inference-mode outputs, and the single_person AP before / after each kind of re-estimation."""

import copy

import numpy as np
import tensorflow as tf

from movenet_train.diagnostics.model_runs import head_outputs, single_person_ap
from movenet_train.training.batch_norm import batch_norm_layers, reestimate_batch_norm


def batch_norm_checks(model, spec, batches, records=None):
    """The function-keeping re-estimation's largest output change, training- vs inference-mode outputs on
    batches the statistics were not taken from, and AP before / after each kind of re-estimation."""
    weights = copy.deepcopy([layer.get_weights() for layer in batch_norm_layers(model)])

    def restore():
        for layer, w in zip(batch_norm_layers(model), weights):
            layer.set_weights(w)

    from movenet_train.modeling import MoveNetInference

    images = [b[0] for b in batches]
    fit, other = images[: max(1, len(images) // 2)], images[max(1, len(images) // 2):] or images
    before = [head_outputs(model, x) for x in images]
    decode = MoveNetInference(model, spec)
    decoded_before = [decode(tf.cast(x, tf.int32)).numpy() for x in images]
    result = {"fit_batches": len(fit), "check_batches": len(other)}

    def gap(training_outputs, inference_outputs):
        return {k: float(np.mean([np.abs(t[k] - i[k]).mean() for t, i in zip(training_outputs, inference_outputs)]))
                for k in ("center", "keypoint_heatmap")}

    result["train_vs_inference_mode_before"] = gap([head_outputs(model, x, True) for x in other],
                                                   [head_outputs(model, x) for x in other])
    reestimate_batch_norm(model, fit, keep_function=True)
    after = [head_outputs(model, x) for x in images]
    result["keep_function_max_output_change"] = float(max(np.abs(a[k] - b[k]).max()
                                                          for a, b in zip(after, before) for k in a))
    result["keep_function_max_decoded_change"] = float(max(
        np.abs(decode(tf.cast(x, tf.int32)).numpy() - d).max() for x, d in zip(images, decoded_before)))
    result["train_vs_inference_mode_after_keep_function"] = gap([head_outputs(model, x, True) for x in other],
                                                                [head_outputs(model, x) for x in other])
    if records:
        def ap():
            return single_person_ap(model, spec, records)

        result["ap_keep_function"] = ap()
        # What training did before: the function-keeping re-estimation at the start, then classic precise
        # BatchNorm on other batches before validation (the statistics of a few batches replace the moving ones).
        reestimate_batch_norm(model, other, keep_function=False)
        result["ap_classic_precise_batch_norm"] = ap()
        restore()
        result["ap_before"] = ap()
    restore()
    return result

"""Objective audit: where a model's outputs and the training objective disagree (``python -m movenet_train.audit``, ``jobs/audit.py``).

A model that the objective was made for (Google's released weights and the objective they were trained with)
sits near a minimum of it: its head outputs agree with the targets at the cells the losses read, its heatmap
peaks have the targets' widths, and re-estimating BatchNorm does not change it. Each measurement below runs the
model in inference mode on the project's own pipeline (augmentation off) over ``records``:

* residuals (prediction - target, in cells) of the offset and regression heads at every cell the losses train,
  by ring: distance 0 (the cell the decoder reads) and 1, 2, 3 cells off; ``gain`` is how much of the target
  vector the prediction carries (least squares, 1 = all of it);
* heatmap peak widths: a Gaussian sigma fitted to the predicted probabilities around each labelled keypoint
  (and person centre) against the same fit to the target, by person size;
* the predicted centre's distance to the labelled keypoints' mean and to the box centre;
* each loss term, its share, and the norm of its gradient on the backbone;
* BatchNorm: the largest output change of the function-keeping re-estimation, how far training-mode outputs
  are from inference-mode ones on batches the statistics were not taken from, and (with ground truth in the
  records) the single_person AP before and after each kind of re-estimation.

Two framings: ``crop`` (a square around the target person, as most training examples) and ``letterbox`` (the
whole image, as the single_person eval protocol).
"""

import copy
import math

import numpy as np
import tensorflow as tf
from omegaconf import OmegaConf

from movenet_train.config import default_config
from movenet_train.losses import LossConfig, movenet_losses
from movenet_train.training.batch_norm import batch_norm_layers, reestimate_batch_norm

FRAMINGS = {"crop": 0.0, "letterbox": 1.0}  # data.loader.single_pose.full_image_probability
SIZE_BINS = (0, 8, 16, 32, math.inf)  # person box, longer side in grid cells
PEAK_MIN_PROBABILITY = 0.1  # predicted peaks fitted only where the model sees the point


def audit_data_config(data_cfg, records, framing):
    """``data_cfg`` reading ``records`` in order, augmentation off, every example framed as ``framing``."""
    node = OmegaConf.create(OmegaConf.to_container(data_cfg, resolve=True))
    node.train_records = records
    node.val_records = records
    node.sources = None
    node.augment.enabled = False
    node.loader.single_pose.full_image_probability = FRAMINGS[framing]
    return node


def _batches(data_cfg, spec, batch_size, max_batches):
    from movenet_train.data import build_dataset

    dataset = build_dataset(data_cfg, spec, "val", batch_size, training=False)
    if max_batches:
        dataset = dataset.take(max_batches)
    return [(images, {k: v.numpy() for k, v in targets.items()}) for images, targets in dataset]


def _ring_statistics(prediction, target, mask, rings, max_ring):
    """Per ring: count of (cell, keypoint) pairs, mean signed and absolute residual, gain."""
    out = {}
    pred = prediction.reshape(*prediction.shape[:-1], -1, 2)
    tgt = target.reshape(*target.shape[:-1], -1, 2)
    sel = mask.reshape(*mask.shape[:-1], -1, 2)[..., 0] > 0
    for ring in range(max_ring + 1):
        chosen = sel & (rings == ring)
        if not chosen.any():
            continue
        p, t = pred[chosen], tgt[chosen]
        residual = p - t
        denominator = float((t * t).sum())
        out[str(ring)] = {
            "count": int(chosen.sum()),
            "mean_signed_residual": float(residual.mean()),
            "mean_abs_residual": float(np.abs(residual).mean()),
            "gain": float((p * t).sum() / denominator) if denominator > 1e-6 else None,
        }
    return out


def _offset_rings(targets):
    """Ring of every offset cell: the distance between it and the keypoint's floored cell, rounded."""
    vectors = targets["keypoint_offset"].reshape(*targets["keypoint_offset"].shape[:-1], -1, 2)
    floored = np.floor(vectors + 1e-6)
    return np.rint(np.sqrt((floored**2).sum(-1))).astype(int)


def _regression_rings(targets):
    """Ring of every cell: the distance to the nearest centre peak (target value 1), rounded."""
    rings = np.zeros(targets["center_heatmap"].shape[:3], int)
    for b, heatmap in enumerate(targets["center_heatmap"][..., 0]):
        peaks = np.argwhere(heatmap >= 1.0)
        if len(peaks) == 0:
            rings[b] = 99
            continue
        ys, xs = np.mgrid[: heatmap.shape[0], : heatmap.shape[1]]
        d2 = (ys[..., None] - peaks[:, 0]) ** 2 + (xs[..., None] - peaks[:, 1]) ** 2
        rings[b] = np.rint(np.sqrt(d2.min(-1))).astype(int)
    num = targets["keypoint_regression"].shape[-1] // 2
    return np.repeat(rings[..., None], num, axis=-1)


def fitted_sigma(heatmap, y, x):
    """Gaussian sigma (cells) that explains ``heatmap[y, x]`` and the mean of its 4 neighbours (None if flat)."""
    h, w = heatmap.shape
    neighbours = [heatmap[j, i] for j, i in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1))
                  if 0 <= j < h and 0 <= i < w]
    peak, side = float(heatmap[y, x]), float(np.mean(neighbours))
    if not (peak > side > 0):
        return None
    return float(1.0 / math.sqrt(2.0 * math.log(peak / side)))


def _local_peak(heatmap, y, x):
    """The largest value's cell within one cell of (y, x)."""
    h, w = heatmap.shape
    y0, y1, x0, x1 = max(y - 1, 0), min(y + 2, h), max(x - 1, 0), min(x + 2, w)
    j, i = np.unravel_index(np.argmax(heatmap[y0:y1, x0:x1]), (y1 - y0, x1 - x0))
    return y0 + j, x0 + i


def _size_bin(box, grid):
    side = max(box[2] - box[0], box[3] - box[1]) * grid
    for low, high in zip(SIZE_BINS[:-1], SIZE_BINS[1:]):
        if low <= side < high:
            return f"{low}-{high if high != math.inf else 'inf'}"
    return None


def _width_and_centre(outputs, targets, grid):
    """Fitted peak widths (prediction vs target) by person size, and the predicted centre's distances."""
    widths = {}
    centre = {"to_keypoint_mean": [], "to_box_centre": [], "keypoint_mean_nearer": []}
    kp_prob = tf.sigmoid(outputs["keypoint_heatmap"]).numpy()
    centre_prob = tf.sigmoid(outputs["center"]).numpy()[..., 0]
    for b in range(len(kp_prob)):
        people = targets["keypoints"][b][: int(targets["num_valid"][b])]
        for p, person in enumerate(people):
            labelled = person[:, 2] > 0
            if not labelled.any():
                continue
            size = _size_bin(targets["boxes"][b][p], grid)
            points = person[:, :2] * grid
            for k in np.flatnonzero(labelled):
                y, x = (int(v) for v in np.floor(points[k]))
                if targets["keypoint_heatmap"][b, y, x, k] < 1.0:
                    continue  # another person's point took the cell
                py, px = _local_peak(kp_prob[b, ..., k], y, x)
                if kp_prob[b, py, px, k] < PEAK_MIN_PROBABILITY:
                    continue
                predicted = fitted_sigma(kp_prob[b, ..., k], py, px)
                wanted = fitted_sigma(targets["keypoint_heatmap"][b, ..., k], y, x)
                if predicted is not None and wanted is not None:
                    widths.setdefault(("keypoint", size), []).append((predicted, wanted))
            mean = points[labelled].mean(0)
            box = targets["boxes"][b][p] * grid
            box_centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
            y, x = (int(v) for v in np.floor(mean))
            py, px = _local_peak(centre_prob[b], y, x)
            if centre_prob[b, py, px] >= PEAK_MIN_PROBABILITY:
                predicted = fitted_sigma(centre_prob[b], py, px)
                wanted = fitted_sigma(targets["center_heatmap"][b, ..., 0], y, x)
                if predicted is not None and wanted is not None:
                    widths.setdefault(("center", size), []).append((predicted, wanted))
                if p == 0:  # the target person (single-pose framing puts them first)
                    cell = np.array([py + 0.5, px + 0.5])
                    d_mean = float(np.linalg.norm(cell - mean))
                    d_box = float(np.linalg.norm(cell - box_centre))
                    centre["to_keypoint_mean"].append(d_mean)
                    centre["to_box_centre"].append(d_box)
                    centre["keypoint_mean_nearer"].append(d_mean < d_box)
    return widths, centre


def _summarise_widths(widths):
    out = {}
    for (head, size), pairs in sorted(widths.items(), key=lambda kv: (kv[0][0], SIZE_BINS.index(
            float(kv[0][1].split("-")[0])))):
        pairs = np.array(pairs)
        out.setdefault(head, {})[size] = {"count": len(pairs), "predicted_sigma": float(np.median(pairs[:, 0])),
                                          "target_sigma": float(np.median(pairs[:, 1]))}
    for head, pairs in {h: np.array([p for (hh, _), ps in widths.items() if hh == h for p in ps])
                        for h in ("center", "keypoint")}.items():
        if len(pairs):
            out.setdefault(head, {})["all"] = {"count": len(pairs), "predicted_sigma": float(np.median(pairs[:, 0])),
                                               "target_sigma": float(np.median(pairs[:, 1]))}
    return out


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


def _single_person_ap(model, spec, records):
    from movenet_train.evaluation import evaluate
    from movenet_train.runtime import KerasPredictor

    try:
        return float(evaluate(KerasPredictor(model, spec), records=records, protocol="single_person", progress=False,
                              orientation_slices=False)["AP"])
    except ValueError:  # no single-person image with ground truth
        return None


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
        result[name] = {"before": _single_person_ap(model, spec, records)}
    for key, per_variable in grads.items():
        for i, g in per_variable.items():
            variables[i].assign(saved[i] - step_size * np.sign(g))
        for name, records in eval_sets.items():
            result[name][key] = _single_person_ap(model, spec, records)
        for v, w in zip(variables, saved):
            v.assign(w)
    return result


def _outputs(model, images, training=False):
    """Head outputs; in training mode the BatchNorm moving statistics (which a training-mode call updates) are
    put back afterwards."""
    saved = [layer.get_weights() for layer in batch_norm_layers(model)] if training else None
    outputs = {k: v.numpy() for k, v in model(images, training=training).items()}
    if saved is not None:
        for layer, w in zip(batch_norm_layers(model), saved):
            layer.set_weights(w)
    return outputs


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
    before = [_outputs(model, x) for x in images]
    decode = MoveNetInference(model, spec)
    decoded_before = [decode(tf.cast(x, tf.int32)).numpy() for x in images]
    result = {"fit_batches": len(fit), "check_batches": len(other)}

    def gap(training_outputs, inference_outputs):
        return {k: float(np.mean([np.abs(t[k] - i[k]).mean() for t, i in zip(training_outputs, inference_outputs)]))
                for k in ("center", "keypoint_heatmap")}

    result["train_vs_inference_mode_before"] = gap([_outputs(model, x, True) for x in other],
                                                   [_outputs(model, x) for x in other])
    reestimate_batch_norm(model, fit, keep_function=True)
    after = [_outputs(model, x) for x in images]
    result["keep_function_max_output_change"] = float(max(np.abs(a[k] - b[k]).max()
                                                          for a, b in zip(after, before) for k in a))
    result["keep_function_max_decoded_change"] = float(max(
        np.abs(decode(tf.cast(x, tf.int32)).numpy() - d).max() for x, d in zip(images, decoded_before)))
    result["train_vs_inference_mode_after_keep_function"] = gap([_outputs(model, x, True) for x in other],
                                                                [_outputs(model, x) for x in other])
    if records:
        def ap():
            return _single_person_ap(model, spec, records)

        result["ap_keep_function"] = ap()
        # What training did before: the function-keeping re-estimation at the start, then classic precise
        # BatchNorm on other batches before validation (the statistics of a few batches replace the moving ones).
        reestimate_batch_norm(model, other, keep_function=False)
        result["ap_classic_precise_batch_norm"] = ap()
        restore()
        result["ap_before"] = ap()
    restore()
    return result


def audit(model, spec, data_cfg, records, batch_size=16, max_batches=None, loss_config=None,
          framings=tuple(FRAMINGS), signed_step=1e-5, held_out_records=None, progress=print):
    """The audit report (a dict) of ``model`` on ``records``; see the module docstring. ``loss_config``: a
    ``LossConfig`` (None: the training defaults)."""
    loss_config = loss_config or default_config(LossConfig)
    from movenet_train.data.targets import OUTPUT_STRIDE, TargetConfig

    grid = spec.input_size // OUTPUT_STRIDE
    report = {"records": records, "targets": dataclass_dict(TargetConfig.from_config(data_cfg.targets, spec.schema)),
              "framings": {}}
    for framing in framings:
        progress(f"audit: {framing} framing")
        batches = _batches(audit_data_config(data_cfg, records, framing), spec, batch_size, max_batches)
        residuals = {"keypoint_offset": {}, "keypoint_regression": {}}
        widths, centre = {}, {"to_keypoint_mean": [], "to_box_centre": [], "keypoint_mean_nearer": []}
        for images, targets in batches:
            outputs = _outputs(model, images)
            for key, rings in (("keypoint_offset", _offset_rings(targets)),
                               ("keypoint_regression", _regression_rings(targets))):
                stats = _ring_statistics(outputs[key], targets[key], targets[f"{key}_mask"], rings, 3)
                for ring, s in stats.items():
                    residuals[key].setdefault(ring, []).append(s)
            w, c = _width_and_centre(outputs, targets, grid)
            for k, v in w.items():
                widths.setdefault(k, []).extend(v)
            for k, v in c.items():
                centre[k].extend(v)
        report["framings"][framing] = {
            "examples": int(sum(len(b[0]) for b in batches)),
            "residuals": {key: {ring: _pool(entries) for ring, entries in sorted(rings.items())}
                          for key, rings in residuals.items()},
            "peak_widths": _summarise_widths(widths),
            "centre": {"count": len(centre["to_keypoint_mean"]),
                       "mean_distance_to_keypoint_mean": _mean(centre["to_keypoint_mean"]),
                       "mean_distance_to_box_centre": _mean(centre["to_box_centre"]),
                       "keypoint_mean_nearer_share": _mean(centre["keypoint_mean_nearer"])},
            "loss_terms": loss_terms(model, spec, batches[:4], loss_config),
        }
        if signed_step:
            progress(f"audit: one signed-gradient step per loss term ({framing})")
            eval_sets = {"own": records, **({"held_out": held_out_records} if held_out_records else {})}
            report["framings"][framing]["signed_step_ap"] = signed_step_ap(model, spec, batches, loss_config,
                                                                          eval_sets, signed_step)
        if framing == framings[0]:
            progress("audit: BatchNorm re-estimation")
            report["batch_norm"] = batch_norm_checks(model, spec, batches, records)
    return report


def dataclass_dict(obj):
    import dataclasses

    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(obj).items()}


def _mean(values):
    return float(np.mean(values)) if len(values) else None


def _pool(entries):
    """Count-weighted pooling of per-batch ring statistics."""
    count = sum(e["count"] for e in entries)
    pooled = {"count": count}
    for key in ("mean_signed_residual", "mean_abs_residual"):
        pooled[key] = sum(e[key] * e["count"] for e in entries) / count
    gains = [(e["gain"], e["count"]) for e in entries if e["gain"] is not None]
    pooled["gain"] = sum(g * n for g, n in gains) / sum(n for _, n in gains) if gains else None
    return pooled


def format_report(report):
    """A short text table of the report."""
    lines = []
    for framing, r in report["framings"].items():
        lines.append(f"== {framing} framing ({r['examples']} examples)")
        lines.append("residual (pred - target, cells)   ring  count  signed   |abs|   gain")
        for key, rings in r["residuals"].items():
            for ring, s in rings.items():
                gain = "  -  " if s["gain"] is None else f"{s['gain']:.2f}"
                lines.append(f"  {key:30s} {ring:>4s} {s['count']:6d} {s['mean_signed_residual']:+.3f}  "
                             f"{s['mean_abs_residual']:.3f}  {gain}")
        lines.append("peak width (sigma, cells)         size   count  predicted  target")
        for head, sizes in r["peak_widths"].items():
            for size, s in sizes.items():
                lines.append(f"  {head:30s} {size:>6s} {s['count']:6d}  {s['predicted_sigma']:.2f}       "
                             f"{s['target_sigma']:.2f}")
        c = r["centre"]
        if c["count"]:
            lines.append(f"centre: distance to keypoint mean {c['mean_distance_to_keypoint_mean']:.2f} cells, to box "
                         f"centre {c['mean_distance_to_box_centre']:.2f}; keypoint mean nearer in "
                         f"{100 * c['keypoint_mean_nearer_share']:.0f}% of {c['count']}")
        lines.append("loss term                          loss   share  backbone grad norm")
        for key, s in r["loss_terms"].items():
            share = "  -  " if s["share"] is None else f"{100 * s['share']:.0f}%"
            lines.append(f"  {key:30s} {s['loss']:.4f} {share:>6s}  {s['backbone_gradient_norm']:.4f}")
        step = r.get("signed_step_ap")
        for name, aps in (step or {}).items():
            if name == "step_size" or aps["before"] is None:
                continue
            lines.append(f"single_person AP of the {name} images after one signed-gradient step of "
                         f"{step['step_size']:g} on these examples' labels (before {aps['before']:.4f}):")
            lines.append("  " + "  ".join(f"{k} {v:.4f}" for k, v in aps.items() if k != "before" and v is not None))
    bn = report.get("batch_norm")
    if bn:
        lines.append("BatchNorm re-estimation (function kept): max change of head outputs "
                     f"{bn['keep_function_max_output_change']:.1e}, of decoded keypoints and scores "
                     f"{bn['keep_function_max_decoded_change']:.1e}; |training - inference mode| logits on other "
                     f"batches: before {bn['train_vs_inference_mode_before']['keypoint_heatmap']:.3f}, after "
                     f"{bn['train_vs_inference_mode_after_keep_function']['keypoint_heatmap']:.3f} (keypoint heatmap)")
        if bn.get("ap_before") is not None:
            lines.append(f"single_person AP: as is {bn['ap_before']:.4f}, function-keeping re-estimation "
                         f"{bn['ap_keep_function']:.4f}, then classic precise BatchNorm on other batches "
                         f"{bn['ap_classic_precise_batch_norm']:.4f}")
    return "\n".join(lines)

"""Objective audit: where a model's outputs and the training objective disagree (``python -m movenet_train.audit``,
``jobs/audit.py``).

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

import numpy as np
from omegaconf import OmegaConf

from movenet_train.config import default_config
from movenet_train.diagnostics.batch_norm_checks import batch_norm_checks
from movenet_train.diagnostics.loss_gradients import loss_terms, signed_step_ap
from movenet_train.diagnostics.model_runs import head_outputs
from movenet_train.diagnostics.peak_widths import summarise_widths, width_and_centre
from movenet_train.diagnostics.residuals import offset_rings, pool, regression_rings, ring_statistics
from movenet_train.losses import LossConfig

FRAMINGS = {"crop": 0.0, "letterbox": 1.0}  # data.loader.single_pose.full_image_probability


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
            outputs = head_outputs(model, images)
            for key, rings in (("keypoint_offset", offset_rings(targets)),
                               ("keypoint_regression", regression_rings(targets))):
                stats = ring_statistics(outputs[key], targets[key], targets[f"{key}_mask"], rings, 3)
                for ring, s in stats.items():
                    residuals[key].setdefault(ring, []).append(s)
            w, c = width_and_centre(outputs, targets, grid)
            for k, v in w.items():
                widths.setdefault(k, []).extend(v)
            for k, v in c.items():
                centre[k].extend(v)
        report["framings"][framing] = {
            "examples": int(sum(len(b[0]) for b in batches)),
            "residuals": {key: {ring: pool(entries) for ring, entries in sorted(rings.items())}
                          for key, rings in residuals.items()},
            "peak_widths": summarise_widths(widths),
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

"""``evaluate(predictor, ...)``: COCO keypoint AP of any model file, through ``runtime.load_predictor``.

Training checkpoints, imported weights, SavedModels and TFLite files all run through this one loop (same
decoding, preprocessing, pycocotools), so their numbers compare.
"""

import dataclasses
import itertools
import os
import warnings

import numpy as np
from tqdm.auto import tqdm

from movenet_train.errors import UserError
from movenet_train.checkpoints import sha256_of
from movenet_train.evaluation import coco_metrics, inputs, outputs, plots, protocols, slices


@dataclasses.dataclass
class Evaluation:
    """One evaluation: the metrics (what ``evaluate`` returns) and what they were computed from."""

    metrics: dict
    ap: coco_metrics.KeypointAP  # .matches: per-image match tables for paired bootstrap intervals
    ground_truth: dict
    results: list  # COCO results format
    image_ids: list


def evaluate(predictor, annotations=None, images=None, records=None, protocol=None, crop="none",
             crop_scale=1.25, output_dir=None, checkpoint=None, batch_size=16, max_images=None, progress=True,
             orientation_slices=True, orientation="upright", **protocol_options):
    """Metrics dict: AP, AP50, AP75, APm, APl, AR (and AR50...ARl), num_images, num_people, protocol, ...

    ``predictor``: from ``movenet_train.runtime.load_predictor`` (or anything with its ``schema``,
    ``multi_pose``, ``input_size``, ``kind`` and call). Data: ``annotations`` (COCO person_keypoints
    JSON) with ``images`` (their folder), or ``records`` (a glob of prepare_coco.py TFRecords, which carry their
    own ground truth). ``protocol``: single_person, every_person or multi_person (protocols.py).
    ``protocol_options``: ``long_side``, ``multiple``, ``score_threshold`` of multi_person
    (ignored by the others). ``max_images``: only the first N images the protocol selects (quick validation
    during training). ``checkpoint``: the model's path, recorded with its sha256 in the metrics.
    ``orientation_slices``: also AP by ground-truth body orientation (``metrics["slices"]``, see slices.py); a
    schema without a usable ``keypoints.torso`` gets empty slices, a warning and ``metrics["slices_note"]``.
    ``orientation``: ``any`` wraps a single-pose predictor in the quarter-turn search (orientation.py) unless it
    is one already. With ``output_dir``, writes metrics.json, keypoints_results.json, per_keypoint.csv and two
    PNG plots. Prints nothing but a tqdm bar (``progress=False`` hides it). ``run_evaluation`` takes the same
    arguments and also returns the results and per-image matches (for paired intervals).
    """
    return run_evaluation(predictor, annotations, images, records, protocol, crop, crop_scale, output_dir,
                          checkpoint, batch_size, max_images, progress, orientation_slices, orientation,
                          **protocol_options).metrics


def run_evaluation(predictor, annotations=None, images=None, records=None, protocol=None, crop="none",
                   crop_scale=1.25, output_dir=None, checkpoint=None, batch_size=16, max_images=None,
                   progress=True, orientation_slices=True, orientation="upright", **protocol_options):
    """``evaluate`` returning an ``Evaluation`` (metrics, results, ground truth and COCOeval's per-image matches)."""
    from movenet_train.orientation import OrientationSearch, with_orientation

    if not isinstance(predictor, OrientationSearch):
        predictor = with_orientation(predictor, orientation)
    protocol = protocols.protocol_for(protocol, predictor.multi_pose)
    proto = protocols.build(protocol, predictor, crop, crop_scale, **protocol_options)
    schema = predictor.schema
    ground_truth, samples, total, source = _open_source(proto, annotations, images, records, max_images, schema)

    results, image_ids, num_people = [], [], 0
    with tqdm(total=total, desc=f"eval {protocol}", unit="img", disable=not progress, leave=False) as bar:
        for batch in _batches(_prepare(samples, proto), batch_size):
            batch_outputs = predictor(np.stack([view[0] for view in batch]))
            for (_, frame, sample, last_view), output in zip(batch, batch_outputs):
                results.extend(proto.results(output, frame, sample.image["id"]))
                if last_view:
                    image_ids.append(sample.image["id"])
                    num_people += sum(map(protocols.is_person_with_keypoints, sample.annotations))
                    bar.update(1)
    if not image_ids:
        raise UserError(f"no image of {source} fits protocol={protocol}" + (
            " (it needs exactly one annotation per image, a non-crowd person with keypoints)"
            if protocol == "single_person" else ""))

    ap = coco_metrics.keypoint_ap(ground_truth, results, image_ids, schema)
    metrics = {
        **ap.stats,
        "num_images": len(image_ids),
        "num_people": num_people,
        "num_detections": len(results),
        "protocol": protocol,
        "orientation": "any" if isinstance(predictor, OrientationSearch) else "upright",
        **dataclasses.asdict(proto),
        "model_kind": predictor.kind,
        "checkpoint": os.path.abspath(checkpoint) if checkpoint else None,
        "checkpoint_sha256": sha256_of(checkpoint) if checkpoint and os.path.exists(checkpoint) else None,
        "data": source,
        "evaluator": "pycocotools COCOeval(iouType='keypoints')",
        "keypoints": schema.name,
        "num_keypoints": schema.num_keypoints,
        "oks_sigmas": list(schema.sigmas),
    }
    if protocol == "every_person":
        metrics["crop"] = proto.crop
    if orientation_slices:
        metrics.update(_orientation_slices(ground_truth, results, image_ids, schema))
    if output_dir:
        table = coco_metrics.per_keypoint_table(ground_truth, results, image_ids, schema)
        title = f"{os.path.basename(os.path.normpath(checkpoint)) if checkpoint else predictor.kind} - {protocol}"
        figures = {outputs.PRECISION_RECALL_PLOT: plots.precision_recall_figure(ap, title),
                   outputs.PER_KEYPOINT_PLOT: plots.per_keypoint_figure(table, title)}
        outputs.write_all(output_dir, metrics, results, table, figures)
    return Evaluation(metrics, ap, ground_truth, results, image_ids)


def _orientation_slices(ground_truth, results, image_ids, schema):
    note = slices.no_slices_note(schema)
    if note:
        warnings.warn(note, stacklevel=3)
        return {"slices": {}, "slices_note": note}
    return {"slices": slices.orientation_ap(ground_truth, results, image_ids, schema)}


def _open_source(proto, annotations, images, records, max_images, schema):
    """(ground truth, samples the protocol selects, their count or None, description of the data)."""
    if records:
        if annotations or images:
            raise UserError("give either records=<glob> (which carry their ground truth) or "
                             "annotations=<json> with images=<dir>, not both")
        ground_truth, stream = inputs.record_source(records, schema)
        selected = itertools.islice((s for s in stream if proto.select(s.annotations)), max_images)
        return ground_truth, selected, max_images, f"records={records}"
    if not annotations:
        raise UserError("no data to evaluate: pass annotations=<json> with images=<dir>, or records=<glob>")
    ground_truth, samples = inputs.coco_source(annotations, images, schema)
    selected = [s for s in samples if proto.select(s.annotations)][:max_images]
    source = f"annotations={os.path.abspath(annotations)}"
    if not selected:
        raise UserError(f"no image of {source} fits protocol={proto.name}" + (
            f" ({len(samples)} images; it needs exactly one annotation per image, a non-crowd person with keypoints)"
            if proto.name == "single_person" else f" ({len(samples)} images)"))
    inputs.check_images_exist(selected, images)
    return ground_truth, selected, len(selected), source


def _prepare(samples, proto):
    """(model input, frame, sample, is the sample's last view) of every view of every sample, in order."""
    for sample in samples:
        views = proto.prepare(sample.load(), sample.annotations)
        for index, (model_input, frame) in enumerate(views):
            yield model_input, frame, sample, index == len(views) - 1


def _batches(prepared, batch_size):
    """Runs of up to ``batch_size`` inputs of one shape (multi_person inputs vary with the aspect ratio)."""
    batch = []
    for item in prepared:
        if batch and (len(batch) == batch_size or item[0].shape != batch[0][0].shape):
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch

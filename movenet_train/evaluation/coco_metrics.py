"""Keypoint AP by pycocotools (``COCOeval(iouType='keypoints')``), and the per-joint terms of the same OKS.

pycocotools prints as it works; its output is swallowed here so that ``evaluate()`` shows no more than a
progress bar (the training loop calls it at every validation).
"""

import contextlib
import dataclasses
import io

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from movenet_train.evaluation.bootstrap import ImageMatches
from movenet_train.evaluation.protocols import is_person_with_keypoints

# COCOeval.stats for keypoints, in order. -1 is pycocotools' "no ground truth in this area range".
STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
# A joint counts as correct when its own OKS term is at least this (distance <= 1.18 * sigma * scale).
PCK_OKS_THRESHOLD = 0.5


def _quiet():
    return contextlib.redirect_stdout(io.StringIO())


def coco_from_dict(dataset):
    coco = COCO()
    coco.dataset = dataset
    with _quiet():
        coco.createIndex()
    return coco


@dataclasses.dataclass
class KeypointAP:
    stats: dict  # STAT_NAMES -> float
    precision: np.ndarray  # [OKS thresholds, recall thresholds] over all areas, -1 where undefined
    oks_thresholds: np.ndarray
    recall_thresholds: np.ndarray
    matches: ImageMatches  # per-image match tables: bootstrap intervals without a second COCOeval pass
    person_oks: dict  # ground-truth annotation id -> highest OKS of a detection of its image (COCOeval's ious)


def keypoint_ap(ground_truth, results, image_ids, schema):
    """COCO keypoint AP/AR of ``results`` (COCO results format) on the images ``image_ids`` of ``ground_truth``.

    OKS uses the keypoint schema's sigmas (``COCOeval.params.kpt_oks_sigmas``; COCO's for COCO-17).
    """
    gt = coco_from_dict(ground_truth)
    if results:
        with _quiet():
            dt = gt.loadRes([dict(r) for r in results])  # loadRes adds id, area, bbox to the dicts it gets
    else:  # loadRes cannot take an empty list; nothing detected scores 0, not pycocotools' -1
        dt = coco_from_dict({"images": ground_truth["images"], "categories": ground_truth["categories"],
                             "annotations": []})
    evaluator = COCOeval(gt, dt, iouType="keypoints")
    evaluator.params.kpt_oks_sigmas = schema.oks_sigmas
    evaluator.params.imgIds = sorted(image_ids)
    with _quiet():
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = dict(zip(STAT_NAMES, (float(v) for v in evaluator.stats)))
    if not results:
        stats = {k: (0.0 if v != -1 else v) for k, v in stats.items()}
    area_all, last_max_dets = 0, -1
    return KeypointAP(stats, evaluator.eval["precision"][:, :, 0, area_all, last_max_dets],
                      np.asarray(evaluator.params.iouThrs), np.asarray(evaluator.params.recThrs),
                      ImageMatches.from_cocoeval(evaluator), _person_oks(evaluator))


def _person_oks(evaluator):
    out = {}
    for (image_id, category_id), gts in evaluator._gts.items():
        similarities = np.asarray(evaluator.ious.get((image_id, category_id), []))
        for column, gt in enumerate(gts):
            out[gt["id"]] = float(similarities[:, column].max()) if similarities.size else 0.0
    return out


def keypoint_similarities(annotation, keypoints, sigmas):
    """OKS term of each joint, ``exp(-d^2 / (2 s^2 k^2))`` as in ``COCOeval.computeOks``; NaN where unlabelled.

    ``annotation``: a COCO ground-truth record; ``keypoints``: a COCO results ``keypoints`` list (x, y, score);
    ``sigmas``: the keypoint schema's ``oks_sigmas``.
    The mean over the labelled joints is the OKS pycocotools scores the pair with.
    """
    gt = np.asarray(annotation["keypoints"], np.float64).reshape(-1, 3)
    dt = np.asarray(keypoints, np.float64).reshape(-1, 3)
    squared = (dt[:, 0] - gt[:, 0]) ** 2 + (dt[:, 1] - gt[:, 1]) ** 2
    terms = np.exp(-squared / (2 * np.asarray(sigmas)) ** 2 / (annotation["area"] + np.spacing(1)) / 2)
    return np.where(gt[:, 2] > 0, terms, np.nan)


def per_keypoint_table(ground_truth, results, image_ids, schema):
    """Per joint: labelled count, mean OKS term and PCK at the OKS-0.5 radius, over the scored people.

    Each person (non-crowd, with keypoints) is paired with the prediction of its image that has the highest
    OKS with it; a person without any prediction scores 0 on every labelled joint.
    """
    image_ids = set(image_ids)
    predictions = {}
    for result in results:
        predictions.setdefault(result["image_id"], []).append(result["keypoints"])
    terms = []
    for ann in ground_truth["annotations"]:
        if ann["image_id"] not in image_ids or not is_person_with_keypoints(ann):
            continue
        candidates = [keypoint_similarities(ann, kp, schema.oks_sigmas) for kp in predictions.get(ann["image_id"], [])]
        if candidates:
            terms.append(max(candidates, key=np.nanmean))
        else:
            labelled = np.asarray(ann["keypoints"]).reshape(-1, 3)[:, 2] > 0
            terms.append(np.where(labelled, 0.0, np.nan))
    terms = np.array(terms).reshape(-1, schema.num_keypoints)
    labelled = ~np.isnan(terms)
    counts = labelled.sum(axis=0)
    with np.errstate(invalid="ignore"):
        mean_oks = np.nansum(terms, axis=0) / counts
        pck = np.sum(np.nan_to_num(terms) >= PCK_OKS_THRESHOLD, axis=0) / counts
    return [{"keypoint": name, "labelled": int(n), "mean_oks": None if n == 0 else round(float(m), 4),
             "pck": None if n == 0 else round(float(p), 4)}
            for name, n, m, p in zip(schema.names, counts, mean_oks, pck)]

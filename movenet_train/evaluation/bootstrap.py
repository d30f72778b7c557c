"""Paired bootstrap intervals of COCO keypoint AP, re-accumulated from one COCOeval pass.

``COCOeval.evaluate()`` matches each image's detections to its ground truth once; AP is then a function of the
per-image match tables (``evalImgs``), which ``accumulate()`` concatenates, sorts by score and integrates.
Resampling images with replacement only changes how often each image's table counts, so a resample is the same
integration with each image's detections repeated: no second matching. ``ImageMatches.ap()`` (every image once)
is COCOeval's AP exactly (same concatenation order, same stable sort, same integer counts); the tests check it,
and a resample against COCOeval run on a set with those images copied.

A paired comparison resamples the images once and scores both models on each resample, so that the interval is
that of the *difference* on the same people (the people of one image always stay together).
"""

import dataclasses

import numpy as np

from movenet_train.errors import UserError

AREA_ALL = 0  # COCOeval.params.areaRng index of "all"
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class ImageMatches:
    """What AP depends on, per image, from one ``COCOeval.evaluate()`` (area "all", the last ``maxDets``).

    Detections are stored sorted as ``accumulate()`` sorts them over all images (stable, by descending score).
    """

    image_ids: tuple  # COCOeval.params.imgIds order
    detection_image: np.ndarray  # [N] index into image_ids of each detection
    true_positive: np.ndarray  # [T, N] matched and not ignored
    false_positive: np.ndarray  # [T, N] unmatched and not ignored
    scored_people: np.ndarray  # [I] ground truths COCOeval does not ignore, per image
    recall_thresholds: np.ndarray  # [R]

    @classmethod
    def from_cocoeval(cls, evaluator):
        """From a ``COCOeval`` after ``evaluate()`` (one category: person)."""
        params = evaluator.params
        num_images, max_dets = len(params.imgIds), params.maxDets[-1]
        if len(params.catIds) != 1:
            raise ValueError(f"paired AP needs one category, COCOeval has {len(params.catIds)}")
        per_image = evaluator.evalImgs[AREA_ALL * num_images:(AREA_ALL + 1) * num_images]
        num_thresholds = len(params.iouThrs)
        scores, owners, matched, ignored = [], [], [], []
        scored_people = np.zeros(num_images, np.int64)
        for index, entry in enumerate(per_image):
            if entry is None:  # neither ground truth nor detections in this image
                continue
            scores.append(np.asarray(entry["dtScores"][:max_dets], np.float64))
            owners.append(np.full(len(scores[-1]), index))
            matched.append(np.asarray(entry["dtMatches"])[:, :max_dets].reshape(num_thresholds, -1))
            ignored.append(np.asarray(entry["dtIgnore"])[:, :max_dets].reshape(num_thresholds, -1))
            scored_people[index] = np.count_nonzero(np.asarray(entry["gtIgnore"]) == 0)
        if scores:
            order = np.argsort(-np.concatenate(scores), kind="mergesort")  # as COCOeval.accumulate
            owners = np.concatenate(owners)[order]
            matched = np.concatenate(matched, axis=1)[:, order].astype(bool)
            ignored = np.concatenate(ignored, axis=1)[:, order].astype(bool)
        else:
            owners = np.zeros(0, np.int64)
            matched = ignored = np.zeros((num_thresholds, 0), bool)
        return cls(tuple(params.imgIds), owners, matched & ~ignored, ~matched & ~ignored, scored_people,
                   np.asarray(params.recThrs, np.float64))

    def ap(self, counts=None):
        """AP (mean precision over OKS and recall thresholds) of the images repeated ``counts`` [I] times (a
        bootstrap resample); without counts, COCOeval's own AP. -1 where no ground truth counts (as COCOeval).

        Repeats of a detection sit next to each other in the score order, as they do when COCOeval scores a set
        with those images copied (the test checks it against COCOeval on such a set).
        """
        if counts is None:
            counts = np.ones(len(self.image_ids), np.int64)
        counts = np.asarray(counts, np.int64)
        people = int(counts @ self.scored_people)
        if people == 0:
            return -1.0
        order = np.repeat(np.arange(len(self.detection_image)), counts[self.detection_image])
        true_positive = np.cumsum(self.true_positive[:, order], axis=1).astype(float)
        false_positive = np.cumsum(self.false_positive[:, order], axis=1).astype(float)
        recall = true_positive / people
        precision = true_positive / (false_positive + true_positive + np.spacing(1))
        # Precision made non-increasing in recall: COCOeval's backwards loop is a suffix maximum.
        precision = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
        curve = np.zeros((len(recall), len(self.recall_thresholds)))
        for t in range(len(recall)):
            index = np.searchsorted(recall[t], self.recall_thresholds, side="left")
            inside = index < recall.shape[1]
            curve[t, inside] = precision[t, index[inside]]
        return float(np.mean(curve[curve > -1]))


def resample_weights(num_images, resamples=DEFAULT_RESAMPLES, seed=DEFAULT_SEED):
    """[resamples, num_images] counts of each image in bootstrap draws of ``num_images`` images with replacement."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, num_images, size=(resamples, num_images))
    return np.stack([np.bincount(row, minlength=num_images) for row in draws])


def paired_difference(before, after, resamples=DEFAULT_RESAMPLES, seed=DEFAULT_SEED, confidence=CONFIDENCE):
    """AP(after) - AP(before) with its percentile bootstrap interval over images, both ``ImageMatches`` of the
    same images. Returns a dict: difference, low, high, confidence, resamples, seed, num_images, and both APs."""
    if before.image_ids != after.image_ids:
        raise UserError(f"a paired comparison needs the same images: {len(before.image_ids)} vs "
                         f"{len(after.image_ids)} image ids, {len(set(before.image_ids) ^ set(after.image_ids))} "
                         "not in both")
    if resamples < 1:
        raise UserError(f"resamples={resamples}: must be >= 1")
    differences = []
    for counts in resample_weights(len(before.image_ids), resamples, seed):
        a, b = before.ap(counts), after.ap(counts)
        differences.append(b - a if a > -1 and b > -1 else np.nan)
    tail = 100 * (1 - confidence) / 2
    low, high = np.nanpercentile(differences, [tail, 100 - tail])
    ap_before, ap_after = before.ap(), after.ap()
    return {"difference": ap_after - ap_before, "low": float(low), "high": float(high), "confidence": confidence,
            "resamples": int(resamples), "seed": int(seed), "num_images": len(before.image_ids),
            "AP_before": ap_before, "AP_after": ap_after}


def format_difference(result, people=None):
    """``+0.102 [+0.041, +0.170] (95% paired bootstrap over 55 images, 122 people, 2000 resamples)``."""
    who = f"{result['num_images']} images" + (f", {people} people" if people is not None else "")
    return (f"{result['difference']:+.3f} [{result['low']:+.3f}, {result['high']:+.3f}] "
            f"({100 * result['confidence']:.0f}% paired bootstrap over {who}, {result['resamples']} resamples)")

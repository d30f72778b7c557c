"""Heatmap peak widths: a Gaussian sigma fitted to the predicted probabilities around each labelled keypoint (and
person centre) against the same fit to the target, by person size; and the predicted centre's distance to the
labelled keypoints' mean and to the box centre."""

import math

import numpy as np
import tensorflow as tf

SIZE_BINS = (0, 8, 16, 32, math.inf)  # person box, longer side in grid cells
PEAK_MIN_PROBABILITY = 0.1  # predicted peaks fitted only where the model sees the point


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


def width_and_centre(outputs, targets, grid):
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


def summarise_widths(widths):
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

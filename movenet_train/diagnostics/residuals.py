"""Head residuals (prediction - target, in cells) of the offset and regression heads at every cell the losses
train, by ring: distance 0 (the cell the decoder reads) and 1, 2, 3 cells off; ``gain`` is how much of the target
vector the prediction carries (least squares, 1 = all of it)."""

import numpy as np


def ring_statistics(prediction, target, mask, rings, max_ring):
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


def offset_rings(targets):
    """Ring of every offset cell: the distance between it and the keypoint's floored cell, rounded."""
    vectors = targets["keypoint_offset"].reshape(*targets["keypoint_offset"].shape[:-1], -1, 2)
    floored = np.floor(vectors + 1e-6)
    return np.rint(np.sqrt((floored**2).sum(-1))).astype(int)


def regression_rings(targets):
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


def pool(entries):
    """Count-weighted pooling of per-batch ring statistics."""
    count = sum(e["count"] for e in entries)
    pooled = {"count": count}
    for key in ("mean_signed_residual", "mean_abs_residual"):
        pooled[key] = sum(e[key] * e["count"] for e in entries) / count
    gains = [(e["gain"], e["count"]) for e in entries if e["gain"] is not None]
    pooled["gain"] = sum(g * n for g, n in gains) / sum(n for _, n in gains) if gains else None
    return pooled

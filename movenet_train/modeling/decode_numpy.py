"""MoveNet decoding in NumPy, for the heads-only exports (``tflite_heads_*``, ``onnx``).

Delegates and accelerators (Android GPU, NNAPI, EdgeTPU, ncnn, Myriad) cannot run the decoding tail of the
released graphs (ArgMax, GatherND, Cast), and full-integer INT8 loses the keypoints in it. The heads-only files
stop at the raw head logits; this module turns those into exactly the released outputs, ``[B, 1, 17, 3]``
(single-pose) or ``[B, 6, 56]`` (multi-pose). It mirrors ``decode.py`` op for op, in float32, so the two agree
to float rounding (a test checks it on the COCO sample). It needs only NumPy: an app can copy this file.

Heads are the ``build_model`` outputs, ``[B, H, W, C]`` at stride 4: ``center``, ``keypoint_heatmap``,
``keypoint_regression``, ``keypoint_offset`` (and ``box_scale``, ``box_offset`` for multi-pose), as logits.
"""

import dataclasses
import functools

import numpy as np

F32 = np.float32


@dataclasses.dataclass(frozen=True)
class SinglePoseDecoding:
    # Added to the distance (in cells) before dividing, for the centre prior and the keypoint weighting.
    distance_offset: float = 1.8


@dataclasses.dataclass(frozen=True)
class MultiPoseDecoding:
    max_people: int = 6
    peak_pool_size: int = 5  # MaxPool ksize of the released graph
    peak_tolerance: float = 1e-6  # |sigmoid - maxpool| below this is a peak
    # A candidate keypoint is weighted by exp(-d^2 / (distance_scale * min(grid_h, grid_w))), d in cells.
    distance_scale: float = 0.3
    # Keypoints scoring above this count towards the instance score.
    keypoint_score_threshold: float = 0.127


@functools.lru_cache(maxsize=8)
def centre_prior(height, width, distance_offset=1.8):
    """``1 / (d(cell, grid centre) + offset)``: the released single-pose graphs' constant prior, ``[H, W, 1]``
    (computed once per grid size; read-only)."""
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    dist = np.sqrt((ys - height / 2) ** 2 + (xs - width / 2) ** 2)
    return _read_only((1.0 / (dist + distance_offset)).astype(F32)[..., None])


def _read_only(array):
    array.flags.writeable = False
    return array


def sigmoid(x):
    x = np.asarray(x, F32)
    return (F32(1) / (F32(1) + np.exp(-x))).astype(F32)


def dequantize(values, scale, zero_point):
    """Integer tensor of a quantised model -> float32 (``scale * (q - zero_point)``); float input passes through."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.floating):
        return values.astype(F32)
    return (F32(scale) * (values.astype(np.int32) - int(zero_point))).astype(F32)


@dataclasses.dataclass(frozen=True)
class QuantizedHead:
    """An integer head as an INT8 file outputs it, with its quantisation. The decoders read the centre and the
    keypoint heatmaps whole but the regression, offset and box heads only at a few cells, and dequantise only
    those: dequantising whole ``[48, 48, 34]`` maps cost more than the rest of the decoding."""

    values: np.ndarray
    scale: float
    zero_point: int

    @classmethod
    def of(cls, values, scale, zero_point):
        """``values`` wrapped if integer; float values (a float file) are returned as float32."""
        values = np.asarray(values)
        return cls(values, scale, zero_point) if np.issubdtype(values.dtype, np.integer) else values.astype(F32)


def _whole(head):
    return dequantize(head.values, head.scale, head.zero_point) if isinstance(head, QuantizedHead) else head


def _sigmoid(head):
    """``sigmoid`` of a whole head; for 8-bit heads from a 256-entry table (the same values, one exp per level)."""
    if isinstance(head, QuantizedHead) and head.values.dtype in (np.int8, np.uint8):
        info = np.iinfo(head.values.dtype)
        table = sigmoid(dequantize(np.arange(info.min, info.max + 1).astype(head.values.dtype), head.scale,
                                   head.zero_point))
        return table[head.values.astype(np.int32) - info.min]
    return sigmoid(_whole(head))


def _at(head, index):
    """``head[index]`` in float32, dequantising only the selected values."""
    if isinstance(head, QuantizedHead):
        return dequantize(head.values[index], head.scale, head.zero_point)
    return head[index]


@functools.lru_cache(maxsize=8)
def _grid(height, width):
    ys, xs = np.meshgrid(np.arange(height, dtype=F32), np.arange(width, dtype=F32), indexing="ij")
    return _read_only(ys), _read_only(xs)  # each [H, W]


def _flat_argmax_yx(values, width):
    """``values``: ``[B, H*W, ...]``; (row, col) int32 of the argmax over axis 1 (first maximum, as tf.argmax)."""
    index = np.argmax(values, axis=1).astype(np.int32)
    return index // width, index % width


def _gather_cells(head, rows, cols):
    """``head[b, rows[b, ...], cols[b, ...]]``: ``[B, H, W, C]`` at ``[B, ...]`` cells -> ``[B, ..., C]``."""
    batch = np.arange(rows.shape[0]).reshape((-1,) + (1,) * (rows.ndim - 1))
    return _at(head, (batch, rows, cols))


def _gather_offsets(head, rows, cols, keypoints):
    """The (y, x) offsets of keypoint ``keypoints[b, i]`` at cell ``(rows[b, i], cols[b, i])``: ``[B, I, 2]``.
    Channel ``2k`` is keypoint k's y offset, ``2k + 1`` its x offset."""
    batch = np.arange(rows.shape[0])[:, None]
    return np.stack([_at(head, (batch, rows, cols, 2 * keypoints)), _at(head, (batch, rows, cols, 2 * keypoints + 1))],
                    axis=-1)


def _heads(heads):
    return {key: value if isinstance(value, QuantizedHead) else np.asarray(value, F32) for key, value in heads.items()}


def decode_single_pose(heads, config=SinglePoseDecoding()):
    """Head logits -> ``[B, 1, K, 3]`` of (y, x, score), as ``decode.decode_single_pose``."""
    heads = _heads(heads)
    center = _sigmoid(heads["center"])
    heatmap = _sigmoid(heads["keypoint_heatmap"])
    batch, height, width, num_kpts = heatmap.shape
    prior = centre_prior(height, width, config.distance_offset)

    # 1. The person: argmax of the centre heatmap weighted by the prior.
    cy, cx = _flat_argmax_yx((center * prior).reshape(batch, -1), width)  # [B]
    # 2. Regressed keypoints from that cell.
    regression = _gather_cells(heads["keypoint_regression"], cy, cx).reshape(batch, num_kpts, 2)
    reg_y = cy.astype(F32)[:, None] + regression[..., 0]  # [B, K]
    reg_x = cx.astype(F32)[:, None] + regression[..., 1]
    # 3. Keypoint heatmaps weighted by the distance to the regressed position.
    # Squared row and column distances separately ([B, H, K], [B, W, K]), summed over the grid once.
    rows, cols = np.arange(height, dtype=F32), np.arange(width, dtype=F32)
    dy2 = (rows[None, :, None] - reg_y[:, None, :]) ** 2
    dx2 = (cols[None, :, None] - reg_x[:, None, :]) ** 2
    dist = np.sqrt(dy2[:, :, None, :] + dx2[:, None, :, :])
    weighted = heatmap / (dist + F32(config.distance_offset))  # [B, H, W, K]
    ky, kx = _flat_argmax_yx(weighted.reshape(batch, -1, num_kpts), width)  # [B, K]
    # 4. Offset at the chosen cell; 5. score = unweighted heatmap there.
    kpt_ids = np.broadcast_to(np.arange(num_kpts, dtype=np.int32)[None], ky.shape)
    offset = _gather_offsets(heads["keypoint_offset"], ky, kx, kpt_ids)  # [B, K, 2]
    b = np.arange(batch)[:, None]
    score = heatmap[b, ky, kx, kpt_ids]  # [B, K]
    y = (ky.astype(F32) + offset[..., 0]) / F32(height)
    x = (kx.astype(F32) + offset[..., 1]) / F32(width)
    return np.stack([y, x, score], axis=-1)[:, None].astype(F32)


def _max_pool_same(values, size):
    """``tf.nn.max_pool2d(values, size, 1, "SAME")`` of ``[B, H, W, C]``."""
    before = (size - 1) // 2
    after = size - 1 - before
    padded = np.pad(values, [(0, 0), (before, after), (before, after), (0, 0)], constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(1, 2))
    return windows.max(axis=(-2, -1))


def _top_k(values, k):
    """``tf.math.top_k`` over the last axis: largest first, ties to the lower index."""
    index = np.argsort(-values, axis=-1, kind="stable")[..., :k].astype(np.int32)
    return np.take_along_axis(values, index, axis=-1), index


def decode_multi_pose(heads, config=MultiPoseDecoding()):
    """Head logits -> ``[B, N, 3K + 5]``, as ``decode.decode_multi_pose``: K x (y, x, score), box, instance score."""
    heads = _heads(heads)
    center = _sigmoid(heads["center"])
    heatmap = _sigmoid(heads["keypoint_heatmap"])
    batch, height, width, num_kpts = heatmap.shape
    n = config.max_people
    h_f, w_f = F32(height), F32(width)
    b = np.arange(batch)[:, None]

    # Top-N centres after max-pool peak suppression.
    pooled = _max_pool_same(center, config.peak_pool_size)
    peaks = center * (np.abs(center - pooled) < F32(config.peak_tolerance)).astype(F32)
    centre_score, centre_flat = _top_k(peaks.reshape(batch, -1), n)  # [B, N]
    cy, cx = centre_flat // width, centre_flat % width
    cy_f, cx_f = cy.astype(F32), cx.astype(F32)

    # Person boxes (in cells) from the box heads, clipped to the grid.
    size = np.maximum(_gather_cells(heads["box_scale"], cy, cx), F32(0))  # [B, N, 2] (h, w)
    box_offset = _gather_cells(heads["box_offset"], cy, cx)
    box_cy, box_cx = cy_f + box_offset[..., 0], cx_f + box_offset[..., 1]
    ymin = np.clip(box_cy - size[..., 0] / F32(2), F32(0), h_f)
    xmin = np.clip(box_cx - size[..., 1] / F32(2), F32(0), w_f)
    ymax = np.clip(box_cy + size[..., 0] / F32(2), F32(0), h_f)
    xmax = np.clip(box_cx + size[..., 1] / F32(2), F32(0), w_f)

    # Keypoints regressed from each centre.
    regression = _gather_cells(heads["keypoint_regression"], cy, cx).reshape(batch, n, num_kpts, 2)
    reg_y = cy_f[..., None] + regression[..., 0]  # [B, N, K]
    reg_x = cx_f[..., None] + regression[..., 1]

    # Candidate score per cell, person and keypoint: heatmap x Gaussian of the distance to the regressed
    # keypoint x inside the person's box.
    gy, gx = _grid(height, width)
    gy5, gx5 = gy[None, :, :, None, None], gx[None, :, :, None, None]
    dist2 = (gy5 - reg_y[:, None, None]) ** 2 + (gx5 - reg_x[:, None, None]) ** 2  # [B, H, W, N, K]
    weight = np.exp(-dist2 / (F32(config.distance_scale) * min(h_f, w_f)))
    gy4, gx4 = gy[None, :, :, None], gx[None, :, :, None]
    in_box = (
        (gy4 >= ymin[:, None, None]) & (gy4 < ymax[:, None, None]) & (gx4 >= xmin[:, None, None]) & (gx4 < xmax[:, None, None])
    )  # [B, H, W, N]
    candidates = heatmap[:, :, :, None, :] * weight * in_box[..., None].astype(F32)
    best_over_people = candidates.max(axis=3)  # [B, H, W, K]: the released graph scores from this

    ky, kx = _flat_argmax_yx(candidates.reshape(batch, -1, n * num_kpts), width)  # [B, N*K]
    kpt_ids = np.broadcast_to(np.tile(np.arange(num_kpts, dtype=np.int32), n)[None], ky.shape)
    offset = _gather_offsets(heads["keypoint_offset"], ky, kx, kpt_ids)  # [B, N*K, 2]
    score = best_over_people[b, ky, kx, kpt_ids].reshape(batch, n, num_kpts)
    y = ((ky.astype(F32) + offset[..., 0]) / h_f).reshape(batch, n, num_kpts)
    x = ((kx.astype(F32) + offset[..., 1]) / w_f).reshape(batch, n, num_kpts)
    keypoints = np.stack([y, x, score], axis=-1).reshape(batch, n, 3 * num_kpts)

    # Instance score: centre score x mean of the keypoint scores above the threshold.
    above = (score > F32(config.keypoint_score_threshold)).astype(F32)
    instance = (centre_score[..., None] * score * above).sum(axis=-1) / np.maximum(above.sum(axis=-1), F32(1))
    boxes = np.stack([ymin / h_f, xmin / w_f, ymax / h_f, xmax / w_f], axis=-1)
    return np.concatenate([keypoints, np.clip(boxes, F32(0), F32(1)), instance[..., None]], axis=-1).astype(F32)


def decode(heads, multi_pose=None):
    """Either decoder; multi-pose when the heads include the box heads (or ``multi_pose=True``)."""
    if multi_pose is None:
        multi_pose = "box_scale" in heads
    return decode_multi_pose(heads) if multi_pose else decode_single_pose(heads)

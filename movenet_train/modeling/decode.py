"""MoveNet decoding as TensorFlow ops, read from the released graphs' own nodes.

Both decoders take the raw head logits of ``build_model`` (stride 4) and return one tensor, so a runtime
makes a single device-to-host copy. Coordinates are normalised to the model input.
"""

import tensorflow as tf

# The decoding constants and the centre prior are shared with the NumPy decoder (heads-only exports).
from movenet_train.modeling.decode_numpy import MultiPoseDecoding, SinglePoseDecoding, centre_prior  # noqa: F401


def _grid(height, width):
    ys = tf.cast(tf.range(height), tf.float32)
    xs = tf.cast(tf.range(width), tf.float32)
    return tf.meshgrid(ys, xs, indexing="ij")  # each [H, W]


def _flat_argmax_yx(values, width):
    """``values``: ``[B, H*W, ...]``; returns (row, col) int32 of the argmax over axis 1."""
    index = tf.math.argmax(values, axis=1, output_type=tf.int32)
    return index // width, index % width


def decode_single_pose(heads, config=SinglePoseDecoding()):
    """Head logits -> ``[B, 1, K, 3]`` of (y, x, score)."""
    center = tf.sigmoid(heads["center"])
    heatmap = tf.sigmoid(heads["keypoint_heatmap"])
    shape = tf.shape(heatmap)
    batch, height, width, num_kpts = shape[0], shape[1], shape[2], heatmap.shape[-1]
    static_hw = heatmap.shape[1:3]
    if static_hw.is_fully_defined():
        prior = tf.constant(centre_prior(static_hw[0], static_hw[1], config.distance_offset))
    else:
        gy, gx = _grid(height, width)
        h_f, w_f = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
        prior = (1.0 / (tf.sqrt((gy - h_f / 2) ** 2 + (gx - w_f / 2) ** 2) + config.distance_offset))[..., None]

    # 1. The person: argmax of the centre heatmap weighted by the prior.
    cy, cx = _flat_argmax_yx(tf.reshape(center * prior, [batch, -1]), width)
    centre_index = tf.stack([cy, cx], axis=-1)  # [B, 2]
    # 2. Regressed keypoints from that cell.
    regression = tf.reshape(tf.gather_nd(heads["keypoint_regression"], centre_index, batch_dims=1), [batch, num_kpts, 2])
    reg_y = tf.cast(cy, tf.float32)[:, None] + regression[..., 0]  # [B, K]
    reg_x = tf.cast(cx, tf.float32)[:, None] + regression[..., 1]
    # 3. Keypoint heatmaps weighted by the distance to the regressed position.
    gy, gx = _grid(height, width)
    dist = tf.sqrt(
        (gy[None, :, :, None] - reg_y[:, None, None, :]) ** 2 + (gx[None, :, :, None] - reg_x[:, None, None, :]) ** 2
    )
    weighted = heatmap / (dist + config.distance_offset)  # [B, H, W, K]
    ky, kx = _flat_argmax_yx(tf.reshape(weighted, [batch, -1, num_kpts]), width)  # [B, K]
    # 4. Offset at the chosen cell; 5. score = unweighted heatmap there.
    kpt_ids = tf.broadcast_to(tf.range(num_kpts, dtype=tf.int32)[None], tf.shape(ky))
    kpt_index = tf.stack([ky, kx, kpt_ids], axis=-1)  # [B, K, 3]
    offsets = tf.reshape(heads["keypoint_offset"], [batch, height, width, num_kpts, 2])
    offset = tf.gather_nd(offsets, kpt_index, batch_dims=1)  # [B, K, 2]
    score = tf.gather_nd(heatmap, kpt_index, batch_dims=1)  # [B, K]
    y = (tf.cast(ky, tf.float32) + offset[..., 0]) / tf.cast(height, tf.float32)
    x = (tf.cast(kx, tf.float32) + offset[..., 1]) / tf.cast(width, tf.float32)
    return tf.stack([y, x, score], axis=-1)[:, None]


def decode_multi_pose(heads, config=MultiPoseDecoding()):
    """Head logits -> ``[B, N, 3K + 5]``: K x (y, x, score), then ymin, xmin, ymax, xmax, instance score."""
    center = tf.sigmoid(heads["center"])
    heatmap = tf.sigmoid(heads["keypoint_heatmap"])
    shape = tf.shape(heatmap)
    batch, height, width, num_kpts = shape[0], shape[1], shape[2], heatmap.shape[-1]
    n = config.max_people
    h_f, w_f = tf.cast(height, tf.float32), tf.cast(width, tf.float32)

    # Top-N centres after max-pool peak suppression.
    pooled = tf.nn.max_pool2d(center, config.peak_pool_size, 1, "SAME")
    peaks = center * tf.cast(tf.abs(center - pooled) < config.peak_tolerance, tf.float32)
    centre_score, centre_flat = tf.math.top_k(tf.reshape(peaks, [batch, -1]), k=n)  # [B, N]
    cy, cx = centre_flat // width, centre_flat % width
    centre_index = tf.stack([cy, cx], axis=-1)  # [B, N, 2]
    cy_f, cx_f = tf.cast(cy, tf.float32), tf.cast(cx, tf.float32)

    # Person boxes (in cells) from the box heads, clipped to the grid.
    size = tf.maximum(tf.gather_nd(heads["box_scale"], centre_index, batch_dims=1), 0.0)  # [B, N, 2] (h, w)
    box_offset = tf.gather_nd(heads["box_offset"], centre_index, batch_dims=1)
    box_cy, box_cx = cy_f + box_offset[..., 0], cx_f + box_offset[..., 1]
    ymin = tf.clip_by_value(box_cy - size[..., 0] / 2, 0.0, h_f)
    xmin = tf.clip_by_value(box_cx - size[..., 1] / 2, 0.0, w_f)
    ymax = tf.clip_by_value(box_cy + size[..., 0] / 2, 0.0, h_f)
    xmax = tf.clip_by_value(box_cx + size[..., 1] / 2, 0.0, w_f)

    # Keypoints regressed from each centre.
    regression = tf.reshape(tf.gather_nd(heads["keypoint_regression"], centre_index, batch_dims=1), [batch, n, num_kpts, 2])
    reg_y = cy_f[..., None] + regression[..., 0]  # [B, N, K]
    reg_x = cx_f[..., None] + regression[..., 1]

    # Candidate score per cell, person and keypoint: heatmap x Gaussian of the distance to the regressed
    # keypoint x inside the person's box.
    gy, gx = _grid(height, width)
    # expand_dims rather than None-indexing: the TFLite converter handles it with dynamic input sizes.
    gy5, gx5 = (tf.expand_dims(tf.expand_dims(tf.expand_dims(g, 0), -1), -1) for g in (gy, gx))
    dist2 = (gy5 - reg_y[:, None, None]) ** 2 + (gx5 - reg_x[:, None, None]) ** 2  # [B, H, W, N, K]
    weight = tf.exp(-dist2 / (config.distance_scale * tf.minimum(h_f, w_f)))
    gy4, gx4 = (tf.expand_dims(tf.expand_dims(g, 0), -1) for g in (gy, gx))
    in_box = (
        (gy4 >= ymin[:, None, None]) & (gy4 < ymax[:, None, None]) & (gx4 >= xmin[:, None, None]) & (gx4 < xmax[:, None, None])
    )  # [B, H, W, N]
    candidates = tf.expand_dims(heatmap, 3) * weight * tf.expand_dims(tf.cast(in_box, tf.float32), -1)
    best_over_people = tf.reduce_max(candidates, axis=3)  # [B, H, W, K]: the released graph scores from this

    ky, kx = _flat_argmax_yx(tf.reshape(candidates, [batch, -1, n * num_kpts]), width)  # [B, N*K]
    kpt_ids = tf.broadcast_to(tf.tile(tf.range(num_kpts, dtype=tf.int32), [n])[None], tf.shape(ky))
    kpt_index = tf.stack([ky, kx, kpt_ids], axis=-1)
    offsets = tf.reshape(heads["keypoint_offset"], [batch, height, width, num_kpts, 2])
    offset = tf.gather_nd(offsets, kpt_index, batch_dims=1)  # [B, N*K, 2]
    score = tf.reshape(tf.gather_nd(best_over_people, kpt_index, batch_dims=1), [batch, n, num_kpts])
    y = tf.reshape((tf.cast(ky, tf.float32) + offset[..., 0]) / h_f, [batch, n, num_kpts])
    x = tf.reshape((tf.cast(kx, tf.float32) + offset[..., 1]) / w_f, [batch, n, num_kpts])
    keypoints = tf.reshape(tf.stack([y, x, score], axis=-1), [batch, n, 3 * num_kpts])

    # Instance score: centre score x mean of the keypoint scores above the threshold.
    above = tf.cast(score > config.keypoint_score_threshold, tf.float32)
    instance = tf.reduce_sum(centre_score[..., None] * score * above, axis=-1) / tf.maximum(
        tf.reduce_sum(above, axis=-1), 1.0
    )
    boxes = tf.stack([ymin / h_f, xmin / w_f, ymax / h_f, xmax / w_f], axis=-1)
    return tf.concat([keypoints, tf.clip_by_value(boxes, 0.0, 1.0), instance[..., None]], axis=-1)

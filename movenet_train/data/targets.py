"""MoveNet training targets: the ODAPI CenterNet keypoint task, as dense maps on the stride-4 grid.

ODAPI assigns sparse targets (indices plus values); the model's heads are dense, so here each map holds the
values and a mask of the cells that carry one. Where the neighbourhoods of two people overlap, the cell goes
to the nearer one (ODAPI would train both values on that cell, which no dense target can hold).

Conventions, shared with ``modeling/decode.py``: coordinates are in grid cells, cell ``(i, j)`` covers
``[i, i+1) x [j, j+1)``, a point's peak is its floored cell, offsets and regression vectors are
``point - cell`` as (y, x) pairs per keypoint (channel ``2k`` is y, ``2k+1`` is x).
"""

import dataclasses
import typing

import tensorflow as tf
from official.projects.centernet.ops.target_assigner import compute_std_dev_from_box_size

from movenet_train.errors import UserError


OUTPUT_STRIDE = 4  # of every MoveNet head
HEATMAP_SIGMA_MODES = ("box", "fixed", "clipped")


@dataclasses.dataclass(frozen=True)
class TargetConfig:
    """``cfg.data.targets``; the defaults are ODAPI's (configs/data/targets/odapi.yaml)."""

    DEFAULTS: typing.ClassVar = ("data/targets/odapi.yaml", None)  # the defaults' one home, under configs/

    keypoint_std: tuple
    min_overlap: float
    offset_radius: int
    regression_radius: int
    center: str
    max_people: int
    # Gaussian widths of the heatmaps, in grid cells: "box" (ODAPI: grow with the person's box), "fixed" (the
    # same for every person, as the released heads' peaks are) or "clipped" (the box rule clipped to sigma_clip).
    heatmap_sigma: str
    center_sigma_cells: float
    keypoint_sigma_cells: float
    sigma_clip: tuple

    def __post_init__(self):
        if self.center not in ("keypoints_mean", "box"):
            raise UserError(f"data.targets.center: expected keypoints_mean or box, got {self.center!r}")
        if self.heatmap_sigma not in HEATMAP_SIGMA_MODES:
            raise UserError(f"data.targets.heatmap_sigma: expected one of {', '.join(HEATMAP_SIGMA_MODES)}, got "
                            f"{self.heatmap_sigma!r}")
        for key in ("center_sigma_cells", "keypoint_sigma_cells"):
            if not getattr(self, key) > 0:
                raise UserError(f"data.targets.{key}: must be > 0, got {getattr(self, key)}")
        object.__setattr__(self, "sigma_clip", tuple(float(v) for v in self.sigma_clip))
        if len(self.sigma_clip) != 2 or not 0 < self.sigma_clip[0] <= self.sigma_clip[1]:
            raise UserError(f"data.targets.sigma_clip: expected [min, max] with 0 < min <= max, got "
                            f"{list(self.sigma_clip)}")
        for key in ("offset_radius", "regression_radius"):
            if int(getattr(self, key)) < 0:
                raise UserError(f"data.targets.{key}: must be >= 0, got {getattr(self, key)}")

    @property
    def num_keypoints(self):
        return len(self.keypoint_std)

    @classmethod
    def from_config(cls, cfg, schema):
        """``keypoint_std`` null: ODAPI's rule, 10 x the schema's OKS sigmas; a list must have one per joint."""
        from movenet_train.config import plain_values, config_from

        values = dict(plain_values(cfg))
        if values.get("keypoint_std") is None:
            values["keypoint_std"] = tuple(round(10.0 * s, 9) for s in schema.sigmas)
        values["keypoint_std"] = tuple(float(s) for s in values["keypoint_std"])
        if len(values["keypoint_std"]) != schema.num_keypoints:
            raise UserError(f"data.targets.keypoint_std: expected {schema.num_keypoints} values (the keypoint schema "
                            f"{schema.name!r} has {schema.num_keypoints} joints), got {len(values['keypoint_std'])}; "
                            "null derives them from the schema's sigmas")
        return config_from(cls, values, "data.targets")


def _squared_distances(peaks, ys, xs):
    """``[H, W, N, C]`` squared distances from every cell to the ``[N, C, 2]`` peaks."""
    dy = ys[:, None, None, None] - peaks[None, None, ..., 0]
    dx = xs[None, :, None, None] - peaks[None, None, ..., 1]
    return dy**2 + dx**2


def _gaussian_peaks(peaks, sigma, active, ys, xs):
    """Max over people of ``exp(-d^2 / 2 sigma^2)`` around each floored peak.

    ``peaks`` ``[N, C, 2]`` (already floored), ``sigma`` and ``active`` ``[N, C]`` -> ``[H, W, C]``.
    """
    d2 = _squared_distances(peaks, ys, xs)
    gaussian = tf.exp(-d2 / (2.0 * sigma**2)) * tf.cast(active, tf.float32)
    return tf.maximum(tf.reduce_max(gaussian, axis=2), 0.0)  # the max over zero people is -inf


def _nearest_within_radius(points, active, ys, xs, radius):
    """Assigns each cell within ``radius`` of an active point's floored cell to the nearest such point.

    ``points`` ``[N, C, 2]``, ``active`` ``[N, C]`` -> (winner ``[H, W, C]`` int32 in ``[0, N]``, assigned
    ``[H, W, C]`` bool). Distances are measured between integer cells, as ODAPI's ``get_surrounding_grids``.
    """
    d2 = _squared_distances(tf.floor(points), ys, xs)
    within = (d2 <= float(radius) ** 2) & active[None, None]
    d2 = tf.where(within, d2, float("inf"))
    # A last "nobody" column keeps argmin defined when there are no people.
    nobody = tf.fill(tf.concat([tf.shape(d2)[:2], [1], tf.shape(d2)[3:]], 0), float("inf"))
    winner = tf.argmin(tf.concat([d2, nobody], axis=2), axis=2, output_type=tf.int32)
    return winner, tf.reduce_any(within, axis=2)


def _pad_nobody(values):
    """Appends the zero row that ``winner == N`` ("nobody") gathers."""
    return tf.concat([values, tf.zeros(tf.concat([[1], tf.shape(values)[1:]], 0), values.dtype)], axis=0)


def _gather_people(values, winner):
    """``values[winner[h, w, c], c]``: ``values`` ``[N, C, ...]``, ``winner`` ``[H, W, C]`` in ``[0, N]``."""
    padded = _pad_nobody(values)
    per_channel = tf.gather(tf.transpose(padded, [1, 0] + list(range(2, padded.shape.rank))),
                            tf.transpose(winner, [2, 0, 1]), batch_dims=1)  # [C, H, W, ...]
    return tf.transpose(per_channel, [1, 2, 0] + list(range(3, per_channel.shape.rank)))


def heatmap_sigmas(box_height, box_width, config):
    """(centre ``[N, 1]``, keypoint ``[N, K]``) Gaussian sigmas in cells for people with these box sides (cells).

    ``box``: ODAPI's rule, the CornerNet radius of the box at IoU ``min_overlap`` as ``(2 floor(r) + 1) / 6``,
    times ``keypoint_std`` for keypoints. ``fixed``: ``center_sigma_cells`` / ``keypoint_sigma_cells`` for
    everyone. ``clipped``: the box rule clipped to ``sigma_clip``.
    """
    num_people = tf.shape(box_height)[0]
    if config.heatmap_sigma == "fixed":
        return (tf.fill([num_people, 1], float(config.center_sigma_cells)),
                tf.fill([num_people, config.num_keypoints], float(config.keypoint_sigma_cells)))
    box_sigma = compute_std_dev_from_box_size(box_height, box_width, config.min_overlap)[:, None]  # [N, 1]
    center_sigma = box_sigma
    keypoint_sigma = box_sigma * tf.constant(config.keypoint_std, tf.float32)[None]
    if config.heatmap_sigma == "clipped":
        low, high = config.sigma_clip
        center_sigma = tf.clip_by_value(center_sigma, low, high)
        keypoint_sigma = tf.clip_by_value(keypoint_sigma, low, high)
    return center_sigma, keypoint_sigma


def person_centres(keypoints, labelled, boxes, mode="keypoints_mean"):
    """``[N, 2]`` centres: the mean of the labelled keypoints (MoveNet) or the box centre (ODAPI)."""
    if mode == "box":
        return (boxes[:, :2] + boxes[:, 2:]) / 2.0
    weight = tf.cast(labelled, tf.float32)[..., None]
    return tf.reduce_sum(keypoints * weight, axis=1) / tf.maximum(tf.reduce_sum(weight, axis=1), 1.0)


def encode_targets(keypoints, visibility, boxes, is_crowd, grid_height, grid_width, config, multi_pose=False):
    """Dense targets of one image.

    Args:
      keypoints: ``[N, K, 2]`` (y, x) in grid cells, K the schema's joints (``len(config.keypoint_std)``).
      visibility: ``[N, K]`` int, COCO 0/1/2; 0 also for keypoints outside the grid.
      boxes: ``[N, 4]`` (ymin, xmin, ymax, xmax) in grid cells, clipped to the grid.
      is_crowd: ``[N]`` bool or 0/1.
      grid_height, grid_width: the output grid (python ints).
      config: ``TargetConfig``.
      multi_pose: add the box targets of the MultiPose heads.

    Returns:
      dict of float32 maps (see ``pipeline.build_dataset``), plus ``keypoints`` ``[P, K, 3]`` (y, x normalised
      to the grid, visibility) of the people that have a centre, in input order, and ``num_valid``.
    """
    keypoints = tf.convert_to_tensor(keypoints, tf.float32)
    num_keypoints = config.num_keypoints
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    visibility = tf.cast(visibility, tf.int32)
    crowd = tf.cast(is_crowd, tf.bool)
    ys = tf.range(grid_height, dtype=tf.float32)
    xs = tf.range(grid_width, dtype=tf.float32)

    labelled = (visibility > 0) & ~crowd[:, None]  # [N, K]
    has_centre = tf.reduce_any(labelled, axis=1)  # crowd regions and people with no labelled keypoint have none
    centres = person_centres(keypoints, labelled, boxes, config.center)  # [N, 2]
    box_h, box_w = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    center_sigma, keypoint_sigma = heatmap_sigmas(box_h, box_w, config)

    # Heatmaps: Gaussians at the floored peaks.
    center_heatmap = _gaussian_peaks(tf.floor(centres)[:, None], center_sigma, has_centre[:, None], ys, xs)
    keypoint_heatmap = _gaussian_peaks(tf.floor(keypoints), keypoint_sigma, labelled, ys, xs)

    # Loss masks: ignore a person's box for the keypoints they lack (all of them for crowd regions and people
    # without keypoints), and for the centre where they have none.
    in_box = ((ys[:, None, None] >= boxes[:, 0]) & (ys[:, None, None] <= boxes[:, 2])
              & (xs[None, :, None] >= boxes[:, 1]) & (xs[None, :, None] <= boxes[:, 3]))  # [H, W, N]
    blackout = tf.cast(in_box, tf.float32)
    keypoint_heatmap_mask = 1.0 - tf.reduce_max(
        tf.concat([tf.zeros([grid_height, grid_width, 1, num_keypoints]),
                   blackout[..., None] * tf.cast(~labelled, tf.float32)[None, None]], axis=2), axis=2)
    center_mask = 1.0 - tf.reduce_max(
        tf.concat([tf.zeros([grid_height, grid_width, 1]), blackout * tf.cast(~has_centre, tf.float32)], axis=2),
        axis=2, keepdims=True)

    cells = tf.stack(tf.meshgrid(ys, xs, indexing="ij"), axis=-1)[:, :, None, :]  # [H, W, 1, 2]

    # Offsets: keypoint - cell, around each labelled keypoint, per keypoint channel.
    winner, assigned = _nearest_within_radius(keypoints, labelled, ys, xs, config.offset_radius)
    offset = _gather_people(keypoints, winner) - cells  # [H, W, K, 2]
    offset_mask = tf.cast(assigned, tf.float32)[..., None] * tf.ones([1, 1, 1, 2])

    # Regression: keypoint - cell, around each person's centre, for the keypoints they have.
    winner, assigned = _nearest_within_radius(centres[:, None], has_centre[:, None], ys, xs, config.regression_radius)
    winner = winner[..., 0]  # [H, W]
    regression = tf.gather(_pad_nobody(keypoints), winner) - cells  # [H, W, K, 2]
    winner_labelled = tf.gather(_pad_nobody(labelled), winner)  # [H, W, K]
    regression_mask = tf.cast(assigned & winner_labelled, tf.float32)[..., None] * tf.ones([1, 1, 1, 2])

    targets = {
        "center_heatmap": center_heatmap,
        "center_mask": center_mask,
        "keypoint_heatmap": keypoint_heatmap,
        "keypoint_heatmap_mask": keypoint_heatmap_mask,
        "keypoint_offset": tf.reshape(offset * offset_mask, [grid_height, grid_width, 2 * num_keypoints]),
        "keypoint_offset_mask": tf.reshape(offset_mask, [grid_height, grid_width, 2 * num_keypoints]),
        "keypoint_regression": tf.reshape(regression * regression_mask, [grid_height, grid_width, 2 * num_keypoints]),
        "keypoint_regression_mask": tf.reshape(regression_mask, [grid_height, grid_width, 2 * num_keypoints]),
        "num_people": tf.reduce_sum(tf.cast(has_centre, tf.float32)),
        "num_keypoints": tf.reduce_sum(tf.cast(labelled, tf.float32)),
    }

    if multi_pose:
        # ODAPI's object-centre task at the centre cell only: box height/width and box centre - cell.
        winner, assigned = _nearest_within_radius(centres[:, None], has_centre[:, None], ys, xs, 0)
        winner = winner[..., 0]
        size = tf.gather(_pad_nobody(tf.stack([box_h, box_w], -1)), winner)  # [H, W, 2]
        box_centre = tf.gather(_pad_nobody((boxes[:, :2] + boxes[:, 2:]) / 2.0), winner)
        box_mask = tf.cast(assigned, tf.float32) * tf.ones([1, 1, 2])
        targets["box_scale"] = size * box_mask
        targets["box_offset"] = (box_centre - cells[:, :, 0]) * box_mask
        targets["box_mask"] = box_mask

    # The people that have a centre, normalised to the input, for decoding tests and evaluation.
    people = tf.boolean_mask(tf.concat([keypoints / [float(grid_height), float(grid_width)],
                                        tf.cast(tf.where(labelled, visibility, 0), tf.float32)[..., None]], -1),
                             has_centre)[: config.max_people]
    targets["keypoints"] = tf.pad(people, [[0, config.max_people - tf.shape(people)[0]], [0, 0], [0, 0]])
    targets["keypoints"].set_shape([config.max_people, num_keypoints, 3])
    grid = [float(grid_height), float(grid_width)] * 2
    people_boxes = tf.boolean_mask(boxes / grid, has_centre)[: config.max_people]
    targets["boxes"] = tf.pad(people_boxes, [[0, config.max_people - tf.shape(people_boxes)[0]], [0, 0]])
    targets["boxes"].set_shape([config.max_people, 4])
    targets["num_valid"] = tf.shape(people)[0]
    return targets

"""Turns, rotations, crops and warps: the one home of the project's image geometry, in NumPy and TensorFlow.

Conventions (everything here, and everyone who imports it):

- Points are (y, x), in continuous pixel coordinates: the image edges are at 0 and H (rows) / W (columns) and
  pixel ``i`` is centred on ``i + 0.5`` (the convention of ``tf.image.resize`` and ``preprocessing.unletterbox``).
  Normalised points are the same divided by the side, (y, x) in [0, 1].
- Transforms are 3x3 homogeneous matrices acting on the column (y, x, 1) and map SOURCE coordinates to
  DESTINATION coordinates (a crop's matrix takes source-image pixels to model-input pixels). Composition is
  matrix product, the later transform on the left: ``after @ before``.
- Quarter turns are counter-clockwise, as ``numpy.rot90(image, k)`` and ``tf.image.rot90(image, k)``: one turn
  of an H x W image gives a W x H image and takes (y, x) to (W - x, y).
- Angles are radians; a positive angle turns the content counter-clockwise as seen on screen (y pointing down),
  so that ``angle = pi / 2`` about the centre of a square is exactly one ``rot90`` turn. The linear part of a
  turn by ``angle`` is ``[[cos, -sin], [sin, cos]]`` on (y, x).

The NumPy part (float64) is for code outside TensorFlow graphs (an orientation search at inference, a tracker's
crops, export checks); the TensorFlow part (float32) is what the training pipeline and the teacher use. The two
share formulas (``crop_matrix`` is ``window_transform`` without the augmentation; ``quarter_turn_transform`` is
built from ``quarter_turn_matrix``) and one resampler (``warp`` runs ``warp_maps``).
"""

import math

import numpy as np
import tensorflow as tf

# ---------------------------------------------------------------------------------------------------------
# NumPy


def quarter_turn_matrix(turns, height, width):
    """float64 ``[3, 3]``: (y, x) of a ``height x width`` image -> the same point's place after
    ``np.rot90(image, turns)`` (any integer ``turns``, taken mod 4). One turn is (y, x) -> (width - x, y), and
    leaves a ``width x height`` image for the next."""
    if int(turns) != turns:
        raise ValueError(f"turns must be an integer, got {turns!r}")
    matrix = np.eye(3)
    for _ in range(int(turns) % 4):
        matrix = np.array([[0.0, -1.0, float(width)], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]) @ matrix
        height, width = width, height
    return matrix


def rotation_matrix(angle, centre_yx):
    """float64 ``[3, 3]``: turning the content by ``angle`` (radians, counter-clockwise on screen) about
    ``centre_yx``. ``rotation_matrix(pi / 2, (s / 2, s / 2))`` is ``quarter_turn_matrix(1, s, s)``."""
    cos, sin = math.cos(angle), math.sin(angle)
    cy, cx = (float(v) for v in centre_yx)
    # q = c + R (p - c)
    return np.array([[cos, -sin, cy - cos * cy + sin * cx],
                     [sin, cos, cx - sin * cy - cos * cx],
                     [0.0, 0.0, 1.0]])


def apply(matrix, points_yx):
    """``points_yx`` ``[..., 2]`` (y, x) through ``matrix`` -> float64 ``[..., 2]``."""
    matrix = np.asarray(matrix, np.float64)
    return np.asarray(points_yx, np.float64) @ matrix[:2, :2].T + matrix[:2, 2]


def turn_normalized(yx, turns):
    """Normalised (y, x) ``[..., 2]`` of a square input -> their place after ``turns`` counter-clockwise quarter
    turns of it ((y, x) -> (1 - x, y) per turn)."""
    return apply(quarter_turn_matrix(turns, 1.0, 1.0), yx)


def unturn_normalized(yx, turns):
    """The inverse of ``turn_normalized``: points found in the input turned by ``turns`` -> the upright input
    (an inference-time quarter-turn search turns its keypoints back with this)."""
    return apply(quarter_turn_matrix(-int(turns), 1.0, 1.0), yx)


def body_angle(upper_yx, lower_yx):
    """The signed angle (radians, in (-pi, pi]) by which the vector from ``lower_yx`` (the hip centre) to
    ``upper_yx`` (the shoulder centre) is turned away from the image's up direction (-y), counter-clockwise on
    screen positive: 0 upright, pi / 2 head to the left (one ``rot90`` of an upright person), -pi / 2 head to the
    right, pi upside down. Vectorised over ``[..., 2]``; 0 where the two points coincide.

    Turning the content by ``-body_angle`` (``rotation_matrix(-angle, centre)``, ``crop_matrix(..., angle=-angle)``)
    makes the body upright.
    """
    vy, vx = np.moveaxis(np.asarray(upper_yx, np.float64) - np.asarray(lower_yx, np.float64), -1, 0)
    # R(angle) applied to up (-1, 0) is (-cos, -sin).
    angle = np.arctan2(-vx, -vy)
    angle = np.where(angle <= -np.pi, angle + 2 * np.pi, angle)
    angle = np.where((vx == 0) & (vy == 0), 0.0, angle) + 0.0  # + 0.0: no -0.0
    return float(angle) if angle.ndim == 0 else angle


def crop_matrix(centre_yx, side, size, angle=0.0):
    """float64 ``[3, 3]``: source pixels -> the ``size x size`` model input holding the square of ``side`` source
    pixels centred on ``centre_yx``, its content turned by ``angle`` (radians, counter-clockwise on screen) about
    the centre. The NumPy twin of ``window_transform`` (no scale, shift or flip), same formula:
    ``q = size / 2 + (size / side) R(angle) (p - centre)``."""
    zoom = size / float(side)
    cos, sin = math.cos(angle) * zoom, math.sin(angle) * zoom
    cy, cx = (float(v) for v in centre_yx)
    half = size / 2.0
    return np.array([[cos, -sin, half - cos * cy + sin * cx],
                     [sin, cos, half - sin * cy - cos * cx],
                     [0.0, 0.0, 1.0]])


def warp(image, matrix, size):
    """Resamples ``image`` (``[H, W, C]`` or ``[H, W]``) through ``matrix`` (source -> output) into uint8
    ``[size, size, C]`` (or ``[size, size]``): bilinear, zeros outside, values truncated to integers like
    ``tf.cast`` (uint8 input is resampled in uint8 as ``warp_image`` does; other dtypes in float32, clipped to
    0-255). Runs ``warp_maps``, the resampler of training."""
    pixels = np.asarray(image)
    flat = pixels.ndim == 2
    if flat:
        pixels = pixels[..., None]
    if pixels.dtype != np.uint8:
        pixels = pixels.astype(np.float32)
    out = warp_maps(tf.constant(pixels[None]), tf.constant(np.asarray(matrix, np.float32)[None]), (size, size))[0]
    if out.dtype != tf.uint8:
        out = tf.cast(tf.clip_by_value(out, 0.0, 255.0), tf.uint8)
    out = out.numpy()
    return out[..., 0] if flat else out


# ---------------------------------------------------------------------------------------------------------
# TensorFlow


def window_transform(centre, side, size, scale=1.0, shift=(0.0, 0.0), angle=0.0, flip=False):
    """Matrix mapping source pixels to the ``size x size`` model input.

    A square window of ``side`` pixels centred on ``centre`` (y, x) fills the input; ``scale`` > 1 zooms in,
    ``shift`` moves the window centre by that fraction of its side, ``angle`` (radians) rotates the content
    about the window centre, ``flip`` mirrors the result horizontally.
    """
    side = tf.cast(side, tf.float32) / scale
    cy = tf.cast(centre[0], tf.float32) + shift[0] * side
    cx = tf.cast(centre[1], tf.float32) + shift[1] * side
    zoom = size / side
    cos, sin = tf.cos(angle) * zoom, tf.sin(angle) * zoom
    half = size / 2.0
    # q = size/2 + zoom * R(angle) (p - c)
    matrix = tf.stack([
        tf.stack([cos, -sin, half - cos * cy + sin * cx]),
        tf.stack([sin, cos, half - sin * cy - cos * cx]),
        tf.constant([0.0, 0.0, 1.0]),
    ])
    mirror = tf.constant([[1.0, 0.0, 0.0], [0.0, -1.0, float(size)], [0.0, 0.0, 1.0]])
    return tf.cond(tf.cast(flip, tf.bool), lambda: mirror @ matrix, lambda: matrix)


def letterbox_transform(height, width, size):
    """The window of ``tf.image.resize_with_pad``: the whole image, centred, padded to a square."""
    height, width = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    return (height / 2.0, width / 2.0), tf.maximum(height, width)


def transform_points(matrix, points):
    """``points`` ``[..., 2]`` (y, x) -> transformed ``[..., 2]``."""
    return tf.einsum("ij,...j->...i", matrix[:2, :2], points) + matrix[:2, 2]


def transform_boxes(matrix, boxes, size):
    """Axis-aligned hull of the transformed corners of ``[N, 4]`` (ymin, xmin, ymax, xmax), clipped to the input."""
    y0, x0, y1, x1 = tf.unstack(boxes, axis=-1)
    corners = tf.stack([tf.stack([y0, x0], -1), tf.stack([y0, x1], -1), tf.stack([y1, x0], -1),
                        tf.stack([y1, x1], -1)], axis=1)  # [N, 4, 2]
    corners = transform_points(matrix, corners)
    hull = tf.concat([tf.reduce_min(corners, axis=1), tf.reduce_max(corners, axis=1)], axis=-1)
    return tf.clip_by_value(hull, 0.0, float(size))


def warp_image(image, matrix, size):
    """Resamples ``image`` (uint8 ``[H, W, 3]``) through ``matrix`` into float32 ``[size, size, 3]``, zeros outside.

    Bilinear without antialiasing, like ``tf.image.resize_with_pad`` at inference; in uint8, which truncates
    the interpolated values as the evaluation's cast of its letterboxed image to uint8 does.
    """
    return tf.cast(warp_maps(image[None], matrix[None], (size, size))[0], tf.float32)


def warp_maps(maps, matrices, shape):
    """Resamples a batch ``[B, H, W, C]`` through per-example ``matrices`` ``[B, 3, 3]`` (source coordinates ->
    output coordinates, the convention above) into ``[B, shape[0], shape[1], C]``, bilinear, zeros outside."""
    inverse = tf.linalg.inv(matrices)  # output -> source
    # Pixel indices are continuous coordinates - 0.5, and ImageProjectiveTransform wants (x, y) order.
    m = inverse @ tf.constant([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    transforms = tf.stack([m[:, 1, 1], m[:, 1, 0], m[:, 1, 2] - 0.5, m[:, 0, 1], m[:, 0, 0], m[:, 0, 2] - 0.5,
                           tf.zeros_like(m[:, 0, 0]), tf.zeros_like(m[:, 0, 0])], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=maps, transforms=transforms, output_shape=list(shape), fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")


def quarter_turn_transform(turns, size):
    """Matrix of ``turns`` counter-clockwise quarter turns of a ``size x size`` input about its centre, the
    transform ``tf.image.rot90`` applies: (y, x) -> (size - x, y) per turn (``quarter_turn_matrix``, for a tensor
    ``turns``). It moves pixels without resampling, so a view and its turned copy hold the same values (the
    teacher's upright view, ``train.distill.view``)."""
    powers = tf.constant(np.stack([quarter_turn_matrix(k, size, size) for k in range(4)]), tf.float32)
    return tf.gather(powers, tf.math.floormod(turns, 4))


def turn_normalized_points(points, turns):
    """The TensorFlow twin of ``turn_normalized``: normalised (y, x) ``[..., 2]`` of a square input -> their place
    after ``turns`` (an integer, or an int tensor) counter-clockwise quarter turns of it, through
    ``quarter_turn_transform`` of the unit square."""
    return transform_points(quarter_turn_transform(turns, 1.0), tf.cast(points, tf.float32))


def unturn_normalized_points(points, turns):
    """The TensorFlow twin of ``unturn_normalized``: points found in the input turned by ``turns`` -> the upright
    input (an exported file's in-graph quarter-turn search turns its keypoints back with this)."""
    return turn_normalized_points(points, -tf.cast(turns, tf.int32))


def quarter_turn_image(image, turns):
    """``tf.image.rot90(image, turns)`` for a Python integer ``turns`` (taken mod 4) on ``[..., H, W, C]``: the
    same ops (reverse, transpose) without the ``tf.case`` that ``tf.image.rot90`` wraps them in, so the graph
    holds no branch (an exported file's in-graph search builds its four views with it)."""
    if int(turns) != turns:
        raise ValueError(f"turns must be an integer, got {turns!r}")
    rank = image.shape.rank
    rows, cols = rank - 3, rank - 2
    swap = list(range(rank))
    swap[rows], swap[cols] = cols, rows
    turns = int(turns) % 4
    if turns == 1:
        return tf.transpose(tf.reverse(image, [cols]), swap)
    if turns == 2:
        return tf.reverse(image, [rows, cols])
    if turns == 3:
        return tf.reverse(tf.transpose(image, swap), [cols])
    return tf.identity(image)

"""The teacher of ``train.teacher``: loading it, and carrying its head maps from the view it saw to the student's.

Equivariant teaching (``train.distill.view``): the teacher looks at the student's input before its quarter turns
(``upright``) or at the window without any augmentation (``unaugmented``), rendered at the teacher's own input
size, and its maps are carried through the rest of the student's transform. A teacher that fails on a turned
person still teaches the turned view correctly: it only ever sees the people upright. Quarter turns carry the
maps exactly (the grid cells move without resampling); anything else resamples them.

Conventions (those of ``data/targets.py`` and ``modeling/decode.py``): grid cell ``i`` covers ``[i, i+1)``,
so its value belongs at the continuous position ``i + 0.5``; vector heads hold ``point - cell`` as (y, x).
Carrying maps a student cell centre ``c_s`` back to the teacher position ``c_t``, reads the teacher's field
there (bilinear) and turns the vector with the linear part ``A`` of the transform:
``v_s = A (v_t - 0.5) + 0.5`` (the 0.5 moves the vector's origin from the cell corner to its centre and back).
"""

import dataclasses
import logging

import tensorflow as tf

from movenet_train import model_files
from movenet_train.data.targets import OUTPUT_STRIDE
from movenet_train.errors import UserError
from movenet_train.geometry import warp_maps
from movenet_train.training.initialisation import initial_weights

log = logging.getLogger(__name__)

VECTOR_HEADS = ("keypoint_offset", "keypoint_regression", "box_offset")
PER_JOINT_HEADS = {"keypoint_heatmap": 1, "keypoint_offset": 2, "keypoint_regression": 2}  # channels per joint
# Below this share of a student cell covered by the teacher's view, the cell is not taught (bilinear weights of
# the zero fill outside the view pull the carried values toward 0 there).
MIN_COVERAGE = 0.999


def _grid_transform(carry):
    """Input-pixel transform ``[B, 3, 3]`` -> the same on the stride-4 grids (the linear part is unchanged)."""
    to_grid = tf.constant([[1.0 / OUTPUT_STRIDE, 0.0, 0.0], [0.0, 1.0 / OUTPUT_STRIDE, 0.0], [0.0, 0.0, 1.0]])
    from_grid = tf.constant([[float(OUTPUT_STRIDE), 0.0, 0.0], [0.0, float(OUTPUT_STRIDE), 0.0], [0.0, 0.0, 1.0]])
    return to_grid @ carry @ from_grid


def _carry_vectors(values, linear):
    """``[B, H, W, 2n]`` (y, x) pairs of ``point - cell`` -> turned by ``linear`` ``[B, 2, 2]``.

    ``A (v - 0.5) + 0.5`` written as ``A v + (0.5 - A 0.5)``: exact in floating point for the identity and the
    quarter turns (entries 0 and +-1), so untouched vectors stay bit for bit the teacher's (an L1 term's
    gradient has full size at any non-zero difference)."""
    shape = tf.shape(values)
    pairs = tf.reshape(values, tf.concat([shape[:3], [-1, 2]], axis=0))
    origin = 0.5 - 0.5 * tf.reduce_sum(linear, axis=-1)  # [B, 2]
    pairs = tf.einsum("bij,bhwkj->bhwki", linear, pairs) + origin[:, None, None, None, :]
    return tf.reshape(pairs, shape)


def _carry_sizes(values, linear):
    """Box (height, width): the axis-aligned hull of the box turned by ``linear``."""
    return tf.einsum("bij,bhwj->bhwi", tf.abs(linear), values)


def _mirror_joints(values, flipped, permutation, per_joint):
    """After a mirror the person's left joints are the right ones: permute the joint channels where ``flipped``."""
    shape = tf.shape(values)
    joints = tf.reshape(values, tf.concat([shape[:3], [-1, per_joint]], axis=0))
    mirrored = tf.reshape(tf.gather(joints, permutation, axis=3), shape)
    return tf.where(flipped[:, None, None, None], mirrored, values)


def carry_outputs(outputs, carry, grid_shape, flip_permutation):
    """The teacher's head outputs on its own view -> the same heads on the student's view.

    Args:
      outputs: dict of head outputs ``[B, Ht, Wt, C]`` (logits for heatmaps), from the teacher's input.
      carry: ``[B, 3, 3]`` the transform from teacher-input pixels to student-input pixels ((y, x, 1), the
        convention of ``movenet_train/geometry.py``); a negative determinant is a mirror.
      grid_shape: the student's output grid (height, width).
      flip_permutation: the keypoint schema's ``flip_permutation``.

    Returns:
      (carried outputs on the student grid, ``valid`` ``[B, Hs, Ws, 1]`` float: 1 where the student's cell lies
      inside the teacher's view).
    """
    carry = tf.cast(carry, tf.float32)
    grid_carry = _grid_transform(carry)
    linear = carry[:, :2, :2]
    flipped = tf.linalg.det(linear) < 0.0
    first = next(iter(outputs.values()))
    coverage = warp_maps(tf.ones_like(first[..., :1], tf.float32), grid_carry, grid_shape)
    carried = {}
    for key, value in outputs.items():
        value = warp_maps(tf.cast(value, tf.float32), grid_carry, grid_shape)
        if key in VECTOR_HEADS:
            value = _carry_vectors(value, linear)
        elif key == "box_scale":
            value = _carry_sizes(value, linear)
        if key in PER_JOINT_HEADS:
            value = _mirror_joints(value, flipped, flip_permutation, PER_JOINT_HEADS[key])
        carried[key] = value
    return carried, tf.cast(coverage >= MIN_COVERAGE, tf.float32)


def load_teacher(cfg, train_cfg, spec, strategy, initial=None):
    """(The teacher of ``train.teacher`` in inference mode (frozen), its ``MoveNetSpec``), or (None, None).

    ``initial`` is a new model of the student's architecture that the callable ``initial`` gives the weights the
    run started from (copied from the student on a new run, rebuilt the same way on a resumed one), imported
    BatchNorm re-expressed as in the student. Where it sees the student's input the two then agree up to the
    rounding of the compiled graphs (CPU-dependent; a reloaded file would differ in its weights' last bits too),
    and the distillation terms, whose gradients vanish with the gap, barely pull."""
    source = train_cfg.teacher
    if source is None:
        return None, None
    if source == "initial":  # trained initial weights: checked before anything was built (preflight.py)
        start, _ = initial_weights(cfg)
        from movenet_train.modeling import build_model

        with strategy.scope():  # float, also for a quantisation-aware student: the function it started as
            teacher = build_model(dataclasses.replace(spec, qat=False), name="teacher")
        initial(teacher)
        teacher.trainable = False
        log.info("teacher: the initial weights (%s), view %s", start, train_cfg.distill.view)
        return teacher, spec
    from movenet_train.runtime import load_keras

    with strategy.scope():
        teacher, teacher_spec = load_keras(str(source))
    model_files.check_compatible(str(source), teacher_spec, spec.schema,
                                 fix="train.teacher must predict the student's keypoint schema")
    if teacher_spec.multi_pose != spec.multi_pose:
        raise UserError(f"train.teacher={source} is a {'multi' if teacher_spec.multi_pose else 'single'}-pose "
                        f"model; the student {spec.name} is not: a teacher must have the student's heads")
    view = train_cfg.distill.view
    if view == "student" and teacher_spec.input_size != spec.input_size:
        raise UserError(f"train.teacher={source} takes {teacher_spec.input_size} px inputs and the student "
                        f"{spec.input_size} px: train.distill.view=student feeds the teacher the student's own "
                        "images; use train.distill.view=upright (or unaugmented), which renders the teacher's view "
                        "at its own size")
    teacher.trainable = False
    log.info("teacher: %s (MoveNet %s), view %s", source, teacher_spec.name, view)
    return teacher, teacher_spec

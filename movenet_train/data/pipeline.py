"""``build_dataset``: the project's TFRecords -> batches of (model input, MoveNet targets).

Single-pose examples are framed the way MoveNet runs: one target person per image, a square crop around them
so they sit near the centre, with the people around them still in the frame (and sometimes the whole image,
letterboxed, as the single_person evaluation protocol feeds it). Multi-pose examples are the whole image,
letterboxed. Both then share one random affine warp (scale, crop, translation, rotation, flip), photometric
augmentation and the target encoder of ``targets.py``.
"""

import tensorflow as tf

from movenet_train.config import ConfigError
from movenet_train.data import augment, shards, sources
from movenet_train.data.config import data_config
from movenet_train.data.targets import OUTPUT_STRIDE, TargetConfig, encode_targets, person_centres
from movenet_train.data.tfrecord import check_record_schema, decode_image_bytes, parse_example
from movenet_train.errors import UserError
from movenet_train.geometry import (letterbox_transform, quarter_turn_transform, transform_boxes, transform_points,
                                    warp_image, window_transform)

SPLIT_KEYS = {"train": "train_records", "val": "val_records"}


def record_files(data_cfg, split):
    """Sorted record files of ``split``; a clear error naming the config key when there are none or one is damaged
    (``shards.check_shards``; logged instead with ``data.skip_corrupt``)."""
    if split not in SPLIT_KEYS:
        raise ValueError(f"split must be one of {sorted(SPLIT_KEYS)}, got {split!r}")
    key = SPLIT_KEYS[split]
    pattern = data_cfg[key]
    if pattern is None:  # training skips a null data.val_records (training/validation.py); other readers cannot
        raise UserError(f"data.{key} is null: give the glob of the {split} records (data/prepare_coco.py writes them)")
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"data.{key}: no files match {pattern} (convert the dataset with "
                                "data/prepare_coco.py first)")
    shards.check_shards(files, f"data.{key}", data_cfg.skip_corrupt)
    return files


def _labelled_counts(example):
    return tf.reduce_sum(tf.cast(example["keypoint_visibility"] > 0, tf.int32), axis=1)


def _eligible(example, min_keypoints):
    """``[N]`` people that can be a target: not crowd, at least ``min_keypoints`` labelled keypoints."""
    return (example["is_crowd"] == 0) & (_labelled_counts(example) >= min_keypoints)


def is_unlabeled(example):
    """An unlabeled source's image (``sources.unlabeled_examples``): one ignore region over the whole image and no
    labelled keypoint."""
    whole_image = tf.reduce_all(tf.abs(example["boxes"] - tf.constant([[0.0, 0.0, 1.0, 1.0]])) < 1e-6)
    return ((tf.size(example["is_crowd"]) == 1) & tf.reduce_all(example["is_crowd"] > 0) & whole_image
            & tf.reduce_all(example["keypoint_visibility"] == 0))


def choose_target(example, min_keypoints, seed=None):
    """Index of the target person: uniform among the eligible (training), else the one with the most labelled
    keypoints, the larger box first among equals."""
    eligible = _eligible(example, min_keypoints)
    if seed is not None:
        candidates = tf.cast(tf.where(eligible)[:, 0], tf.int32)
        # An unlabeled image has no candidate: person 0 (its ignore region), framed whole by frame_example.
        count = tf.shape(candidates)[0]
        candidates = tf.concat([candidates, [0]], axis=0)
        pick = tf.random.stateless_uniform([], seed, 0, tf.maximum(count, 1), dtype=tf.int32)
        return candidates[pick]
    boxes = example["boxes"]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    score = tf.cast(_labelled_counts(example), tf.float32) + 0.999 * tf.clip_by_value(area, 0.0, 1.0)
    return tf.argmax(tf.where(eligible, score, -1.0), output_type=tf.int32)


def _target_first(people, target):
    n = tf.shape(people[0])[0]
    order = tf.concat([[target], tf.range(target), tf.range(target + 1, n)], axis=0)
    return [tf.gather(p, order) for p in people]


def person_window(keypoints, visibility, box, crop_scale):
    """Square crop around one person (pixels): centred on their keypoints' mean, side ``crop_scale`` x the larger
    side of the union of their box and keypoints."""
    labelled = visibility > 0
    centre = person_centres(keypoints[None], labelled[None], box[None])[0]
    points = tf.boolean_mask(keypoints, labelled)
    low = tf.minimum(box[:2], tf.reduce_min(points, axis=0))
    high = tf.maximum(box[2:], tf.reduce_max(points, axis=0))
    return centre, tf.maximum(tf.reduce_max(high - low) * crop_scale, 1.0)


def _teacher_view(image, upright_pixels, matrix, turns, teacher_view, geometry, augment_config, photometric_seed):
    """``teacher_image`` and ``teacher_carry`` (its pixels -> the student's input) for ``train.distill.view``.

    upright: the student's own view before its quarter turns, colour changes included, so that where the student
    sees a person upright the teacher sees exactly its input (no pull away from the teacher's function) and where
    the student's view is turned the teacher's maps are carried by an exact quarter turn. At another input size
    (Thunder teaching Lightning) the same window is rendered at the teacher's size with the same colour changes.
    unaugmented: the window without any geometric augmentation or colour change, carried through all of it."""
    view, teacher_size = teacher_view
    centre, side, scale, shift, tilt, flip = geometry
    size = upright_pixels.shape[0]
    if view == "upright" and teacher_size == size:
        # The turn alone, exactly (not matrix @ inverse(window), which is off in the last bits and would make the
        # carried maps a hair's breadth from the teacher's own where nothing is turned).
        return {"teacher_image": upright_pixels, "teacher_carry": quarter_turn_transform(turns, size)}
    if view == "upright":
        teacher_matrix = window_transform(centre, side, teacher_size, scale, shift, tilt, flip)
        pixels = warp_image(image, teacher_matrix, teacher_size)
        if augment_config is not None:
            pixels = augment.photometric(pixels, augment_config, photometric_seed)
    else:
        teacher_matrix = window_transform(centre, side, teacher_size)
        pixels = warp_image(image, teacher_matrix, teacher_size)
    return {"teacher_image": pixels, "teacher_carry": matrix @ tf.linalg.inv(teacher_matrix)}


def frame_example(example, seed, size, multi_pose, framing, augment_config, target_config, training,
                  flip_permutation, teacher_view=None):
    """One parsed example (image still encoded) -> (float32 ``[size, size, 3]`` image, targets).

    ``teacher_view`` (view, input size): also render what a teacher sees (``train.distill.view``, ``upright`` or
    ``unaugmented``) as ``targets["teacher_image"]``, with ``targets["teacher_carry"]``, the transform from its
    pixels to the student's input (training/teacher.py carries its maps through it; ``_teacher_view``)."""
    image = decode_image_bytes(example["image"])
    hw = tf.cast(tf.shape(image)[:2], tf.float32)
    keypoints = example["keypoints"] * hw
    visibility = example["keypoint_visibility"]
    boxes = example["boxes"] * tf.concat([hw, hw], axis=0)
    crowd = example["is_crowd"] > 0
    seeds = tf.unstack(tf.random.experimental.stateless_split(seed, 4))
    augmenting = training and augment_config.enabled
    unlabeled = is_unlabeled(example)

    centre, side = letterbox_transform(hw[0], hw[1], size)
    if not multi_pose:
        target = choose_target(example, framing.min_target_keypoints, seeds[0] if training else None)
        keypoints, visibility, boxes, crowd = _target_first([keypoints, visibility, boxes, crowd], target)
        crop_centre, crop_side = person_window(keypoints[0], visibility[0], boxes[0], framing.crop_scale)
        # The whole image letterboxed, as the single_person eval protocol feeds it: a share of the training
        # examples, and every validation example when that share is 1.
        if framing.full_image_probability >= 1.0 or training:
            whole = tf.random.stateless_uniform([], seeds[1]) < framing.full_image_probability
            whole |= unlabeled
            crop_centre = tf.where(whole, tf.stack(centre), crop_centre)
            crop_side = tf.where(whole, side, crop_side)
        centre, side = crop_centre, crop_side

    scale, shift, tilt, flip, turns = 1.0, (0.0, 0.0), 0.0, False, tf.constant(0, tf.int32)
    if augmenting:
        scale, shift, tilt, flip, turns = augment.sample_geometry(augment_config, seeds[2])
    # The quarter turns come last, on the finished view, so the turned input holds the very pixels of the
    # upright one (the teacher's view below; tf.image.rot90 does not resample).
    window = window_transform(centre, side, size, scale, shift, tilt, flip)
    pixels = warp_image(image, window, size)
    if augmenting:
        pixels = augment.photometric(pixels, augment_config, seeds[3])
    matrix = quarter_turn_transform(turns, size) @ window
    teacher = {}
    if teacher_view is not None:
        teacher = _teacher_view(image, pixels, matrix, turns, teacher_view, (centre, side, scale, shift, tilt, flip),
                                augment_config if augmenting else None, seeds[3])
    pixels = tf.ensure_shape(tf.image.rot90(pixels, turns), [size, size, 3])
    keypoints = transform_points(matrix, keypoints)
    boxes = transform_boxes(matrix, boxes, size)
    if augmenting:
        flipped = augment.flip_keypoints(keypoints, visibility, flip_permutation)
        keypoints = tf.where(flip, flipped[0], keypoints)
        visibility = tf.where(flip, flipped[1], visibility)
    inside = tf.reduce_all((keypoints >= 0.0) & (keypoints < float(size)), axis=-1)
    visibility = tf.where(inside, visibility, 0)

    grid = size // OUTPUT_STRIDE
    targets = encode_targets(keypoints / OUTPUT_STRIDE, visibility, boxes / OUTPUT_STRIDE, crowd, grid, grid,
                             target_config, multi_pose)
    # An unlabeled image teaches nothing by itself, the letterbox padding included: only a teacher's terms apply.
    labelled = tf.cast(~unlabeled, tf.float32)
    targets = {key: value * labelled if key.endswith("_mask") else value for key, value in targets.items()}
    return pixels, {**targets, **teacher}


def _read_records(files, training, seed, loader, num_pipelines, pipeline_id, skip_corrupt):
    """Serialized examples of ``files``: this pipeline's shard; in training shuffled (seeded) and repeated."""
    dataset = tf.data.Dataset.from_tensor_slices(files)
    shard_files = num_pipelines > 1 and len(files) >= num_pipelines
    if shard_files:
        dataset = dataset.shard(num_pipelines, pipeline_id)
    if training:
        dataset = dataset.shuffle(len(files), seed=seed)
    # Training reads several files at once to mix them; validation reads them one after the other, in order.
    dataset = dataset.interleave(shards.record_reader(skip_corrupt),
                                 cycle_length=min(loader.cycle_length, len(files)) if training else 1,
                                 num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if num_pipelines > 1 and not shard_files:
        dataset = dataset.shard(num_pipelines, pipeline_id)
    if training:
        dataset = dataset.shuffle(loader.shuffle_buffer, seed=seed).repeat()
    return dataset


def build_dataset(data_cfg, spec, split, batch_size, training, deterministic=False, input_context=None,
                  start_step=0, teacher_view=None):
    """``tf.data.Dataset`` of ``(images, targets)`` batches.

    Args:
      data_cfg: the composed ``cfg.data`` (records, ``loader``, ``augment``, ``targets``).
      spec: a ``MoveNetSpec`` (``input_size``, ``multi_pose``).
      split: ``train`` or ``val``.
      batch_size: global batch size; per replica under ``input_context``.
      training: shuffle, repeat forever, augment; otherwise one pass in record order, no augmentation.
      deterministic: fixed seeds and element order (tests, debugging); slower.
      input_context: a ``tf.distribute.InputContext``: this pipeline reads its shard of the data.
      start_step: training steps already taken (a resumed run): the pipeline starts where that many global
        batches left it. Training shuffles with a seed (``loader.seed``) and reads records in a fixed order,
        so the position is exact; the skipped examples are only parsed, not decoded.
      teacher_view: (``train.distill.view``, teacher input size) for a teacher that sees its own view of each
        training example (``frame_example``); None otherwise.

    Returns:
      images float32 ``[B, S, S, 3]`` RGB 0-255 and a dict of targets on the ``S/4`` grid: ``center_heatmap``
      (+ ``center_mask``), ``keypoint_heatmap`` (+ ``_mask``), ``keypoint_offset`` (+ ``_mask``),
      ``keypoint_regression`` (+ ``_mask``), for multi-pose ``box_scale``, ``box_offset``, ``box_mask``; and
      ``num_people``, ``num_keypoints``, ``keypoints`` ``[B, P, K, 3]`` (K: ``spec.schema``'s joints),
      ``num_valid`` (single-pose: the target person first), ``boxes`` ``[B, P, 4]`` (their boxes, normalised).
    """
    data_cfg = data_config(data_cfg)
    loader = data_cfg.loader
    framing = loader.single_pose
    augment_config = augment.AugmentConfig.from_config(data_cfg.augment)
    schema = spec.schema
    target_config = TargetConfig.from_config(data_cfg.targets, schema)
    if spec.input_size % 32:
        raise UserError(f"model.input_size must be a multiple of 32, got {spec.input_size}")
    if input_context is not None and batch_size % input_context.num_replicas_in_sync:
        raise ConfigError(f"train.batch_size must be divisible by the {input_context.num_replicas_in_sync} replicas "
                          f"(the global batch is split evenly between them), got {batch_size}")
    use_sources = training and split == "train" and data_cfg.get("sources") is not None
    files = None if use_sources else record_files(data_cfg, split)
    if files is not None:
        check_record_schema(files, schema, f"data.{SPLIT_KEYS[split]}")

    num_pipelines, pipeline_id = 1, 0
    per_replica_batch = batch_size
    if input_context is not None:
        num_pipelines, pipeline_id = input_context.num_input_pipelines, input_context.input_pipeline_id
        per_replica_batch = input_context.get_per_replica_batch_size(batch_size)
    # Seeded training order and record order independent of thread timing: a resumed run finds its place.
    seed = loader.seed + pipeline_id if deterministic or training else None
    parallel = tf.data.AUTOTUNE if loader.num_parallel_calls in (None, -1) else loader.num_parallel_calls

    def read(files):
        return _read_records(files, training, seed, loader, num_pipelines, pipeline_id, data_cfg.skip_corrupt)

    # Several weighted record sets (data.sources) are mixed before the resume skip below, so the skip stays exact.
    dataset = (sources.mix(sources.resolve(data_cfg.sources, schema, data_cfg.skip_corrupt), read, seed)
               if use_sources else read(files))
    in_order = deterministic or not training
    dataset = dataset.map(lambda s: parse_example(s, False, num_keypoints=schema.num_keypoints),
                          num_parallel_calls=parallel, deterministic=True)

    min_keypoints = 1 if spec.multi_pose else framing.min_target_keypoints
    if loader.skip_images_without_people or not spec.multi_pose:  # single-pose needs a target person
        dataset = dataset.filter(lambda e: tf.reduce_any(_eligible(e, min_keypoints)) | is_unlabeled(e))

    seeds = tf.data.Dataset.random(seed=seed).batch(2, drop_remainder=True)
    dataset = tf.data.Dataset.zip((dataset, seeds))
    if training and start_step:
        replicas_per_pipeline = input_context.num_replicas_in_sync // num_pipelines if input_context else 1
        dataset = dataset.skip(int(start_step) * per_replica_batch * replicas_per_pipeline)
    dataset = dataset.map(
        lambda example, s: frame_example(example, s, spec.input_size, spec.multi_pose, framing, augment_config,
                                         target_config, training, schema.flip_permutation,
                                         teacher_view if training else None),
        num_parallel_calls=parallel, deterministic=in_order)
    dataset = dataset.batch(per_replica_batch, drop_remainder=training)
    dataset = dataset.prefetch(tf.data.AUTOTUNE if loader.prefetch in (None, -1) else loader.prefetch)
    options = tf.data.Options()
    options.deterministic = in_order
    return dataset.with_options(options)

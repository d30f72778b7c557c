"""The TF Object Detection API keypoint schema of the project's TFRecords.

``prepare_coco.py`` writes one ``tf.train.Example`` per image with the feature names of ODAPI's
``create_coco_tf_record.py`` (keypoints included), so the records also feed ODAPI tools. Coordinates are
normalised to the stored image; keypoints are stored flat, N per person (the keypoint schema's joints, 17 for
COCO), as ODAPI does, with the joint names in ``image/object/keypoint/text``.
"""

import numpy as np
import tensorflow as tf

from movenet_train.data import shards
from movenet_train.errors import UserError

PERSON_LABEL = 1  # COCO's person category id, ODAPI's label map id


def _bytes(values):
    encoded = [v if isinstance(v, bytes) else v.encode() for v in values]
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=encoded))


def _floats(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(values, np.float32).reshape(-1)))


def _ints(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=np.asarray(values, np.int64).reshape(-1)))


def encode_example(
    image_bytes,
    image_format,
    height,
    width,
    source_id,
    filename,
    boxes,
    is_crowd,
    area,
    keypoints,
    keypoint_visibility,
    num_keypoints=None,
    sha256=None,
    *,
    keypoint_names,
):
    """One image and its people as a ``tf.train.Example``.

    Args:
      image_bytes: the encoded image (JPEG or PNG, 3 channels once decoded).
      image_format: ``"jpeg"`` or ``"png"``.
      height, width: size of the encoded image in pixels.
      source_id, filename: the COCO image id (as a string) and file name.
      boxes: ``[N, 4]`` (ymin, xmin, ymax, xmax) normalised to the image.
      is_crowd: ``[N]`` 0/1. area: ``[N]`` COCO area (pixels).
      keypoints: ``[N, K, 2]`` (y, x) normalised to the image, K = ``len(keypoint_names)``.
      keypoint_visibility: ``[N, K]`` COCO visibility 0/1/2.
      num_keypoints: ``[N]`` labelled keypoints per person (default: visibility > 0 counted).
      sha256: hex digest of ``image_bytes`` (ODAPI's ``image/key/sha256``), optional.
      keypoint_names: the keypoint schema's joint names.
    """
    num_joints = len(keypoint_names)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    keypoints = np.asarray(keypoints, np.float32).reshape(-1, num_joints, 2)
    visibility = np.asarray(keypoint_visibility, np.int64).reshape(-1, num_joints)
    num_people = boxes.shape[0]
    if not (keypoints.shape[0] == visibility.shape[0] == len(is_crowd) == len(area) == num_people):
        raise ValueError(
            f"image {filename}: {num_people} boxes but {keypoints.shape[0]} keypoint sets, {visibility.shape[0]} "
            f"visibility sets, {len(is_crowd)} is_crowd and {len(area)} area values"
        )
    if num_keypoints is None:
        num_keypoints = (visibility > 0).sum(axis=1)
    feature = {
        "image/encoded": _bytes([image_bytes]),
        "image/format": _bytes([image_format]),
        "image/height": _ints([height]),
        "image/width": _ints([width]),
        "image/source_id": _bytes([str(source_id)]),
        "image/filename": _bytes([filename]),
        "image/object/bbox/ymin": _floats(boxes[:, 0]),
        "image/object/bbox/xmin": _floats(boxes[:, 1]),
        "image/object/bbox/ymax": _floats(boxes[:, 2]),
        "image/object/bbox/xmax": _floats(boxes[:, 3]),
        "image/object/class/label": _ints([PERSON_LABEL] * num_people),
        "image/object/class/text": _bytes([b"person"] * num_people),
        "image/object/is_crowd": _ints(is_crowd),
        "image/object/area": _floats(area),
        "image/object/keypoint/y": _floats(keypoints[..., 0]),
        "image/object/keypoint/x": _floats(keypoints[..., 1]),
        "image/object/keypoint/visibility": _ints(visibility),
        "image/object/keypoint/num": _ints(num_keypoints),
        "image/object/keypoint/text": _bytes([str(n).encode() for n in keypoint_names] * num_people),
    }
    if sha256 is not None:
        feature["image/key/sha256"] = _bytes([sha256])
    return tf.train.Example(features=tf.train.Features(feature=feature))


_FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/height": tf.io.FixedLenFeature([], tf.int64),
    "image/width": tf.io.FixedLenFeature([], tf.int64),
    "image/source_id": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/filename": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/object/bbox/ymin": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/xmin": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/ymax": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/xmax": tf.io.VarLenFeature(tf.float32),
    "image/object/is_crowd": tf.io.VarLenFeature(tf.int64),
    "image/object/area": tf.io.VarLenFeature(tf.float32),
    "image/object/keypoint/y": tf.io.VarLenFeature(tf.float32),
    "image/object/keypoint/x": tf.io.VarLenFeature(tf.float32),
    "image/object/keypoint/visibility": tf.io.VarLenFeature(tf.int64),
    "image/object/keypoint/num": tf.io.VarLenFeature(tf.int64),
}


def _dense(features, key, dtype):
    return tf.cast(tf.sparse.to_dense(features[key]), dtype)


def decode_image_bytes(encoded):
    """uint8 ``[H, W, 3]`` of a stored JPEG or PNG.

    JPEGs use libjpeg's accurate DCT, which reproduces Pillow's pixels (``preprocessing.load_rgb``) exactly, so
    training sees what evaluation sees.
    """
    image = tf.cond(
        tf.io.is_jpeg(encoded),
        lambda: tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_png(encoded, channels=3),
    )
    image.set_shape([None, None, 3])
    return image


def parse_example(serialized, decode_image=True, *, num_keypoints):
    """A serialized example -> dict of tensors (one image, N people).

    Keys: ``image`` (uint8 ``[H, W, 3]``; the encoded bytes when ``decode_image`` is False), ``height``,
    ``width`` (int32), ``source_id``, ``filename`` (string), ``boxes`` (``[N, 4]`` normalised ymin, xmin,
    ymax, xmax), ``is_crowd`` (int32 ``[N]``), ``area`` (``[N]``), ``keypoints`` (``[N, K, 2]`` normalised
    y, x), ``keypoint_visibility`` (int32 ``[N, K]``, 0/1/2), ``num_keypoints`` (int32 ``[N]``); K is
    ``num_keypoints``, the schema's joint count (records of another schema fail the reshape).
    """
    f = tf.io.parse_single_example(serialized, _FEATURES)
    image = decode_image_bytes(f["image/encoded"]) if decode_image else f["image/encoded"]
    boxes = tf.stack([_dense(f, f"image/object/bbox/{k}", tf.float32) for k in ("ymin", "xmin", "ymax", "xmax")], -1)
    ky = tf.reshape(_dense(f, "image/object/keypoint/y", tf.float32), [-1, num_keypoints])
    kx = tf.reshape(_dense(f, "image/object/keypoint/x", tf.float32), [-1, num_keypoints])
    return {
        "image": image,
        "height": tf.cast(f["image/height"], tf.int32),
        "width": tf.cast(f["image/width"], tf.int32),
        "source_id": f["image/source_id"],
        "filename": f["image/filename"],
        "boxes": boxes,
        "is_crowd": _dense(f, "image/object/is_crowd", tf.int32),
        "area": _dense(f, "image/object/area", tf.float32),
        "keypoints": tf.stack([ky, kx], axis=-1),
        "keypoint_visibility": tf.reshape(_dense(f, "image/object/keypoint/visibility", tf.int32), [-1, num_keypoints]),
        "num_keypoints": _dense(f, "image/object/keypoint/num", tf.int32),
    }


def record_keypoint_names(files, max_examples=100):
    """The joint names the records were written with (``image/object/keypoint/text`` of the first person).

    A damaged record is passed over here: whoever reads the data reports it (``shards``)."""
    for serialized in tf.data.TFRecordDataset(files[:1]).ignore_errors().take(max_examples):
        feature = tf.train.Example.FromString(serialized.numpy()).features.feature
        texts = feature["image/object/keypoint/text"].bytes_list.value
        people = len(feature["image/object/bbox/ymin"].float_list.value)
        if people and texts:
            return tuple(t.decode() for t in texts[: len(texts) // people])
    return None


def check_record_schema(files, schema, what):
    """Clear error when records hold another keypoint schema than the model's (instead of a reshape error)."""
    names = record_keypoint_names(files)
    if names is not None and tuple(names) != tuple(schema.names):
        raise UserError(
            f"{what}: the records hold {len(names)} keypoints {list(names)} but the keypoint schema "
            f"{schema.name!r} ({schema.source}) has {schema.num_keypoints}: {list(schema.names)}; convert the data "
            "with data/prepare_coco.py keypoints=<the same schema>")


def read_records(pattern, decode_image=True, *, schema):
    """``tf.data.Dataset`` of parsed examples from every file matching ``pattern`` (sorted, in order).

    ``schema``: the records' keypoint schema (checked against the joint names they were written with). A damaged
    shard is an error naming it (``shards``).
    """
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no TFRecord files match {pattern}")
    shards.check_shards(files, f"records {pattern}")
    check_record_schema(files, schema, f"records {pattern}")
    return tf.data.TFRecordDataset(files).map(
        lambda s: parse_example(s, decode_image, num_keypoints=schema.num_keypoints))

"""Reading COCO-format person-keypoint files and turning one image and its people into record fields.

Everything here is plain Python, NumPy and Pillow, without TensorFlow, so that the conversion's worker
processes start in well under a second (``convert.py`` owns the pool and writes the records).

Every problem in the JSON's structure raises a ``ValueError`` naming the file and the key before any image is
read; problems found image by image (missing or undecodable files, sizes that disagree with the JSON) skip that
image, and fixes of bad annotation values are counted. Values that are wrong rather than imprecise (a keypoint
far outside its image or its person's box, a box of negative or zero size, NaN or infinity) are also reported
one by one, naming the annotation id (``PreparedImage.problems``): the conversion logs and counts them, or with
``strict=true`` stops at the first. Everything lands in the conversion's manifest.
"""

import collections
import dataclasses
import hashlib
import io
import json
import math
import os

import numpy as np
from PIL import Image, ImageOps

from movenet_train.errors import UserError
from movenet_train.keypoints import normalise_name

EXIF_ORIENTATION = 0x0112
PASS_THROUGH_FORMATS = ("JPEG",)  # stored byte for byte when already RGB with no EXIF rotation
# A labelled keypoint outside its image is unlabelled; up to this far outside (pixels: a rounding of the edge) it
# is counted only, further it is also reported as a problem naming its annotation.
OUTSIDE_IMAGE_TOLERANCE = 2.0
# A labelled keypoint further outside its person's box than this many times the box's longer side belongs to
# another person, or the box is wrong: unlabelled and reported. (Keypoints a little outside are common: boxes are
# drawn around the visible body, keypoints of hidden joints are guessed.)
OUTSIDE_BOX_MARGIN = 1.0


@dataclasses.dataclass
class KeypointDataset:
    """A validated COCO keypoint file: image records and, per image id, its person annotations."""

    path: str
    images: list
    annotations: dict  # image id -> list of annotation dicts
    category_id: int
    num_ignored_annotations: int  # annotations of other categories
    raw: dict = dataclasses.field(repr=False, default=None)  # the parsed JSON, for pycocotools
    problems: list = dataclasses.field(default_factory=list)  # left out by ``skip_non_finite``: as PreparedImage's


def _fail(path, where, message):
    raise UserError(f"{path}: {where}: {message}")


_normalise_name = normalise_name


def _schema_description(schema):
    if schema.name == "coco17":  # configs/keypoints/coco17.yaml, COCO's own joints: say so in COCO's terms
        return f"the {schema.num_keypoints} COCO keypoints"
    return f"the {schema.num_keypoints} keypoints of the schema {schema.name!r} ({schema.source})"


def _person_category(path, categories, schema):
    """The category whose ``keypoints`` are the schema's joints, in the schema's order."""
    if not isinstance(categories, list):
        _fail(path, "'categories'", f"expected a list, got {type(categories).__name__}")
    with_keypoints = [c for c in categories if isinstance(c, dict) and c.get("keypoints")]
    if not with_keypoints:
        _fail(path, "'categories'", "no category has 'keypoints': this is not a COCO keypoint file "
              "(person_keypoints_*.json), perhaps a detection file (instances_*.json)")
    if len(with_keypoints) > 1:
        named = [c for c in with_keypoints if _normalise_name(c.get("name")) == "person"]
        if len(named) != 1:
            _fail(path, "'categories'", f"{len(with_keypoints)} categories have keypoints and not exactly one is "
                  "named 'person'")
        with_keypoints = named
    category = with_keypoints[0]
    names = [_normalise_name(n) for n in category["keypoints"]]
    if names != list(schema.names):
        _fail(path, f"category {category.get('id')!r} 'keypoints'",
              f"expected {_schema_description(schema)} {list(schema.names)} in this order, got "
              f"{category['keypoints']} (convert with keypoints=<schema> naming these joints, see configs/keypoints)")
    if "id" not in category:
        _fail(path, "the person category", "has no 'id'")
    return category["id"]


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_number_or_non_finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _non_finite_key(ann):
    """``'bbox'`` or ``'keypoints'`` when that list of (numeric) values holds a NaN or an infinity, else None."""
    for key in ("bbox", "keypoints"):
        if any(not math.isfinite(v) for v in ann.get(key) or ()):
            return key
    return None


def _check_annotation(path, index, ann, image_ids, schema, skip_non_finite):
    """Fails naming the key, or returns a problem message when ``skip_non_finite`` leaves the annotation out."""
    where = f"annotations[{index}] (id {ann.get('id')!r})"
    if ann.get("image_id") not in image_ids:
        _fail(path, where, f"'image_id' {ann.get('image_id')!r} is not the id of any entry of 'images'")
    bbox = ann.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_number_or_non_finite(v) for v in bbox)):
        _fail(path, where, f"'bbox' must be 4 numbers [x, y, width, height], got {bbox!r}")
    keypoints = ann.get("keypoints")
    if keypoints is not None:
        n = schema.num_keypoints
        if not (isinstance(keypoints, list) and len(keypoints) == 3 * n
                and all(_is_number_or_non_finite(v) for v in keypoints)):
            _fail(path, where, f"'keypoints' must be {3 * n} numbers ({n} x [x, y, v], {_schema_description(schema)}), "
                  f"got {len(keypoints) if isinstance(keypoints, list) else type(keypoints).__name__}")
    elif not ann.get("iscrowd"):
        _fail(path, where, "has no 'keypoints': this is not a COCO keypoint file")
    non_finite = _non_finite_key(ann)
    if non_finite and not skip_non_finite:
        _fail(path, where, f"{non_finite!r} holds NaN or infinity")
    if non_finite:
        return f"annotation {ann.get('id')!r}: {non_finite!r} holds NaN or infinity"
    visibility = (keypoints or [])[2::3]
    if any(v not in (0, 1, 2) for v in visibility):
        _fail(path, where, f"keypoint visibility must be 0, 1 or 2, got {sorted(set(visibility))}")
    return None


def load_keypoint_annotations(path, schema, skip_non_finite=False):
    """Reads and validates a COCO keypoint JSON against ``schema``; raises ``ValueError`` naming the file and key.

    ``skip_non_finite``: an annotation holding NaN or infinity is left out and reported in ``problems`` (the
    conversion's choice) instead of failing the file (``raw`` keeps it)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"annotation file {path} does not exist")
    try:
        with open(path) as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not valid JSON: {err}") from err
    if not isinstance(data, dict):
        _fail(path, "top level", f"expected a JSON object with 'images', 'annotations', 'categories', got "
              f"{type(data).__name__}")
    for key in ("images", "annotations", "categories"):
        if key not in data:
            _fail(path, f"key {key!r}", "missing: this is not a COCO annotation file")
    category_id = _person_category(path, data["categories"], schema)

    images, image_ids = [], set()
    for index, image in enumerate(data["images"]):
        where = f"images[{index}]"
        if not isinstance(image, dict):
            _fail(path, where, "expected an object")
        for key in ("id", "file_name", "width", "height"):
            if key not in image:
                _fail(path, where, f"missing key {key!r}")
        if not (isinstance(image["width"], int) and isinstance(image["height"], int)
                and image["width"] > 0 and image["height"] > 0):
            _fail(path, where, f"'width' and 'height' must be positive integers, got {image['width']!r} x "
                  f"{image['height']!r}")
        if image["id"] in image_ids:
            _fail(path, where, f"duplicate image id {image['id']!r}")
        image_ids.add(image["id"])
        images.append(image)

    annotations = collections.defaultdict(list)
    ignored = 0
    problems = []
    for index, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict):
            _fail(path, f"annotations[{index}]", "expected an object")
        if ann.get("category_id") != category_id:
            ignored += 1
            continue
        problem = _check_annotation(path, index, ann, image_ids, schema, skip_non_finite)
        if problem:
            problems.append({"annotation": ann.get("id"), "problem": "non_finite_values", "message": problem,
                             "action": "annotation skipped"})
            continue
        annotations[ann["image_id"]].append(ann)
    return KeypointDataset(path, images, dict(annotations), category_id, ignored, data, problems)


# ---------------------------------------------------------------------------------------------------------
# One image -> record fields (runs in the worker processes)


@dataclasses.dataclass
class PreparedImage:
    """Record fields of one image (``skip_reason`` set when the image is left out)."""

    filename: str
    counters: collections.Counter
    skip_reason: str = None
    message: str = None
    fields: dict = None
    problems: list = dataclasses.field(default_factory=list)  # {annotation, problem, message, action}: wrong values


def _read_image(path, width, height, jpeg_quality, counters):
    """Encoded bytes, format and size of the image as it is stored, in the orientation the JSON describes."""
    with open(path, "rb") as f:
        data = f.read()
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # decodes everything: truncated and corrupt files fail here
        source_format, mode = image.format, image.mode
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        # The pixels users and the eval see: EXIF rotation applied, as preprocessing.load_rgb does.
        upright = ImageOps.exif_transpose(image) if orientation != 1 else image
        if upright.size == (width, height):
            pixels = upright
        elif image.size == (width, height):
            # The annotations were made on the stored pixels, ignoring the EXIF rotation.
            pixels = image
            counters["exif_rotation_ignored_to_match_json"] += 1
        else:
            return None, f"image is {upright.size[0]}x{upright.size[1]} but the JSON says {width}x{height}"
        if orientation != 1 and pixels is upright:
            counters["exif_rotated_images"] += 1
        if source_format in PASS_THROUGH_FORMATS and mode == "RGB" and pixels is image:
            return (data, "jpeg"), None
        counters[f"reencoded_{mode.lower()}_{source_format.lower()}"] += 1
        rgb = pixels.convert("RGB")  # grayscale, CMYK, palette and alpha images, as load_rgb converts them
        buffer = io.BytesIO()
        if source_format == "PNG":  # keep lossless sources lossless
            rgb.save(buffer, "PNG")
            return (buffer.getvalue(), "png"), None
        rgb.save(buffer, "JPEG", quality=jpeg_quality)
        return (buffer.getvalue(), "jpeg"), None


def _distance_outside(x, y, low, high):
    """How far each point (x, y) lies outside the rectangle ``low`` .. ``high`` (x, y corners); 0 inside."""
    return np.maximum.reduce([low[0] - x, x - high[0], low[1] - y, y - high[1], np.zeros_like(x)])


def _clean_person(ann, width, height, counters, keypoint_names, problems):
    """(box [4] pixels x0,y0,x1,y1, keypoints [N,3] x,y,v, area) or None when the person is dropped; values that are
    wrong rather than imprecise are also appended to ``problems``, naming the annotation."""
    num_keypoints = len(keypoint_names)
    annotation = ann.get("id")

    def problem(kind, message, action):
        problems.append({"annotation": annotation, "problem": kind, "message": f"annotation {annotation!r}: {message}",
                         "action": action})

    keypoints = np.asarray(ann.get("keypoints") or [0] * (3 * num_keypoints), np.float64).reshape(num_keypoints, 3)
    labelled = keypoints[:, 2] > 0
    x, y = keypoints[:, 0], keypoints[:, 1]
    beyond = _distance_outside(x, y, (0, 0), (width, height))
    outside = labelled & (beyond > 0)
    for index in np.flatnonzero(outside & (beyond > OUTSIDE_IMAGE_TOLERANCE)):
        problem("keypoint_outside_image", f"keypoint {keypoint_names[index]!r} at ({x[index]:g}, {y[index]:g}) is "
                f"{beyond[index]:g} px outside the {width}x{height} image", "unlabelled")
    if outside.any():
        counters["keypoints_outside_image_unlabelled"] += int(outside.sum())
        keypoints[outside] = 0.0
        labelled &= ~outside
    if int(ann.get("num_keypoints", labelled.sum())) != int(labelled.sum()):
        counters["num_keypoints_recounted"] += 1

    x0, y0, w, h = ann["bbox"]
    box = np.clip([x0, y0, x0 + w, y0 + h], 0, [width, height, width, height]).astype(np.float64)
    if np.abs(box - [x0, y0, x0 + w, y0 + h]).max() > 1.0:
        counters["boxes_clipped_to_image"] += 1
    if box[2] <= box[0] or box[3] <= box[1]:
        size = "a negative size" if w < 0 or h < 0 else "zero size" if w == 0 or h == 0 else "no part in the image"
        problem("bad_box", f"box {ann['bbox']} has {size}",
                "its keypoints' extent is used" if labelled.any() else "person dropped")
        if not labelled.any():
            counters["zero_area_boxes_dropped"] += 1
            return None
        # A zero-area box around a labelled person: the keypoints' extent is the best box there is.
        counters["zero_area_boxes_from_keypoints"] += 1
        points = keypoints[labelled, :2]
        box = np.concatenate([points.min(axis=0), points.max(axis=0)])
    else:
        away = _distance_outside(x, y, box[:2], box[2:])
        far = labelled & (away > OUTSIDE_BOX_MARGIN * max(box[2] - box[0], box[3] - box[1]))
        for index in np.flatnonzero(far):
            problem("keypoint_outside_box", f"keypoint {keypoint_names[index]!r} at ({x[index]:g}, {y[index]:g}) is "
                    f"{away[index]:g} px outside the person's box {ann['bbox']}", "unlabelled")
        if far.any():
            counters["keypoints_outside_box_unlabelled"] += int(far.sum())
            keypoints[far] = 0.0
            labelled &= ~far
    area = ann.get("area")
    if not (_is_number(area) and area > 0):
        counters["area_from_box"] += 1
        area = float((box[2] - box[0]) * (box[3] - box[1]))
    return box, keypoints, float(area)


def prepare_image(image_info, annotations, images_dir, keypoint_names, jpeg_quality=95):
    """One image record and its person annotations -> ``PreparedImage`` (fields of ``encode_example``)."""
    num_keypoints = len(keypoint_names)
    filename = image_info["file_name"]
    path = os.path.join(images_dir, filename)
    width, height = image_info["width"], image_info["height"]
    counters = collections.Counter()
    try:
        encoded, mismatch = _read_image(path, width, height, jpeg_quality, counters)
    except FileNotFoundError:
        return PreparedImage(filename, counters, "missing_image", f"{path}: no such file")
    except Exception as err:  # Pillow raises many types for undecodable files
        return PreparedImage(filename, counters, "undecodable_image", f"{path}: cannot decode: {err}")
    if mismatch:
        return PreparedImage(filename, counters, "size_mismatch", f"{path}: {mismatch}")

    boxes, keypoints, visibility, is_crowd, areas, problems = [], [], [], [], [], []
    for ann in annotations:
        person = _clean_person(ann, width, height, counters, keypoint_names, problems)
        if person is None:
            continue
        box, kpts, area = person
        boxes.append([box[1] / height, box[0] / width, box[3] / height, box[2] / width])
        keypoints.append(np.stack([kpts[:, 1] / height, kpts[:, 0] / width], axis=-1))
        visibility.append(kpts[:, 2].astype(np.int64))
        is_crowd.append(int(bool(ann.get("iscrowd", 0))))
        areas.append(area)
    counters["people"] += len(boxes)
    counters["crowd_regions"] += sum(is_crowd)
    counters["people_without_keypoints"] += sum(1 for v, c in zip(visibility, is_crowd) if not c and not v.any())
    counters["labelled_keypoints"] += int(sum((v > 0).sum() for v in visibility))
    if not boxes:
        counters["images_without_people"] += 1
    image_bytes, image_format = encoded
    fields = dict(
        image_bytes=image_bytes,
        image_format=image_format,
        height=height,
        width=width,
        source_id=str(image_info["id"]),
        filename=filename,
        boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
        is_crowd=np.asarray(is_crowd, np.int64),
        area=np.asarray(areas, np.float32),
        keypoints=np.asarray(keypoints, np.float32).reshape(-1, num_keypoints, 2),
        keypoint_visibility=np.asarray(visibility, np.int64).reshape(-1, num_keypoints),
        sha256=hashlib.sha256(image_bytes).hexdigest(),
        keypoint_names=tuple(keypoint_names),
    )
    return PreparedImage(filename, counters, fields=fields, problems=problems)


def prepare_task(task):
    """``prepare_image(*task)``, picklable for the worker pool (which then imports only this module)."""
    return prepare_image(*task)

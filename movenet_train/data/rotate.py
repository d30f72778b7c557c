"""Rotated copies of a COCO person-keypoint set (``data/rotate_coco.py``): images turned by 90, 180 or 270 degrees
with their keypoints, boxes and segmentations moved exactly.

Quarter turns move pixels without resampling, so the rotated image is exactly the original's pixels (written as
lossless PNG). Coordinates are COCO's continuous pixels (image edges at 0 and W / H): a pixel centred on
``(x, y)`` lands centred on the transformed point, so keypoints and boxes stay on the pixels they labelled.
Angles are degrees counter-clockwise, as ``numpy.rot90`` and ``PIL.Image.rotate``: 90 / 180 / 270 are 1 / 2 / 3
quarter turns of ``movenet_train/geometry.py`` (which works in (y, x); the points here are COCO's (x, y)).
"""

import copy
import json
import os

import numpy as np
from PIL import Image

from movenet_train import geometry
from movenet_train.atomic import staging_folder
from movenet_train.data.coco import load_keypoint_annotations
from movenet_train.errors import UserError
from movenet_train.preprocessing import load_rgb


ANGLES = (0, 90, 180, 270)
ANNOTATIONS_FILE = "person_keypoints.json"
IMAGES_DIR = "images"


def rotate_points(xy, angle, width, height):
    """``[..., 2]`` (x, y) of a ``width x height`` image -> their place after a counter-clockwise ``angle`` turn.

    ``angle`` is in degrees (0, 90, 180, 270: ``angle // 90`` quarter turns of ``geometry.quarter_turn_matrix``,
    which works in (y, x)); a turn by 90 makes the top edge the left edge and the image ``height x width``."""
    if angle not in ANGLES:
        raise ValueError(f"angle must be one of {ANGLES}, got {angle!r}")
    yx = np.asarray(xy, np.float64)[..., ::-1]
    turned = geometry.apply(geometry.quarter_turn_matrix(int(angle) // 90, height, width), yx)
    return np.ascontiguousarray(turned[..., ::-1]) + 0.0  # + 0.0: no -0.0 in the written JSON


def rotated_size(angle, width, height):
    return (height, width) if angle in (90, 270) else (width, height)


def rotate_keypoints(keypoints, angle, width, height):
    """COCO ``keypoints`` list (x, y, v) * K: labelled points turned, unlabelled ones left at (0, 0, 0)."""
    points = np.asarray(keypoints, np.float64).reshape(-1, 3)
    moved = rotate_points(points[:, :2], angle, width, height)
    labelled = points[:, 2] > 0
    out = np.where(labelled[:, None], np.concatenate([moved, points[:, 2:]], axis=1), 0.0)
    return [int(v) if float(v).is_integer() else round(float(v), 3) for v in out.reshape(-1)]


def rotate_box(bbox, angle, width, height):
    """COCO ``[x, y, w, h]`` -> the box of the turned corners (a quarter turn keeps boxes axis-aligned)."""
    x, y, w, h = map(float, bbox)
    corners = rotate_points([[x, y], [x + w, y + h]], angle, width, height)
    low, high = corners.min(axis=0), corners.max(axis=0)
    return [round(float(v), 3) for v in (low[0], low[1], high[0] - low[0], high[1] - low[1])]


def _rotate_segmentation(segmentation, angle, width, height):
    if isinstance(segmentation, list):  # polygons
        return [rotate_points(np.reshape(p, (-1, 2)), angle, width, height).round(3).reshape(-1).tolist()
                for p in segmentation]
    from pycocotools import mask as mask_utils  # RLE (crowd regions)

    rle = segmentation
    if isinstance(rle.get("counts"), list):
        rle = mask_utils.frPyObjects(rle, height, width)
    mask = np.rot90(mask_utils.decode(rle), k=angle // 90)
    encoded = mask_utils.encode(np.asfortranarray(mask))
    return {"size": [int(s) for s in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def rotated_id(original_id, angle):
    """Ids of the turned copies: ``id * 1000 + angle`` (``785`` turned by 90 is ``785090``), unique across angles."""
    return int(original_id) * 1000 + int(angle)


def rotate_dataset(data, angle, image_ids=None):
    """The COCO dict of ``data`` turned by ``angle``; file names ``rot<angle>/<name>.png`` and ids ``rotated_id``."""
    images, keep = [], set()
    for image in data["images"]:
        if image_ids is not None and image["id"] not in image_ids:
            continue
        width, height = image["width"], image["height"]
        new_width, new_height = rotated_size(angle, width, height)
        stem = os.path.splitext(image["file_name"])[0]
        images.append({**image, "id": rotated_id(image["id"], angle), "width": new_width, "height": new_height,
                       "file_name": f"rot{angle:03d}/{stem}.png", "rotation_degrees": angle,
                       "original_id": image["id"], "original_file_name": image["file_name"]})
        keep.add(image["id"])
    sizes = {image["id"]: (image["width"], image["height"]) for image in data["images"]}
    annotations = []
    for ann in data["annotations"]:
        if ann["image_id"] not in keep:
            continue
        width, height = sizes[ann["image_id"]]
        new = copy.deepcopy(ann)
        new.update(id=rotated_id(ann["id"], angle), image_id=rotated_id(ann["image_id"], angle))
        if "keypoints" in ann:
            new["keypoints"] = rotate_keypoints(ann["keypoints"], angle, width, height)
        if "bbox" in ann:
            new["bbox"] = rotate_box(ann["bbox"], angle, width, height)
        if ann.get("segmentation"):
            new["segmentation"] = _rotate_segmentation(ann["segmentation"], angle, width, height)
        annotations.append(new)
    return images, annotations


def rotate_coco(annotations, images, output, angles=(90, 180, 270), image_ids=None, overwrite=False, *, schema):
    """Writes ``output/person_keypoints.json`` and ``output/images/rot<angle>/*.png``: every image (or those of
    ``image_ids``) turned by each of ``angles`` (0 keeps an upright copy, in the same format). ``annotations``
    is checked against the keypoint schema ``schema``.

    The folder appears only when everything is written (built in a temporary sibling, then renamed).
    Returns the path of the annotation file.
    """
    angles = [int(a) for a in angles]
    bad = [a for a in angles if a not in ANGLES]
    if bad or not angles or len(set(angles)) != len(angles):
        raise UserError(f"angles: expected distinct values among {ANGLES}, got {angles}")
    if not os.path.isdir(images):
        raise FileNotFoundError(f"image folder {images} does not exist")
    data = load_keypoint_annotations(str(annotations), schema).raw
    if image_ids is not None:
        image_ids = set(image_ids)
        unknown = image_ids - {image["id"] for image in data["images"]}
        if unknown:
            raise UserError(f"image_ids: {sorted(unknown)[:5]} are not in {annotations}")
    out = {key: value for key, value in data.items() if key not in ("images", "annotations")}
    out["images"], out["annotations"] = [], []
    with staging_folder(output, overwrite) as staging:
        for angle in angles:
            new_images, new_annotations = rotate_dataset(data, angle, image_ids)
            out["images"] += new_images
            out["annotations"] += new_annotations
            os.makedirs(os.path.join(staging, IMAGES_DIR, f"rot{angle:03d}"))
            for image in new_images:
                pixels = np.rot90(load_rgb(os.path.join(images, image["original_file_name"])), k=angle // 90)
                if pixels.shape[:2] != (image["height"], image["width"]):
                    raise UserError(f"image {image['original_file_name']} does not have the size its record in "
                                    f"{annotations} gives")
                Image.fromarray(pixels).save(
                    os.path.join(staging, IMAGES_DIR, image["file_name"]))
        with open(os.path.join(staging, ANNOTATIONS_FILE), "w") as f:
            json.dump(out, f)
    return os.path.join(output, ANNOTATIONS_FILE)


def subset(annotations, image_ids, output, schema):
    """Writes the COCO file ``annotations`` (of the keypoint schema ``schema``) restricted to ``image_ids``
    (atomically) and returns its path."""
    from movenet_train.atomic import atomic_path

    data = load_keypoint_annotations(str(annotations), schema).raw
    image_ids = set(image_ids)
    out = {**data, "images": [i for i in data["images"] if i["id"] in image_ids],
           "annotations": [a for a in data["annotations"] if a["image_id"] in image_ids]}
    with atomic_path(output) as tmp, open(tmp, "w") as f:
        json.dump(out, f)
    return output

"""What eval reads: a COCO ``person_keypoints_*.json`` with its image folder, or TFRecords of prepare_coco.py.

Both give the same thing: the ground truth as a COCO dataset dict (what pycocotools loads) and a stream of
``Sample``s, one per image, whose pixels are decoded only when the protocol selects the image.
"""

import dataclasses
import os
from typing import Callable

import numpy as np

from movenet_train.errors import UserError
from movenet_train.preprocessing import load_rgb

PERSON_CATEGORY = {"id": 1, "name": "person", "supercategory": "person"}


@dataclasses.dataclass
class Sample:
    image: dict  # COCO image record: id, file_name, height, width
    annotations: list  # the image's person annotations (COCO records)
    load: Callable[[], np.ndarray]  # -> RGB uint8 [H, W, 3]


def read_annotations(path, schema):
    """The COCO dataset dict of ``path``, validated against the keypoint schema by the data package's reader."""
    from movenet_train.data.coco import load_keypoint_annotations

    path = str(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"annotation file {path} does not exist")
    return load_keypoint_annotations(path, schema).raw


def coco_source(annotations, images, schema):
    """(ground truth dict, list of Sample) from a COCO keypoint file and its image folder (of ``schema``'s joints)."""
    data = read_annotations(annotations, schema)
    if images is None:
        raise UserError(f"images=<dir> is needed with annotations={annotations}")
    if not os.path.isdir(images):
        raise FileNotFoundError(f"image folder {images} does not exist")
    person_id = next(c["id"] for c in data["categories"] if c.get("keypoints"))
    per_image = {}
    for ann in data["annotations"]:
        if ann.get("category_id") == person_id:
            per_image.setdefault(ann["image_id"], []).append(ann)
    samples = []
    for image in data["images"]:
        path = os.path.join(images, image["file_name"])
        samples.append(Sample(image, per_image.get(image["id"], []), lambda path=path, image=image: _load(path, image)))
    return data, samples


def check_images_exist(samples, images):
    missing = [s.image["file_name"] for s in samples if not os.path.isfile(os.path.join(images, s.image["file_name"]))]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise FileNotFoundError(
            f"{len(missing)} of the {len(samples)} selected images are missing from {images}: {shown}")


def _load(path, image):
    pixels = load_rgb(path)
    # As detectron2's check_image_size: a size other than the record's means the annotations do not fit the pixels.
    if pixels.shape[:2] != (image["height"], image["width"]):
        raise UserError(f"image {path} decodes to {pixels.shape[1]}x{pixels.shape[0]} but its annotation record "
                        f"says {image['width']}x{image['height']} (an EXIF rotation the annotations ignore? "
                        "data/prepare_coco.py resolves those: evaluate its records=...)")
    return pixels


def record_source(pattern, schema):
    """(ground truth dict, iterator of Sample) from TFRecords; the ground truth fills in as the stream is read."""
    from movenet_train.data.tfrecord import read_records  # the data stage's reader and schema

    dataset = read_records(str(pattern), schema=schema)  # raises FileNotFoundError naming the pattern
    data = {"images": [], "annotations": [], "categories": [dict(PERSON_CATEGORY, keypoints=list(schema.names),
                                                                 skeleton=[])]}

    def samples():
        for index, example in enumerate(dataset.as_numpy_iterator()):
            image, annotations = _record_to_coco(example, index, len(data["annotations"]), schema.num_keypoints)
            data["images"].append(image)
            data["annotations"].extend(annotations)
            yield Sample(image, annotations, lambda pixels=example["image"]: pixels)

    return data, samples()


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _record_to_coco(example, index, first_annotation_id, num_keypoints):
    """COCO image record and person annotations of one parsed example (pixels from normalised coordinates)."""
    height, width = int(example["height"]), int(example["width"])
    source_id = _text(example["source_id"])
    image_id = int(source_id) if source_id.isdigit() else index
    image = {"id": image_id, "file_name": _text(example["filename"]), "height": height, "width": width}
    annotations = []
    keypoints = np.asarray(example["keypoints"], np.float64).reshape(-1, num_keypoints, 2)
    visibility = np.asarray(example["keypoint_visibility"]).reshape(-1, num_keypoints)
    for i, box in enumerate(np.asarray(example["boxes"], np.float64).reshape(-1, 4)):
        ymin, xmin, ymax, xmax = box * [height, width, height, width]
        labelled = visibility[i] > 0
        coco_keypoints = np.stack([keypoints[i, :, 1] * width, keypoints[i, :, 0] * height, visibility[i]], -1)
        coco_keypoints[~labelled] = 0  # COCO writes unlabelled keypoints as (0, 0, 0)
        annotations.append({
            "id": first_annotation_id + len(annotations) + 1,
            "image_id": image_id,
            "category_id": PERSON_CATEGORY["id"],
            "bbox": [xmin, ymin, xmax - xmin, ymax - ymin],
            "area": float(np.asarray(example["area"]).reshape(-1)[i]),
            "iscrowd": int(np.asarray(example["is_crowd"]).reshape(-1)[i]),
            "num_keypoints": int(labelled.sum()),
            "keypoints": coco_keypoints.reshape(-1).tolist(),
        })
    return image, annotations

"""INT8 calibration images: real images, preprocessed exactly as eval feeds the model (letterbox, uint8)."""

import glob
import itertools
import os

import numpy as np

from movenet_train.errors import UserError
from movenet_train.preprocessing import load_rgb, model_input

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def calibration_images(cfg, height, width, exclude=(), *, schema):
    """(uint8 ``[N, height, width, 3]``, list of N image names) from ``cfg`` (the ``calibration`` config).

    Sources: ``records`` (a glob of prepare_coco.py TFRecords), ``annotations`` (a COCO json) with ``images``
    (its folder), or ``images`` alone (a folder or a glob). The first ``num_images`` images are taken in file
    order, skipping the names in ``exclude``. Returns (None, []) when no source is configured. ``schema``: the
    model's keypoint schema, which annotations and records are checked against.
    """

    if cfg.get("num_images") is None or int(cfg.num_images) < 1:
        raise UserError(f"calibration.num_images={cfg.get('num_images')}: must be a positive number of images")
    count = int(cfg.num_images)
    exclude = set(exclude)
    if cfg.get("records"):
        if cfg.get("annotations") or cfg.get("images"):
            raise UserError("give either calibration.records=<glob> or calibration.annotations/images, not both")
        named = _from_records(cfg.records, schema)
    elif cfg.get("annotations"):
        named = _from_annotations(cfg.annotations, cfg.get("images"), schema)
    elif cfg.get("images"):
        named = _from_folder(cfg.images)
    else:
        return None, []
    chosen = list(itertools.islice(((name, load) for name, load in named if name not in exclude), count))
    if not chosen:
        source = cfg.get("records") or cfg.get("annotations") or cfg.get("images")
        raise UserError(f"no calibration image left in {source}" + (
            f" after leaving out the {len(exclude)} images eval scores (calibration.exclude_eval_images=false "
            "keeps them)" if exclude else ""))
    images = np.stack([model_input(load(), height, width) for _, load in chosen])
    return images, [name for name, _ in chosen]


def _from_records(pattern, schema):
    from movenet_train.data.tfrecord import read_records

    for example in read_records(pattern, schema=schema).as_numpy_iterator():
        yield example["filename"].decode(), lambda image=example["image"]: image


def _from_annotations(annotations, images, schema):
    from movenet_train.evaluation.inputs import read_annotations

    if not images:
        raise UserError(f"calibration.images=<dir> is needed with calibration.annotations={annotations}")
    if not os.path.isdir(images):
        raise FileNotFoundError(f"calibration.images={images} is not a folder")
    for record in read_annotations(annotations, schema)["images"]:
        path = os.path.join(images, record["file_name"])
        yield record["file_name"], lambda path=path: _load(path, "calibration.annotations")


def _from_folder(images):
    pattern = os.path.join(images, "*") if os.path.isdir(images) else images
    paths = sorted(p for p in glob.glob(pattern) if p.lower().endswith(IMAGE_SUFFIXES))
    if not paths:
        raise FileNotFoundError(f"calibration.images={images} matches no image file ({', '.join(IMAGE_SUFFIXES)})")
    for path in paths:
        yield os.path.basename(path), lambda path=path: _load(path, "calibration.images")


def _load(path, key):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"calibration image {path} (listed by {key}) does not exist")
    return load_rgb(path)

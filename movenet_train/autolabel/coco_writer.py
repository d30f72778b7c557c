"""The labels as a COCO person-keypoint file, and the journal that makes a run resumable.

Each image's labels go to ``autolabel_progress.jsonl`` (one JSON line per image, flushed as it is written) as
soon as they exist; ``person_keypoints.json`` is made from it, whole, at the end (``atomic.atomic_path``). A run
that stops (Ctrl-C, a full disk, a killed job) loses at most the line it was writing, and the next run skips every
image already in the journal. The file is what COCO's ``person_keypoints_*.json`` files are, so
``data/prepare_coco.py``, pycocotools, Datumaro (CVAT's importer) and Label Studio's converter read it as such;
each annotation also carries the labeller's ``score`` (COCO results files do, ground-truth readers ignore it).
"""

import json
import os

import numpy as np

from movenet_train.atomic import atomic_path
from movenet_train.errors import UserError

LABELS_FILE = "person_keypoints.json"
JOURNAL_FILE = "autolabel_progress.jsonl"
PERSON = {"id": 1, "name": "person", "supercategory": "person"}
# The box around a person's kept keypoints grows by this fraction of its size on each side: keypoints are joint
# centres, the body reaches past them (the top of the head, the hands, the feet).
BOX_MARGIN = 0.1
LABELLED = 2  # COCO's v: labelled and visible (the model cannot tell occluded joints apart)


def category(schema):
    """The person category of ``schema``: joint names and the skeleton as 1-based index pairs (COCO's layout)."""
    return {**PERSON, "keypoints": list(schema.names),
            "skeleton": [[a + 1, b + 1] for a, b in schema.skeleton_indices]}


def annotation(keypoints, score, min_keypoint_score, height, width):
    """The COCO annotation (no ids yet) of a pose ``[N, 3]`` (y, x, score) in pixels, or None when no keypoint
    is kept: (x, y, 2) for those scoring at least ``min_keypoint_score`` inside the image, (0, 0, 0) for the others
    (a joint placed in the letterbox's padding is not in the picture); the box around the kept ones
    (``BOX_MARGIN``, at least a pixel, clipped to the image), its area, ``num_keypoints`` and the person's ``score``."""
    keypoints = np.asarray(keypoints, np.float64)
    inside = (keypoints[:, 0] >= 0) & (keypoints[:, 0] <= height) & (keypoints[:, 1] >= 0) & (keypoints[:, 1] <= width)
    kept = (keypoints[:, 2] >= min_keypoint_score) & inside
    if not kept.any():
        return None
    values = [[round(float(x), 2), round(float(y), 2), LABELLED] if keep else [0, 0, 0]
              for (y, x, _), keep in zip(keypoints, kept)]
    (ymin, xmin), (ymax, xmax) = keypoints[kept, :2].min(axis=0), keypoints[kept, :2].max(axis=0)
    # at least a pixel each side: one kept keypoint (or a row of them) would make a box of zero size, which
    # prepare_coco reports as a problem
    margin_y, margin_x = max(BOX_MARGIN * (ymax - ymin), 1.0), max(BOX_MARGIN * (xmax - xmin), 1.0)
    x0, x1 = np.clip([xmin - margin_x, xmax + margin_x], 0, width)
    y0, y1 = np.clip([ymin - margin_y, ymax + margin_y], 0, height)
    box = [round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)]
    return {"keypoints": [v for joint in values for v in joint], "num_keypoints": int(kept.sum()),
            "bbox": box, "area": round(box[2] * box[3], 2), "iscrowd": 0, "segmentation": [],
            "category_id": PERSON["id"], "score": round(float(score), 4)}


class Journal:
    """The per-image records of a run, one JSON line each: ``{"file_name", "width", "height", "annotations"}``,
    or ``{"file_name", "skipped": reason}`` for an image that could not be read."""

    def __init__(self, path):
        self.path = str(path)
        self.records = self._read()

    def _read(self):
        if not os.path.exists(self.path):
            return []
        records, good = [], 0
        with open(self.path, "rb") as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    break  # the line a stopped run was writing: dropped below, and redone
                if not line.endswith(b"\n"):
                    records.pop()
                    break
                good += len(line)
        if good != os.path.getsize(self.path):
            with open(self.path, "r+b") as f:
                f.truncate(good)
        return records

    @property
    def done(self):
        return {r["file_name"] for r in self.records}

    def append(self, record):
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
        self.records.append(record)


def dataset(records, schema, info=None):
    """The COCO dict of journal ``records`` (skipped images left out), ids numbered from 1 in record order."""
    images, annotations = [], []
    for record in records:
        if "skipped" in record:
            continue
        image_id = len(images) + 1
        images.append({"id": image_id, "file_name": record["file_name"], "width": record["width"],
                       "height": record["height"]})
        for ann in record["annotations"]:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, **ann})
    return {"info": dict(info or {}), "images": images, "annotations": annotations, "categories": [category(schema)]}


def write_json(path, content, indent=None):
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(content, f, indent=indent)


def read_labels(path, schema):
    """A labels file this module wrote, checked to hold ``schema``'s joints (a rerun with another model's schema
    would mix two kinds of keypoints in one file)."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not valid JSON ({err}); delete it or use another output=") from err
    names = [c.get("keypoints") for c in data.get("categories", [])]
    if names != [list(schema.names)]:
        raise UserError(f"{path}: its categories[].keypoints {names} are not the model's keypoint schema "
                        f"{schema.name!r} {list(schema.names)}; use another output= for this model")
    return data


def results(labels):
    """A labels dict as COCO keypoint results (what pycocotools' ``loadRes`` takes), to score it against hand
    labels: each annotation's keypoints and ``score``."""
    return [{"image_id": a["image_id"], "category_id": a["category_id"], "keypoints": a["keypoints"],
             "score": a["score"]} for a in labels["annotations"]]

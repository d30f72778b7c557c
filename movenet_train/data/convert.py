"""COCO keypoint JSON + images -> sharded TFRecords (``data/prepare_coco.py``), in parallel over the cores.

Shards are written under a hidden temporary folder inside ``output`` and renamed into place only when every
image is done, so an interrupted run leaves no file that matches ``<split>-*.tfrecord``. The manifest
``<split>-manifest.json`` (counts, skipped images, problems, source checksum, options) is written last.

Bad data is counted and skipped: images that cannot be read, and annotation values that are wrong (``coco.py``:
keypoints far outside the image or their person's box, boxes of negative or zero size, NaN or infinity), each
logged with its annotation id and listed under ``problems``. ``strict=True`` makes the first of them an error
naming the file and the annotation, and leaves the output as it was.
"""

import collections
import concurrent.futures
import datetime
import json
import logging
import math
import multiprocessing
import os
import random

import tensorflow as tf
from tqdm import tqdm

from movenet_train.atomic import atomic_path, scratch_folder
from movenet_train.checkpoints import sha256_of
from movenet_train.data import coco
from movenet_train.data.tfrecord import encode_example
from movenet_train.errors import UserError

log = logging.getLogger(__name__)

IMAGES_PER_SHARD = 1000  # default shard size: ~150 MB of COCO JPEGs
MAX_SKIPS_LISTED = 1000  # skipped images and problems listed in the manifest (all are counted)
MAX_PROBLEMS_LOGGED = 100  # one log line each; the rest are in the manifest


def shard_name(split, index, num_shards):
    return f"{split}-{index:05d}-of-{num_shards:05d}.tfrecord"


def manifest_path(output, split):
    return os.path.join(output, f"{split}-manifest.json")


def _results(tasks, num_workers):
    """Prepared images in task order; ``num_workers=0`` runs in this process."""
    if num_workers == 0:
        yield from map(coco.prepare_task, tasks)
        return
    # spawn: the workers import no TensorFlow, and forking a process that runs TensorFlow threads is unsafe.
    # A worker that dies (killed, out of memory) stops the run with BrokenProcessPool instead of a hang.
    with concurrent.futures.ProcessPoolExecutor(num_workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            yield from pool.map(coco.prepare_task, tasks, chunksize=8)
        except concurrent.futures.process.BrokenProcessPool as err:
            raise RuntimeError(f"a conversion worker process died ({err}); a script run without a file (python -) "
                               "cannot start workers: pass num_workers=0 to convert in this process") from err


def problem_count(counts):
    """Wrong annotation values found (the ``problems_<kind>`` counts of a manifest)."""
    return sum(v for k, v in counts.items() if k.startswith("problems_"))


class Problems:
    """Problems in the data, as they are found: counted, logged (the first ``MAX_PROBLEMS_LOGGED``) and listed;
    under ``strict`` the first is a ``ValueError`` naming ``annotations``."""

    def __init__(self, annotations, strict, counters):
        self.annotations, self.strict, self.counters = annotations, strict, counters
        self.listed = []

    def add(self, kind, message, action, **entry):
        if self.strict:
            raise UserError(f"{self.annotations}: {message} (strict=true; strict=false skips and counts these)")
        self.counters[f"problems_{kind}"] += 1
        if problem_count(self.counters) <= MAX_PROBLEMS_LOGGED:
            log.warning("%s: %s", message, action)
        if len(self.listed) < MAX_SKIPS_LISTED:
            self.listed.append({**entry, "problem": kind, "message": message, "action": action})


def convert_coco(annotations, images, output, split="train", num_shards=None, num_workers=None, shuffle=True,
                 seed=0, jpeg_quality=95, overwrite=False, progress=True, strict=False, *, schema):
    """Writes ``output/<split>-NNNNN-of-MMMMM.tfrecord`` and ``output/<split>-manifest.json``.

    Args:
      annotations: a COCO person-keypoint JSON (validated first; errors name the file and key).
      images: the folder its ``file_name`` entries are relative to.
      output: folder of the records (created).
      split: prefix of the record files (``train``, ``val``, ...).
      num_shards: default one per ``IMAGES_PER_SHARD`` images.
      num_workers: processes decoding images; default all cores, 0 for none.
      shuffle, seed: order of the images over the shards (training reads shards in parallel).
      jpeg_quality: of images that must be re-encoded (rotated, grayscale, CMYK, with alpha, ...).
      overwrite: replace records of the same split.
      strict: the first skipped image or wrong annotation value is an error (the output is left as it was).
      schema: the ``KeypointSchema`` the file's keypoint category must have; the records hold ``3 x N`` values
        per person and the manifest lists the names.

    Returns:
      the manifest (a dict).
    """
    dataset = coco.load_keypoint_annotations(annotations, schema, skip_non_finite=not strict)
    if not os.path.isdir(images):
        raise FileNotFoundError(f"images folder {images} does not exist")
    existing = tf.io.gfile.glob(os.path.join(output, f"{split}-*.tfrecord"))
    if existing and not overwrite:
        raise FileExistsError(f"{output} already holds {split} records ({len(existing)} files); pass overwrite=true "
                              "to replace them")
    order = list(dataset.images)
    if shuffle:
        random.Random(seed).shuffle(order)
    if not order:
        raise UserError(f"{annotations}: 'images' is empty")
    num_shards = min(num_shards or math.ceil(len(order) / IMAGES_PER_SHARD), len(order))
    num_workers = os.cpu_count() if num_workers is None else num_workers
    tasks = [(image, dataset.annotations.get(image["id"], []), images, schema.names, jpeg_quality)
             for image in order]

    counters = collections.Counter(images_in_json=len(order))
    problems = Problems(annotations, strict, counters)
    for entry in dataset.problems:  # annotations left out of the dataset (non-finite values)
        problems.add(entry["problem"], entry["message"], entry["action"], annotation=entry["annotation"])
    skipped, shards = [], []
    # Shards are written aside and moved in only once all are written: a failed run leaves the old split whole.
    with scratch_folder(output, prefix=f".tmp-{split}-") as tmp:
        writer, shard = None, -1
        for index, result in enumerate(tqdm(_results(tasks, num_workers), total=len(tasks), disable=not progress,
                                            desc=f"{split} records", unit="img")):
            if index * num_shards // len(tasks) != shard:  # contiguous blocks of images per shard
                if writer:
                    writer.close()
                shard = index * num_shards // len(tasks)
                shards.append({"file": shard_name(split, shard, num_shards), "examples": 0, "people": 0})
                writer = tf.io.TFRecordWriter(os.path.join(tmp, shards[-1]["file"]))
            counters.update(result.counters)
            for entry in result.problems:
                problems.add(entry["problem"], f"{entry['message']} (image {result.filename})", entry["action"],
                             annotation=entry["annotation"], file=result.filename)
            if result.skip_reason:
                if strict:
                    raise UserError(f"{annotations}: image {result.message} (strict=true; strict=false skips and "
                                    "counts such images)")
                counters[f"skipped_{result.skip_reason}"] += 1
                log.warning("skipped %s", result.message)
                if len(skipped) < MAX_SKIPS_LISTED:
                    skipped.append({"file": result.filename, "reason": result.skip_reason, "message": result.message})
                continue
            writer.write(encode_example(**result.fields).SerializeToString())
            shards[-1]["examples"] += 1
            shards[-1]["people"] += len(result.fields["boxes"])
        writer.close()
        counters["examples"] = sum(s["examples"] for s in shards)
        counters["skipped_images"] = len(tasks) - counters["examples"]

        manifest = {
            "split": split,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "source": {
                "annotations": os.path.abspath(annotations),
                "annotations_sha256": sha256_of(annotations),
                "images": os.path.abspath(images),
                "annotations_of_other_categories": dataset.num_ignored_annotations,
            },
            "options": {"num_shards": num_shards, "shuffle": shuffle, "seed": seed, "jpeg_quality": jpeg_quality},
            "keypoint_schema": schema.name,
            "keypoint_names": list(schema.names),
            "counts": dict(sorted(counters.items())),
            "shards": shards,
            "skipped": skipped,
            "problems": problems.listed,
        }
        for path in existing:
            os.remove(path)
        for entry in shards:
            os.replace(os.path.join(tmp, entry["file"]), os.path.join(output, entry["file"]))
        with atomic_path(manifest_path(output, split)) as path, open(path, "w") as f:
            json.dump(manifest, f, indent=2)
    if counters["skipped_images"]:
        log.warning("%d of %d images skipped (see %s)", counters["skipped_images"], len(tasks),
                    manifest_path(output, split))
    if problem_count(counters):
        log.warning("%d wrong annotation values skipped (%s; listed in %s)", problem_count(counters),
                    ", ".join(f"{k[len('problems_'):]} {v}" for k, v in sorted(counters.items())
                              if k.startswith("problems_")), manifest_path(output, split))
    return manifest

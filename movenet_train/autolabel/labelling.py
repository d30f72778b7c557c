"""``autolabel``: COCO keypoint labels for a folder of images, a video or a GIF, resumable, with contact sheets.

The loop over the input (``tracking.media``): still images one by one in file order, clip frames every
``frame_step``-th (written as JPEG files under ``DIR/images``, the labels' image root). Images are taken
``batch_size`` at a time: people found for all of them (``people.py``; on a clip with ``people=single`` frame by
frame, since each frame's crop comes from the previous frame's pose), then every view of every person
(``ensemble.py``) through the single-pose model in batches, fused, duplicates removed, and each image's record
appended to the journal (``coco_writer.Journal``). An image that cannot be decoded is named in a warning,
skipped and counted. At the end: ``person_keypoints.json``, the contact sheets and ``autolabel_report.json``.

A rerun with the same settings skips what the journal holds; when everything is labelled it returns the report
without loading a model or decoding a frame. Other settings in the same ``output`` are an error (a file of
two kinds of labels would be worse than none); ``overwrite=true`` starts again.
"""

import dataclasses
import logging
import os
import time
import typing

import numpy as np
from tqdm.auto import tqdm

from movenet_train.autolabel import coco_writer, contact_sheet, ensemble, people as people_lib
from movenet_train.autolabel.resume import IMAGES_DIR, REPORT_FILE, check_settings, clear, finished_report, \
    run_settings
from movenet_train.errors import UserError
from movenet_train.orientation import with_orientation
from movenet_train.predictor import Predictor
from movenet_train.tracking import media

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Item:
    """One image to label: its file name in the labels (relative to the image root) and how to get its pixels."""

    file_name: str
    index: int
    load: typing.Callable  # -> RGB uint8 [H, W, 3]; raises UserError / OSError when it cannot be read
    write: bool = False  # a clip frame: written under DIR/images before its labels are journalled


def input_items(path, frame_step):
    """(items, image root, kind, count) of ``path``: a folder or image (file names relative to its folder), a video
    or GIF (every ``frame_step``-th frame, named ``<clip stem>_<frame:06d>.jpg`` under ``DIR/images``)."""
    kind = media.media_kind(path)
    if kind in ("folder", "image"):
        paths = media.folder_images(path) if kind == "folder" else [str(path)]
        root = str(path) if kind == "folder" else os.path.dirname(os.path.abspath(path))
        from movenet_train.preprocessing import load_rgb

        items = (Item(os.path.basename(p), i, lambda p=p: load_rgb(p)) for i, p in enumerate(paths))
        return items, root, kind, len(paths)
    reader = media.open_media(path)
    stem = os.path.splitext(os.path.basename(str(path)))[0]

    def frames():
        for index, frame in enumerate(reader):
            if index % frame_step == 0:
                yield Item(f"{stem}_{index:06d}.jpg", index, lambda image=frame.image: image, write=True)

    count = None if reader.num_frames is None else (reader.num_frames + frame_step - 1) // frame_step
    return frames(), None, kind, count


class Labeller:
    """The people of a batch of images, labelled: ``labeller(images, follower=None)`` -> per image, a list of
    (COCO annotation, fused pose [N, 3] pixels)."""

    def __init__(self, model, options, detector=None):
        self.options = options
        self.schema = model.schema
        self.own_poses = model.multi_pose  # a MultiPose labeller: its own poses, nothing top-down
        if self.own_poses:
            if options.people != "multi":
                raise UserError("checkpoint: a MultiPose model labels its own poses, which needs people=multi; "
                                "for people=single give a single-pose model (Lightning, Thunder)")
            if options.transforms:
                raise UserError(f"transforms={list(options.transforms)}: the transforms apply to single-pose "
                                "labellers (Lightning, Thunder); a MultiPose model's own poses take transforms=[]")
            detector = detector or model
        elif "orientation" in options.transforms:
            model = with_orientation(model, "any")
        self.model = model
        self.size = model.input_size
        if options.people == "multi":
            if detector is None:
                raise UserError("detector=<MultiPose model file> is required with people=multi (the model that "
                                "finds the people)")
            self.detector = people_lib.Detector(detector, options.min_person_score, options.crop_scale)
        else:
            self.detector = None

    def __call__(self, images, follower=None):
        if self.detector is not None:
            found = self.detector(images)
        elif follower is not None:
            found = [[follower.person(*image.shape[:2])] for image in images]
        else:
            found = [[people_lib.whole_image(*image.shape[:2])] for image in images]
        poses = self._own(found) if self.own_poses else self._top_down(images, found)
        labelled = []
        for image, persons, fused in zip(images, found, poses):
            labelled.append(self._annotations(image.shape[:2], persons, fused))
        return labelled

    def _own(self, found):
        return [[person.keypoints for person in persons] for persons in found]

    def _top_down(self, images, found):
        inputs, owners = [], []
        for i, (image, persons) in enumerate(zip(images, found)):
            for j, person in enumerate(persons):
                for view in ensemble.person_views(person.square, self.options.transforms, self.options.scales):
                    inputs.append(ensemble.view_input(image, view, self.size))
                    owners.append((i, j, view))
        outputs = ensemble.run_views(self.model, inputs, self.options.batch_size)
        per_person = {}
        for (i, j, view), output in zip(owners, outputs):
            per_person.setdefault((i, j), []).append(ensemble.view_keypoints(output, view, self.schema, self.size))
        fused = []
        for i, persons in enumerate(found):
            fused.append([])
            for j, person in enumerate(persons):
                views = np.stack(per_person[(i, j)])
                area = ensemble.pose_area(views[0], self.options.min_keypoint_score, person.square[2])
                fused[-1].append(ensemble.fuse(views, self.schema.sigmas, area))
        return fused

    def _annotations(self, shape, persons, poses):
        options = self.options
        scores, areas = [], []
        for person, pose in zip(persons, poses):
            # top-down rescoring: how sure the finder is that a person is there, times how sure the labeller is
            scores.append(person.score * kept_score(pose[:, 2], options.min_keypoint_score))
            areas.append(ensemble.pose_area(pose, options.min_keypoint_score, person.square[2]))
        keep = [i for i in people_lib.remove_duplicates(poses, scores, areas, self.schema.sigmas,
                                                         options.min_keypoint_score, options.duplicate_oks)
                if kept_score(poses[i][:, 2], options.min_keypoint_score) >= options.min_pose_score]
        out = []
        for i in keep:
            ann = coco_writer.annotation(poses[i], scores[i], options.min_keypoint_score, *shape)
            if ann is not None:
                out.append((ann, poses[i]))
        return out


def kept_score(scores, min_keypoint_score):
    """A pose's score: the mean score of the keypoints it keeps (0 when it keeps none), as the tracker's pose score
    is the mean of those above its threshold."""
    scores = np.asarray(scores)
    kept = scores[scores >= min_keypoint_score]
    return float(kept.mean()) if kept.size else 0.0


def _model(source):
    """A predictor, or a zero-argument callable making one (loaded only when something is left to label)."""
    return source if source is None or isinstance(source, Predictor) else source()


def autolabel(labeller, input, output, options, detector=None, overwrite=False, progress=True, tracking=None,
              models=None):
    """Labels ``input`` into ``output`` (module docstring); returns the report (also ``autolabel_report.json``).

    ``labeller``, ``detector``: predictors (``runtime.load_predictor``) or callables returning one, called only
    when an image is left to label. ``tracking``: the tracker's crop constants (``TrackerConfig``) for clips with
    ``people=single``. ``models``: what the report and the settings record of the models (their paths)."""
    started = time.perf_counter()
    items, root, kind, count = input_items(input, options.frame_step)
    if root is not None and os.path.abspath(output) == os.path.abspath(root):
        raise UserError(f"output={output} is the input's own folder: its contact sheets would be labelled as "
                        "images on the next run; choose another output folder")
    labels_path = os.path.join(output, coco_writer.LABELS_FILE)
    journal_path = os.path.join(output, coco_writer.JOURNAL_FILE)
    report_path = os.path.join(output, REPORT_FILE)
    settings = run_settings(input, options, models)
    if overwrite:
        clear(output)
    os.makedirs(output, exist_ok=True)
    journal = coco_writer.Journal(journal_path)
    check_settings(journal, settings, output)
    if not journal.records:
        journal.append({"settings": settings})
    records = [r for r in journal.records if "file_name" in r]
    report = finished_report(output, settings, kind, input, records)
    if report is not None:
        log.info("%s: every image is labelled already (%s)", output, labels_path)
        return report

    done = {r["file_name"] for r in records}
    image_root = root or os.path.join(output, IMAGES_DIR)
    # a clip with people=single goes frame by frame: each frame's crop comes from the previous frame's pose
    follow = kind in ("video", "gif") and options.people == "single"
    work, seconds, pending = None, 0.0, []
    bar = tqdm(total=count, unit="image" if kind in ("folder", "image") else "frame", desc="autolabel",
               disable=not progress)
    try:
        for item in _then_none(items):
            if item is not None and item.file_name in done:
                bar.update(1)
                continue
            if item is not None:
                pending.append(item)
            if pending and (item is None or len(pending) >= (1 if follow else options.batch_size)):
                work = work or _Work(labeller, detector, options, tracking, follow)
                seconds += work.label(pending, journal, image_root, options)
                bar.update(len(pending))
                pending = []
    finally:
        bar.close()

    records = [r for r in journal.records if "file_name" in r]
    schema = work.labeller.schema if work else _schema_of(labeller)
    labels = coco_writer.dataset(records, schema, {"description": "movenet_train autolabel", **settings})
    coco_writer.write_json(labels_path, labels)
    sheets = []
    if options.contact_sheet.enabled:
        sheet = options.contact_sheet
        sheets = contact_sheet.write_contact_sheets(
            records, lambda name: _load(image_root, name), schema, output, options.min_keypoint_score,
            sheet.tile_size, sheet.columns, sheet.rows, sheet.max_pages)
    report = _report(records, labels, settings, image_root, sheets, time.perf_counter() - started,
                     seconds, work.labelled if work else 0)
    coco_writer.write_json(report_path, report, indent=1)
    return report


def _then_none(items):
    """``items``, then None: the end of the input, where the last partial batch is labelled."""
    yield from items
    yield None


def _schema_of(source):
    return _model(source).schema


class _Work:
    """The models, loaded once something is left to label, and the per-batch step."""

    def __init__(self, labeller, detector, options, tracking, follow):
        model = _model(labeller)
        self.labeller = Labeller(model, options, _model(detector))
        self.follower = None
        if follow:
            from movenet_train.config import default_config
            from movenet_train.tracking.tracker import TrackerConfig

            self.follower = people_lib.Follower(model.schema, tracking or default_config(TrackerConfig))
        self.labelled = 0

    def label(self, items, journal, image_root, options):
        """Labels ``items``, writes clip frames, journals each image; returns the seconds spent."""
        started = time.perf_counter()
        images, readable = [], []
        for item in items:
            try:
                images.append(item.load())
                readable.append(item)
            except (UserError, OSError) as err:
                log.warning("skipped %s: %s", item.file_name, err)
                journal.append({"file_name": item.file_name, "skipped": str(err)})
        if readable:
            for item, image, labelled in zip(readable, images, self._label(images)):
                if item.write:
                    path = os.path.join(image_root, item.file_name)
                    media.write_image(path, image, quality=options.jpeg_quality)
                journal.append({"file_name": item.file_name, "frame": item.index, "width": int(image.shape[1]),
                                "height": int(image.shape[0]), "annotations": [a for a, _ in labelled],
                                "poses": [np.round(p, 2).tolist() for _, p in labelled]})
            self.labelled += len(readable)
        return time.perf_counter() - started

    def _label(self, images):
        if self.follower is None:
            return self.labeller(images)
        (image,) = images
        height, width = image.shape[:2]
        labelled = self.labeller([image], self.follower)[0]
        if not labelled and self.follower.following:  # the crop lost the person: look at the whole frame now
            self.follower.update(None, height, width)
            labelled = self.labeller([image], self.follower)[0]
        self.follower.update(labelled[0][1] if labelled else None, height, width)
        return [labelled]


def _load(root, name):
    from movenet_train.preprocessing import load_rgb

    return load_rgb(os.path.join(root, name))


def _report(records, labels, settings, image_root, sheets, seconds, labelling_seconds, labelled):
    skipped = [{"file_name": r["file_name"], "reason": r["skipped"]} for r in records if "skipped" in r]
    kept = sum(a["num_keypoints"] for a in labels["annotations"])
    return {"complete": True, "images": len(labels["images"]), "people": len(labels["annotations"]),
            "keypoints_kept": kept, "skipped": len(skipped), "skipped_images": skipped,
            "images_without_people": sum(1 for r in records if "skipped" not in r and not r["annotations"]),
            "seconds": round(seconds, 2), "labelled_this_run": labelled,
            "images_per_second": round(labelled / labelling_seconds, 3) if labelling_seconds else None,
            "image_root": os.path.abspath(image_root), "contact_sheets": [os.path.basename(p) for p in sheets],
            "settings": settings}



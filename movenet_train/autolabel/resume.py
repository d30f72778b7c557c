"""What a run left in its output: the settings it was made with, whether it finished, and starting afresh.

Light on purpose (no TensorFlow): ``finished`` lets the command return at once when a rerun has nothing left to
label, before a model or TensorFlow loads.
"""

import json
import os
import shutil

from movenet_train.autolabel import coco_writer
from movenet_train.errors import UserError
from movenet_train.tracking import media

REPORT_FILE = "autolabel_report.json"
IMAGES_DIR = "images"  # a clip's frames, the labels' image root


def input_signature(path, kind):
    """What identifies the input across runs: its path and, for a file, its size and modification time."""
    signature = {"input": os.path.abspath(path), "kind": kind}
    if kind != "folder":
        stat = os.stat(path)
        signature.update(size=stat.st_size, mtime=int(stat.st_mtime))
    return signature


def run_settings(input, options, models):
    """The settings a run records in its journal's first line and its report: input, models, options."""
    return {**input_signature(input, media.media_kind(input)), **(models or {}), **options.settings()}


def check_settings(journal, settings, output):
    """A ``UserError`` naming each setting that differs from those ``journal`` was started with."""
    if not journal.records:
        if os.path.exists(os.path.join(output, coco_writer.LABELS_FILE)):
            raise UserError(f"{os.path.join(output, coco_writer.LABELS_FILE)} exists but its journal "
                            f"{coco_writer.JOURNAL_FILE} does not; use another output= or overwrite=true")
        return
    first = journal.records[0].get("settings")
    if first is None:
        raise UserError(f"{journal.path}: its first line holds no settings; use another output= or overwrite=true")
    changed = [f"{key}: {first.get(key)!r} -> {settings.get(key)!r}" for key in sorted(set(first) | set(settings))
               if first.get(key) != settings.get(key)]
    if changed:
        raise UserError(f"{output} holds labels made with other settings ({'; '.join(changed)}); use another "
                        "output= or overwrite=true to label again")


def finished_report(output, settings, kind, input, records):
    """The report of a finished run with these settings when nothing is left to label, else None."""
    report_path = os.path.join(output, REPORT_FILE)
    if not (os.path.exists(report_path) and os.path.exists(os.path.join(output, coco_writer.LABELS_FILE))):
        return None
    with open(report_path) as f:
        report = json.load(f)
    if report.get("settings") != settings or not report.get("complete"):
        return None
    if kind == "folder":  # images added to the folder since: label them
        names = {os.path.basename(p) for p in media.folder_images(input)}
        if not names <= {r["file_name"] for r in records}:
            return None
    return report


def finished(input, output, options, models=None):
    """The report of ``output`` when a run with these settings finished there and nothing is left, else None
    (also when the settings differ: the run itself says how)."""
    journal_path = os.path.join(output, coco_writer.JOURNAL_FILE)
    if not os.path.exists(journal_path):
        return None
    settings = run_settings(input, options, models)
    journal = coco_writer.Journal(journal_path)
    if not journal.records or journal.records[0].get("settings") != settings:
        return None
    records = [r for r in journal.records if "file_name" in r]
    return finished_report(output, settings, settings["kind"], input, records)


def clear(output):
    """``overwrite=true``: the files a run writes are removed (nothing else in ``output``)."""
    for name in (coco_writer.LABELS_FILE, coco_writer.JOURNAL_FILE, REPORT_FILE):
        path = os.path.join(output, name)
        if os.path.exists(path):
            os.remove(path)
    if os.path.isdir(os.path.join(output, IMAGES_DIR)):
        shutil.rmtree(os.path.join(output, IMAGES_DIR))
    if os.path.isdir(output):
        for name in os.listdir(output):
            if name.startswith("contact_sheet_") and name.endswith(".png"):
                os.remove(os.path.join(output, name))

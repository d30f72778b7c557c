"""Writes the eval's files so that none is ever left half-written: temporary sibling, then rename."""

import contextlib
import csv
import json
import os
import tempfile

METRICS_FILE = "metrics.json"
RESULTS_FILE = "keypoints_results.json"
PER_KEYPOINT_FILE = "per_keypoint.csv"
PRECISION_RECALL_PLOT = "precision_recall.png"
PER_KEYPOINT_PLOT = "per_keypoint.png"


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path in the same folder; renamed to ``path`` only if the block succeeds."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for sharing
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_json(path, value, indent=None):
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(value, f, indent=indent)


def write_csv(path, rows):
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_png(path, figure):
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")


def write_all(output_dir, metrics, results, per_keypoint, figures):
    """metrics.json, keypoints_results.json, per_keypoint.csv and the PNGs of ``figures`` ({file name: Figure})."""
    write_json(os.path.join(output_dir, RESULTS_FILE), results)
    write_csv(os.path.join(output_dir, PER_KEYPOINT_FILE), per_keypoint)
    for name, figure in figures.items():
        write_png(os.path.join(output_dir, name), figure)
    write_json(os.path.join(output_dir, METRICS_FILE), metrics, indent=2)  # last: its presence means "complete"

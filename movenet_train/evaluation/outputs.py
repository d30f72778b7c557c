"""Writes the eval's files so that none is ever left half-written: temporary sibling, then rename."""

import csv
import json
import os

from movenet_train.atomic import atomic_path

METRICS_FILE = "metrics.json"
RESULTS_FILE = "keypoints_results.json"
PER_KEYPOINT_FILE = "per_keypoint.csv"
PRECISION_RECALL_PLOT = "precision_recall.png"
PER_KEYPOINT_PLOT = "per_keypoint.png"


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

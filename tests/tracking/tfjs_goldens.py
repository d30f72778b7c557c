"""Readers of the TF.js goldens in ``golden/`` (made by ``python -m tests.tracking.make_tfjs_goldens``).

Coordinate order: the JSON files store each keypoint as TF.js reports it, ``[x, y, score]``, x and y in pixels of
the frame TF.js was given (for the turned clips, the turned frame). The loaders here return (y, x), the order of the
project's ``Pose.keypoints``; ``turned_back`` maps turned-frame (y, x) to the upright frame.
"""

import json
import pathlib

import numpy as np

from movenet_train import geometry

GOLDEN = pathlib.Path(__file__).with_name("golden")
PACKAGE = "@tensorflow-models/pose-detection@2.1.3"


def singlepose_golden_path(k=0):
    k %= 4
    return GOLDEN / (f"tfjs_singlepose_pose_1_rot{90 * k}.json" if k else "tfjs_singlepose_pose_1.json")


def load_singlepose_golden(k=0):
    """TF.js SinglePose Lightning (its own crop tracking, smoothing on) on pose_1.mp4 with every frame turned by
    ``np.rot90(frame, k)``: ``(keypoints_yx float64 [T, 17, 2], scores float64 [T, 17])``, (y, x) in pixels of the
    turned frame, T = 120; NaN rows for frames where TF.js returned no pose (pose score under its minPoseScore).
    Frame i is at i * 1000 / 30 ms."""
    with open(singlepose_golden_path(k)) as f:
        return singlepose_arrays(json.load(f))


def singlepose_arrays(data):
    """``load_singlepose_golden``'s arrays from a single-pose golden's JSON."""
    assert data["package"] == PACKAGE and data["model"] == "SinglePose.Lightning", (data["package"], data["model"])
    keypoints_yx = np.full((len(data["frames"]), 17, 2), np.nan)
    scores = np.full((len(data["frames"]), 17), np.nan)
    for i, frame in enumerate(data["frames"]):
        if frame["poses"]:
            keypoints = np.array(frame["poses"][0]["keypoints"], np.float64)  # [17, 3]: x, y, score
            keypoints_yx[i], scores[i] = keypoints[:, 1::-1], keypoints[:, 2]
    return keypoints_yx, scores


def turned_back(keypoints_yx, k, height, width):
    """(y, x) pixels ``[..., 2]`` of a frame turned by ``np.rot90(frame, k)`` -> the same points in the upright frame
    (``height x width``, 576 x 576 for pose_1.mp4). NaN stays NaN."""
    turned_h, turned_w = (width, height) if k % 2 else (height, width)
    return geometry.apply(geometry.quarter_turn_matrix(-k, turned_h, turned_w), keypoints_yx)

"""The COCO keypoint table every stage of the project imports (names, flips, skeleton, OKS sigmas)."""

import numpy as np

KEYPOINT_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
KEYPOINT_INDEX = {name: i for i, name in enumerate(KEYPOINT_NAMES)}

# Index permutation that a horizontal flip applies: left_* <-> right_*.
FLIP_PERMUTATION = tuple(
    KEYPOINT_INDEX[n.replace("left_", "right_") if n.startswith("left_") else n.replace("right_", "left_")]
    for n in KEYPOINT_NAMES
)

# 0-based edges of the skeleton drawn over predictions (COCO's official skeleton, 1-based in the JSON).
SKELETON = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
    (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)

# COCO OKS per-keypoint sigmas (pycocotools' COCOeval.kpt_oks_sigmas).
OKS_SIGMAS = np.array(
    [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89]
) / 10.0

TORSO_KEYPOINTS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")

"""The decoded output layout every MoveNet model shares, and the score thresholds every stage uses.

Single-pose models output ``[B, 1, N, 3]``: per keypoint (y, x, score), y and x normalised to the input.
Multi-pose models output ``[B, 6, 3N + 5]``: per person the N keypoints as above, then the box (ymin, xmin,
ymax, xmax, normalised) and the instance score. ``unpack`` is the one reader of that layout.
"""

import dataclasses
from typing import Optional

import numpy as np

# A keypoint counts (pose score, torso visible, body extent of the crop) above this: TF.js pose-detection.
KEYPOINT_SCORE_THRESHOLD = 0.2
# A pose (tracker) or a multi-pose person (drawing, export parity) is reported from this score: TF.js.
POSE_SCORE_THRESHOLD = 0.25
# Drawing hides keypoints scoring below this: the model card's advice.
DRAW_KEYPOINT_THRESHOLD = 0.3


@dataclasses.dataclass(frozen=True)
class People:
    """The people of one image: ``keypoints`` ``[P, N, 3]`` (y, x, score), ``scores`` ``[P]`` (single-pose: the
    pose score of ``pose_score``), ``boxes`` ``[P, 4]`` (multi-pose only, else None)."""

    keypoints: np.ndarray
    scores: np.ndarray
    boxes: Optional[np.ndarray] = None

    def __len__(self):
        return len(self.keypoints)

    def above(self, threshold):
        keep = self.scores >= threshold
        return People(self.keypoints[keep], self.scores[keep], None if self.boxes is None else self.boxes[keep])


def pose_score(scores, min_keypoint_score=KEYPOINT_SCORE_THRESHOLD):
    """Mean of the keypoint scores above ``min_keypoint_score`` (0 when none is): TF.js's pose score."""
    scores = np.asarray(scores)
    above = scores[scores > min_keypoint_score]
    return float(above.mean()) if above.size else 0.0


def unpack(output, num_keypoints, multi_pose):
    """``People`` of one image's decoded output: ``[1, N, 3]`` (single-pose) or ``[6, 3N + 5]`` (multi-pose)."""
    output = np.asarray(output)
    if multi_pose:
        people = output.reshape(-1, 3 * num_keypoints + 5)
        return People(people[:, :3 * num_keypoints].reshape(-1, num_keypoints, 3), people[:, -1],
                      people[:, 3 * num_keypoints:3 * num_keypoints + 4])
    keypoints = output.reshape(-1, num_keypoints, 3)
    return People(keypoints, np.array([pose_score(k[:, 2]) for k in keypoints]))

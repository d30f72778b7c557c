"""MultiPose video with track ids, as TF.js pose-detection runs ``MULTIPOSE_LIGHTNING`` with tracking.

Per frame (``MoveNetDetector.estimateMultiplePoses``, pose-detection/src/movenet/detector.ts): the frame resized
so its longer side is ``multi_pose_max_dimension`` and padded at the bottom or right to a multiple of 32; the
poses scoring below ``min_pose_score`` dropped; the keypoints mapped back to the frame in normalised
coordinates; ids from a tracker (``src/calculators/``: ``BoundingBoxTracker`` on box IoU or ``KeypointTracker``
on an OKS-like similarity, both greedy in the model's pose order); then one One Euro filter per track id
smoothing its keypoints, dropped with the track. Timestamps are milliseconds, turned into microseconds as
TF.js does (``ms * 1000``), so a track's age is compared with ``max_age_ms`` exactly as there.
"""

import dataclasses
import math
import typing

import numpy as np
import tensorflow as tf

from movenet_train.config import default_config
from movenet_train.errors import UserError
from movenet_train.modeling.movenet import MULTI_POSE_STRIDE  # TF.js's ``dimensionDivisor`` too
from movenet_train.modeling.outputs import unpack
from movenet_train.tracking.one_euro import OneEuroFilter
from movenet_train.tracking.tracker import BoundingBoxTrackerConfig, KeypointTrackerConfig, Pose, TrackerConfig

TRACKERS = ("bounding_box", "keypoint", "none")


def multi_pose_input(frame, max_dimension):
    """TF.js's MultiPose input of an RGB ``frame``: ``(image [H', W', 3] int32, (resized_h, resized_w))``.

    The longer side becomes ``max_dimension``, the other ``round(max_dimension * short / long)``; the resize is
    TF.js ``tf.image.resizeBilinear``'s default (no corner alignment, no half-pixel centres), the padding zeros at
    the bottom or right up to a multiple of 32, the values truncated to integers.
    """
    if max_dimension % MULTI_POSE_STRIDE or max_dimension < MULTI_POSE_STRIDE:
        raise UserError(f"tracking.multi_pose_max_dimension must be a multiple of {MULTI_POSE_STRIDE}, got "
                        f"{max_dimension}")
    height, width = frame.shape[:2]
    # JavaScript's Math.round rounds halves up; Python's round would round them to even.
    if width > height:
        resized = (math.floor(max_dimension * height / width + 0.5), max_dimension)
    else:
        resized = (max_dimension, math.floor(max_dimension * width / height + 0.5))
    padded = tuple(math.ceil(side / MULTI_POSE_STRIDE) * MULTI_POSE_STRIDE for side in resized)
    image = tf.compat.v1.image.resize_bilinear(tf.cast(frame[None], tf.float32), resized, align_corners=False,
                                               half_pixel_centers=False)
    image = tf.pad(image, [[0, 0], [0, padded[0] - resized[0]], [0, padded[1] - resized[1]], [0, 0]])
    return tf.cast(image, tf.int32)[0].numpy(), resized


@dataclasses.dataclass
class Track:
    id: int
    last_timestamp: float  # microseconds
    keypoints: np.ndarray  # [N, 3] (y, x, score), normalised to the frame
    box: np.ndarray  # [4] (ymin, xmin, ymax, xmax), normalised to the frame


class IdTracker:
    """TF.js ``Tracker`` (src/calculators/tracker.ts): ``apply(keypoints, boxes, microseconds)`` -> ids.

    Old tracks are dropped first; then each pose, in the model's order, takes the not yet taken track it is
    most similar to (the first of equals) if the similarity reaches ``min_similarity``; unmatched poses start
    new tracks with ids 1, 2, ...; finally the tracks are ordered most recently seen first and cut to
    ``max_tracks``.
    """

    def __init__(self, config):
        self.config = config
        self.max_age_us = config.max_age_ms * 1000
        self.tracks = []
        self.next_id = 1

    def similarity(self, keypoints, boxes):
        """``[P, T]`` similarity of each pose to each track."""
        raise NotImplementedError

    def apply(self, keypoints, boxes, microseconds):
        self.tracks = [t for t in self.tracks if microseconds - t.last_timestamp <= self.max_age_us]
        similarity = self.similarity(keypoints, boxes) if len(keypoints) and self.tracks else None
        unmatched_tracks = list(range(len(self.tracks)))
        ids, new = [None] * len(keypoints), []
        for pose in range(len(keypoints)):
            best, best_similarity = -1, -1.0
            for track in unmatched_tracks if similarity is not None else ():
                value = similarity[pose, track]
                if value >= self.config.min_similarity and value > best_similarity:
                    best, best_similarity = track, value
            if best >= 0:
                track = self.tracks[best]
                track.last_timestamp, track.keypoints, track.box = microseconds, keypoints[pose], boxes[pose]
                ids[pose] = track.id
                unmatched_tracks.remove(best)
            else:
                new.append(pose)
        for pose in new:
            self.tracks.append(Track(self.next_id, microseconds, keypoints[pose], boxes[pose]))
            ids[pose] = self.next_id
            self.next_id += 1
        self.tracks = sorted(self.tracks, key=lambda t: -t.last_timestamp)[:self.config.max_tracks]  # stable
        return ids

    @property
    def ids(self):
        return {t.id for t in self.tracks}


class BoundingBoxTracker(IdTracker):
    """Similarity = IoU of the pose's box and the track's (src/calculators/bounding_box_tracker.ts)."""

    def similarity(self, keypoints, boxes):
        tracks = np.stack([t.box for t in self.tracks])
        return np.array([[_iou(box, track) for track in tracks] for box in boxes])


def _iou(a, b):
    ymin, xmin = max(a[0], b[0]), max(a[1], b[1])
    ymax, xmax = min(a[2], b[2]), min(a[3], b[3])
    if xmin >= xmax or ymin >= ymax:
        return 0.0
    intersection = (xmax - xmin) * (ymax - ymin)
    return intersection / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection)


class KeypointTracker(IdTracker):
    """Similarity = an OKS over the keypoints confident in both, scaled by the area of the track's confident
    keypoints (src/calculators/keypoint_tracker.ts), in coordinates normalised to the frame's width and height."""

    def __init__(self, config, falloff):
        super().__init__(config)
        self.falloff = np.asarray(falloff, np.float64)

    def similarity(self, keypoints, boxes):
        return np.array([[self._oks(pose, track.keypoints) for track in self.tracks] for pose in keypoints])

    def _oks(self, pose, track):
        threshold = self.config.keypoint_confidence_threshold
        confident = track[track[:, 2] > threshold]  # the area uses ">" where the match below uses ">="
        ys, xs = list(confident[:, 0]), list(confident[:, 1])
        area = (max([0.0, *xs]) - min([1.0, *xs])) * (max([0.0, *ys]) - min([1.0, *ys])) + 1e-6
        both = (pose[:, 2] >= threshold) & (track[:, 2] >= threshold)
        if both.sum() < self.config.min_number_of_keypoints:
            return 0.0
        squared = ((pose[both, :2] - track[both, :2]) ** 2).sum(axis=-1)
        spread = 2.0 * self.falloff[both]
        return float(np.exp(-squared / (2.0 * area * spread ** 2)).mean())


class MultiPoseTracker:
    """``tracker(frame, timestamp_ms)`` -> list of ``Pose`` with ``id`` (None with ``tracker="none"``) and ``box``.

    ``predictor``: a multi-pose ``movenet_train.runtime.load_predictor`` result. ``tracker``: ``bounding_box``
    (TF.js's default), ``keypoint`` or ``none`` (no ids, and then no smoothing, as in TF.js). ``smoothing``: One
    Euro filter per track. ``config``: ``TrackerConfig`` (``configs/predict.yaml`` ``tracking``).
    """

    def __init__(self, predictor, config=None, tracker="bounding_box", smoothing=True):
        if not predictor.multi_pose:
            raise ValueError(f"{predictor.kind} model is single-pose: MultiPoseTracker needs a MultiPose model "
                             "(use PoseTracker)")
        if tracker not in TRACKERS:
            raise UserError(f"tracker={tracker!r}: expected one of {', '.join(TRACKERS)}")
        self.predictor, self.config = predictor, config or default_config(TrackerConfig)
        self.schema = predictor.schema
        self.tracker_name, self.smoothing = tracker, smoothing and tracker != "none"
        self.crop = False
        self.ids = self._make_tracker(tracker)
        self.filters = {}

    def _make_tracker(self, name):
        if name == "bounding_box":
            return BoundingBoxTracker(self.config.bounding_box_tracker)
        if name == "keypoint":
            config = self.config.keypoint_tracker
            falloff = config.keypoint_falloff or self.schema.sigmas
            if len(falloff) != self.schema.num_keypoints:
                raise UserError(f"tracking.keypoint_tracker.keypoint_falloff has {len(falloff)} values; the model "
                                f"predicts {self.schema.num_keypoints} keypoints")
            return KeypointTracker(config, falloff)
        return None

    def reset(self):
        self.ids = self._make_tracker(self.tracker_name)
        self.filters = {}

    def __call__(self, frame, timestamp_ms):
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[-1] != 3:
            raise ValueError(f"expected an RGB frame [H, W, 3], got shape {frame.shape}")
        height, width = frame.shape[:2]
        image, resized = multi_pose_input(frame, self.config.multi_pose_max_dimension)
        people = unpack(self.predictor(image[None])[0], self.schema.num_keypoints, multi_pose=True)
        people = people.above(self.config.min_pose_score)
        # normalised over the padded input -> over the frame
        scale = np.array([image.shape[0] / resized[0], image.shape[1] / resized[1]])
        keypoints = np.concatenate([people.keypoints[..., :2] * scale, people.keypoints[..., 2:]], axis=-1)
        boxes = people.boxes * np.tile(scale, 2)
        microseconds = timestamp_ms * 1000.0
        ids = self.ids.apply(keypoints, boxes, microseconds) if self.ids else [None] * len(keypoints)
        poses = []
        for pose_id, pose, box, score in zip(ids, keypoints, boxes, people.scores):
            yx = pose[:, :2].astype(np.float64)
            if self.smoothing:
                yx = self.filters.setdefault(pose_id, OneEuroFilter(self.config.keypoint_filter))(yx, microseconds)
            poses.append(Pose(yx * [height, width], pose[:, 2].astype(np.float64), float(score), id=pose_id,
                              box=box * [height, width, height, width]))
        if self.smoothing:
            self.filters = {key: f for key, f in self.filters.items() if key in self.ids.ids}
        return poses

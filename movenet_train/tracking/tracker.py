"""``PoseTracker``: MoveNet on a frame stream, as TF.js pose-detection runs it in video mode.

Per frame: crop the region found in the previous frame (or the whole padded frame), run the model, map the
keypoints back to the frame, smooth them with the One Euro filter, and derive the next crop from the
smoothed keypoints. A pose scoring below ``min_pose_score`` is not reported and resets crop and filters,
so a person who leaves and comes back is searched for in the whole frame again.

With an ``orientation.OrientationSearch`` predictor (``orientation=any``) the crop is also turned: the next
frame's square is cut turned by the body angle of this frame's pose (hip centre -> shoulder centre, as BlazePose
aligns its region of interest), so a lying or upside-down person is seen upright at the cost of one pass per
frame; the whole-frame passes (first frame, person lost) run the quarter-turn search. The angle is taken as the
nearest quarter turn plus a residual: the quarter turn is ``np.rot90`` of TF.js's axis-aligned crop (the same
pixels, no resampling), and only a residual of at least ``ALIGN_MIN_DEGREES`` is resampled by a turned crop. So an
upright person is cropped exactly as with ``orientation=upright``, and a person in a clip turned by quarter turns
sees the very pixels the upright clip would give.
"""

import math

import dataclasses
import logging
import typing

import numpy as np

from movenet_train.errors import UserError
from movenet_train import geometry
from movenet_train.config import default_config
from movenet_train.modeling.outputs import pose_score
from movenet_train.orientation import OrientationSearch, body_turn
from movenet_train.preprocessing import model_input, unletterbox
from movenet_train.tracking import crop as crop_lib
from movenet_train.tracking.one_euro import LowPassFilter, OneEuroConfig, OneEuroFilter

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BoundingBoxTrackerConfig:
    """TF.js ``DEFAULT_BOUNDING_BOX_TRACKER_CONFIG`` (pose-detection/src/movenet/constants.ts)."""

    max_tracks: int  # tracks kept, the most recently seen first
    max_age_ms: float  # a track unseen for longer is removed; the person then gets a new id
    min_similarity: float  # box IoU needed to link a pose to a track

    def __post_init__(self):
        _check_tracker_config(self, "bounding_box_tracker")


@dataclasses.dataclass(frozen=True)
class KeypointTrackerConfig:
    """TF.js ``DEFAULT_KEYPOINT_TRACKER_CONFIG`` (pose-detection/src/movenet/constants.ts)."""

    max_tracks: int
    max_age_ms: float
    min_similarity: float  # OKS-like similarity needed to link a pose to a track
    keypoint_confidence_threshold: float  # a keypoint counts only where pose and track both reach it
    keypoint_falloff: typing.Optional[tuple]  # per keypoint; null: the keypoint schema's OKS sigmas (COCO's)
    min_number_of_keypoints: int  # fewer keypoints in common give similarity 0

    def __post_init__(self):
        _check_tracker_config(self, "keypoint_tracker")
        if not 0.0 <= self.keypoint_confidence_threshold <= 1.0:
            raise UserError(f"keypoint_tracker.keypoint_confidence_threshold must be in [0, 1], got "
                             f"{self.keypoint_confidence_threshold}")
        if self.min_number_of_keypoints < 1:
            raise UserError(f"keypoint_tracker.min_number_of_keypoints must be at least 1, got "
                             f"{self.min_number_of_keypoints}")
        if self.keypoint_falloff is not None and not all(f > 0 for f in self.keypoint_falloff):
            raise UserError(f"keypoint_tracker.keypoint_falloff must be positive, got {list(self.keypoint_falloff)}")


def _check_tracker_config(config, key):
    # tracker_utils.ts validateTrackerConfig
    if config.max_tracks < 1:
        raise UserError(f"{key}.max_tracks must be at least 1, got {config.max_tracks}")
    if config.max_age_ms <= 0:
        raise UserError(f"{key}.max_age_ms must be positive, got {config.max_age_ms}")


@dataclasses.dataclass(frozen=True)
class TrackerConfig:
    """TF.js MoveNet constants (pose-detection/src/movenet/constants.ts); ``configs/predict.yaml`` ``tracking`` holds their values."""

    DEFAULTS: typing.ClassVar = ("predict.yaml", "tracking")  # the defaults' one home, under configs/

    min_keypoint_score: float  # a keypoint counts (pose score, torso, extent) above it
    min_pose_score: float  # below it: no pose, crop and filters reset
    torso_expansion: float
    body_expansion: float
    crop_filter_alpha: float  # plain low-pass on the crop corners
    multi_pose_max_dimension: int  # multi-pose models: the frame's longer side, the other padded to 32s
    keypoint_filter: OneEuroConfig
    bounding_box_tracker: BoundingBoxTrackerConfig  # multi-pose ids (tracking/multi_pose.py)
    keypoint_tracker: KeypointTrackerConfig

    @classmethod
    def from_config(cls, cfg):
        """From the ``tracking`` block of a Hydra config (or any mapping); unknown keys are errors."""
        from movenet_train.config import config_from

        return config_from(cls, cfg, "tracking")


@dataclasses.dataclass
class Pose:
    keypoints: np.ndarray  # [N, 2] (y, x) in pixels of the frame, N the model's keypoint schema's joints
    scores: np.ndarray  # [N]
    score: float  # mean of the keypoint scores above min_keypoint_score (instance score for multi-pose)
    id: typing.Optional[int] = None  # multi-pose track id (MultiPoseTracker), from 1
    box: typing.Optional[np.ndarray] = None  # multi-pose: [4] (ymin, xmin, ymax, xmax) in pixels


class PoseTracker:
    """``tracker(frame, timestamp)`` -> list of ``Pose`` (at most one for single-pose models).

    ``predictor``: a ``movenet_train.runtime.load_predictor`` result. ``crop``: run on the region found in the
    previous frame instead of the whole letterboxed frame. ``smoothing``: One Euro filter on the keypoints.
    Single-pose models only; ``MultiPoseTracker`` (tracking/multi_pose.py) tracks MultiPose ones.
    """

    def __init__(self, predictor, config=None, crop=True, smoothing=True):

        self.config = config or default_config(TrackerConfig)
        # orientation=any: whole frames go through the search, crops through the model it wraps
        self.search = predictor if isinstance(predictor, OrientationSearch) else None
        self.predictor = self.search.predictor if self.search else predictor
        if predictor.multi_pose:
            raise UserError(f"{predictor.kind} model is MultiPose: track its video with "
                             "movenet_train.tracking.MultiPoseTracker")
        if not predictor.input_size:
            raise UserError(f"{predictor.kind} single-pose model without a fixed square input size: the tracker "
                             "needs it to crop frames")
        self.crop, self.smoothing = crop, smoothing
        self.schema = predictor.schema
        self.torso = crop_lib.TorsoLayout.of(self.schema)
        self.keypoint_filter = OneEuroFilter(self.config.keypoint_filter)
        self.crop_filter = LowPassFilter(self.config.crop_filter_alpha)
        self.crop_region = None  # where the next frame is cropped; None: the whole padded frame
        self.crop_turns = 0  # orientation=any: quarter turns of the next crop's content (np.rot90) ...
        self.crop_angle = 0.0  # ... then radians it is turned by (a residual >= ALIGN_MIN_DEGREES, else 0)
        self.last_region = None  # the region the last frame was cropped to (for drawing)
        self.last_timestamp = None
        self.reset()

    def reset(self):
        self.crop_region = None
        self.crop_turns, self.crop_angle = 0, 0.0
        self.keypoint_filter.reset()
        self.crop_filter.reset()

    def __call__(self, frame, timestamp=None):
        """``frame``: RGB uint8 ``[H, W, 3]``; ``timestamp`` in seconds (default: frames at the filter frequency)."""
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[-1] != 3:
            raise ValueError(f"expected an RGB frame [H, W, 3], got shape {frame.shape}")
        if timestamp is None:
            step = 1.0 / self.config.keypoint_filter.frequency
            timestamp = 0.0 if self.last_timestamp is None else self.last_timestamp + step
        self.last_timestamp = timestamp
        height, width = frame.shape[:2]

        yx, scores = self._single_pose(frame)  # yx normalised over the frame
        score = pose_score(scores, self.config.min_keypoint_score)
        if score < self.config.min_pose_score and self.search and self.crop_region is not None:
            self.reset()  # the turned crop lost the person: search the whole frame now, not a frame later
            yx, scores = self._single_pose(frame)
            score = pose_score(scores, self.config.min_keypoint_score)
        if score < self.config.min_pose_score:
            self.reset()
            return []
        if self.smoothing:
            yx = self.keypoint_filter(yx, timestamp * 1e6)
        keypoints = yx * [height, width]
        if self.crop:
            aligned = keypoints
            if self.search:
                self.crop_turns, self.crop_angle, _ = body_turn(keypoints, scores, self.schema.torso_axis,
                                                                self.config.min_keypoint_score)
                centre = keypoints[list(self.torso.centre)].mean(axis=0)
                # the square's extent is measured in the turned crop, about the centre it is cut around (a
                # quarter turn does not change it: the extent is the larger of the two axes')
                aligned = geometry.apply(geometry.rotation_matrix(self.crop_angle, centre), keypoints)
            region = crop_lib.next_crop_region(
                aligned, scores, height, width, self.config.min_keypoint_score, self.config.torso_expansion,
                self.config.body_expansion, layout=self.torso,
            )
            if region == crop_lib.full_image_region(height, width):
                self.crop_turns, self.crop_angle = 0, 0.0
            self.crop_region = crop_lib.CropRegion(*self.crop_filter(region.box))
        return [Pose(keypoints, scores, score)]

    def _single_pose(self, frame):
        size = self.predictor.input_size
        height, width = frame.shape[:2]
        whole_frame = self.search or self.predictor  # the quarter-turn search where the pose is not known yet
        if self.crop and self.crop_region is not None and self.crop_angle:
            region = self.crop_region
            top, left, bottom, right = region.to_pixels(height, width)
            matrix = geometry.crop_matrix(((top + bottom) / 2, (left + right) / 2), bottom - top, size,
                                          self.crop_angle + self.crop_turns * math.pi / 2)
            output = self.predictor(geometry.warp(frame, matrix, size)[None])[0, 0]
            yx = geometry.apply(np.linalg.inv(matrix), output[:, :2] * size) / [height, width]
        elif self.crop and self.crop_region is not None and self.crop_turns:
            region = self.crop_region
            crop = np.rot90(crop_lib.crop_and_resize(frame, region, size), self.crop_turns)
            output = self.predictor(np.ascontiguousarray(crop)[None])[0, 0]
            yx = region.to_image(geometry.unturn_normalized(output[:, :2], self.crop_turns))
        elif self.crop:
            region = self.crop_region or crop_lib.full_image_region(height, width)
            predictor = self.predictor if self.crop_region is not None else whole_frame
            output = predictor(crop_lib.crop_and_resize(frame, region, size)[None])[0, 0]
            yx = region.to_image(output[:, :2])
        else:
            region = crop_lib.full_image_region(height, width)
            output = whole_frame(model_input(frame, size, size)[None])[0, 0]
            yx = unletterbox(output[:, :2], height, width, size, size) / [height, width]
        self.last_region = region
        return yx, output[:, 2].astype(np.float64)

"""MoveNet on video: ``PoseTracker`` (single pose: crop from the previous frame, One Euro smoothing) and
``MultiPoseTracker`` (MultiPose: TF.js's track ids and per-track smoothing)."""

from movenet_train.tracking.crop import CropRegion, full_image_region, next_crop_region, torso_visible
from movenet_train.tracking.one_euro import LowPassFilter, OneEuroConfig, OneEuroFilter
from movenet_train.tracking.multi_pose import MultiPoseTracker
from movenet_train.tracking.tracker import Pose, PoseTracker, TrackerConfig

__all__ = [
    "CropRegion",
    "LowPassFilter",
    "MultiPoseTracker",
    "OneEuroConfig",
    "OneEuroFilter",
    "Pose",
    "PoseTracker",
    "TrackerConfig",
    "full_image_region",
    "next_crop_region",
    "torso_visible",
]

"""MoveNet on video: crop from the previous frame, One Euro keypoint smoothing, ``PoseTracker``."""

from movenet_train.tracking.crop import CropRegion, full_image_region, next_crop_region, torso_visible
from movenet_train.tracking.one_euro import LowPassFilter, OneEuroConfig, OneEuroFilter
from movenet_train.tracking.tracker import Pose, PoseTracker, TrackerConfig

__all__ = [
    "CropRegion",
    "LowPassFilter",
    "OneEuroConfig",
    "OneEuroFilter",
    "Pose",
    "PoseTracker",
    "TrackerConfig",
    "full_image_region",
    "next_crop_region",
    "torso_visible",
]

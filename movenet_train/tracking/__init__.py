"""MoveNet on video: ``PoseTracker`` (single pose: crop from the previous frame, One Euro smoothing) and
``MultiPoseTracker`` (MultiPose: TF.js's track ids and per-track smoothing).

Importing the package stays light (no TensorFlow, as ``movenet_train.evaluation``): ``tracking.media`` reads
frames without it, and a name below loads its module on first use."""

from movenet_train.lazy import lazy_attributes

_LAZY = {
    "CropRegion": "movenet_train.tracking.crop",
    "full_image_region": "movenet_train.tracking.crop",
    "next_crop_region": "movenet_train.tracking.crop",
    "torso_visible": "movenet_train.tracking.crop",
    "LowPassFilter": "movenet_train.tracking.one_euro",
    "OneEuroConfig": "movenet_train.tracking.one_euro",
    "OneEuroFilter": "movenet_train.tracking.one_euro",
    "MultiPoseTracker": "movenet_train.tracking.multi_pose",
    "Pose": "movenet_train.tracking.tracker",
    "PoseTracker": "movenet_train.tracking.tracker",
    "TrackerConfig": "movenet_train.tracking.tracker",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)

"""``python docs/make_video_figures.py``: the two figures of docs/video.md, from the shared clips.

The figures show what the trackers found (skeletons, the crop square, boxes and ids) on a plain canvas the
size of the frame, not the frame itself: the clips in ../shared are not copied into the repository.
"""

import os
import sys

import numpy as np

from movenet_train.runtime import load_predictor
from movenet_train.tracking import MultiPoseTracker, PoseTracker, media
from movenet_train.tracking.annotate import draw_poses
from movenet_train.visualization import draw_box

SHARED = os.environ.get("MOVENET_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
MODELS = os.path.join(SHARED, "reference_models", "tfjs_human_models")
VIDEOS = os.path.join(SHARED, "data", "video_sample")
IMAGES = os.path.join(os.path.dirname(__file__), "images")
CANVAS = 40  # dark grey: the yellow crop square and the id colours stand out


def single_pose_figure(frame_index=60):
    tracker = PoseTracker(load_predictor(os.path.join(MODELS, "movenet-lightning.json")))
    for index, frame in enumerate(media.open_media(os.path.join(VIDEOS, "pose_1.mp4"))):
        poses = tracker(frame.image, frame.timestamp)
        if index == frame_index:
            canvas = np.full_like(frame.image, CANVAS)
            canvas = draw_box(canvas, tracker.last_region.to_pixels(*frame.image.shape[:2]))
            return draw_poses(canvas, poses, schema=tracker.schema)
    raise ValueError(f"pose_1.mp4 has fewer than {frame_index + 1} frames")


def multi_pose_figure(frame_index=20):
    tracker = MultiPoseTracker(load_predictor(os.path.join(MODELS, "movenet-multipose.json")), tracker="keypoint")
    for index, frame in enumerate(media.open_media(os.path.join(VIDEOS, "combined_squat_dance.gif"))):
        poses = tracker(frame.image, frame.timestamp * 1000.0)
        if index == frame_index:
            return draw_poses(np.full_like(frame.image, CANVAS), poses, schema=tracker.schema)
    raise ValueError(f"combined_squat_dance.gif has fewer than {frame_index + 1} frames")


def main():
    for name, figure in (("video_tracking_pose_1.png", single_pose_figure),
                         ("video_multipose_ids.png", multi_pose_figure)):
        media.write_image(os.path.join(IMAGES, name), figure())
        print("wrote", os.path.join(IMAGES, name))


if __name__ == "__main__":
    sys.exit(main())

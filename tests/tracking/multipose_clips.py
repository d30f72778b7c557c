"""Two-person clips for the multi-pose tracking goldens, and the Node packages that run Google's TF.js runtime.

``make_tfjs_goldens.py`` runs ``@tensorflow-models/pose-detection`` (MoveNet MultiPose Lightning, tracking on)
on these clips; the tracking tests rebuild the same frames and compare the Python tracker with those goldens, so the
clips must come out bit-identical every time: both are decoded with the project's own readers from ../shared
(``tests.helpers.SHARED``, overridable by ``MOVENET_SHARED_DIR``).
"""

import json
import os
import pathlib
import shutil
import subprocess

import cv2
import numpy as np

from movenet_train.tracking.media import GifReader, VideoReader
from tests.helpers import REFERENCE_MODELS, SHARED

VIDEO_SAMPLE = SHARED / "data" / "video_sample"
GIF = VIDEO_SAMPLE / "combined_squat_dance.gif"  # 600x244, 42 frames at 10 fps: a man squatting, a woman dancing
LEFT_VIDEO = VIDEO_SAMPLE / "pose_1.mp4"  # 576x576, 30 fps, synthetic person
RIGHT_VIDEO = VIDEO_SAMPLE / "pose_squats.mp4"  # 720x1280 portrait, 5 fps, real woman
MULTIPOSE_MODEL = REFERENCE_MODELS / "tfjs_human_models" / "movenet-multipose.json"  # + movenet-multipose.bin

# The built clip: 40 frames 100 ms apart (10 fps). pose_1.mp4 is 30 fps, so every 3rd frame keeps its real speed;
# pose_squats.mp4 is 5 fps and is taken frame by frame (twice its speed, still smooth enough to track).
BUILT_FRAMES = 40
BUILT_FRAME_MS = 100.0
LEFT_STEP = 3
HEIGHT = 288
LEFT_WIDTH = 288  # 576x576 scaled to height 288
RIGHT_WIDTH = 162  # 720x1280 scaled to height 288
WIDTH = LEFT_WIDTH + RIGHT_WIDTH  # 450: the two side by side
GREY = (128, 128, 128)
# Each person is hidden (its whole region filled grey) for a while. The TF.js trackers drop a track not matched for
# more than maxAge = 1000 ms (strictly more: it keeps one whose last match is exactly 1000 ms old).
# The left person is unseen in frames 8..21: 14 frames, last seen at 700 ms, back at 2200 ms (1500 ms later, 1.4 s
# without it), longer than maxAge: its track is gone and it must come back with a new id.
LEFT_HIDDEN = range(8, 22)
# The right person is unseen in frames 26..31: 6 frames, last seen at 2500 ms, back at 3200 ms (700 ms later, 0.6 s
# without it), shorter than maxAge: its track is still there and it should keep its id.
RIGHT_HIDDEN = range(26, 32)

TFJS_VERSION = "4.22.0"
POSE_DETECTION_VERSION = "2.1.3"
# pose-detection's main bundle requires @mediapipe/pose (its BlazePose-MediaPipe detector) when it loads, even in
# Node; 0.5.1675469404 is what npm resolves its peer range ~0.5.0 to, pinned so that the install is reproducible.
NPM_PACKAGES = {
    "@tensorflow/tfjs": TFJS_VERSION,
    "@tensorflow-models/pose-detection": POSE_DETECTION_VERSION,
    "@mediapipe/pose": "0.5.1675469404",
}


def gif_clip():
    """``(frames uint8 [42, 244, 600, 3], timestamps_ms)`` of the side-by-side GIF, as ``GifReader`` reads it."""
    frames = list(GifReader(GIF))
    return np.stack([frame.image for frame in frames]), [float(frame.timestamp * 1000.0) for frame in frames]


def _resized(path, step, count, width):
    images = []
    for index, frame in enumerate(VideoReader(path)):
        if index % step == 0:
            images.append(cv2.resize(frame.image, (width, HEIGHT), interpolation=cv2.INTER_AREA))
            if len(images) == count:
                return images
    raise ValueError(f"{path} has fewer than {count} frames at a step of {step}")


def built_clip():
    """``(frames uint8 [40, 288, 450, 3], timestamps_ms)``: pose_1.mp4 (left) beside pose_squats.mp4 (right), each
    hidden for a while (``LEFT_HIDDEN``, ``RIGHT_HIDDEN``)."""
    left = _resized(LEFT_VIDEO, LEFT_STEP, BUILT_FRAMES, LEFT_WIDTH)
    right = _resized(RIGHT_VIDEO, 1, BUILT_FRAMES, RIGHT_WIDTH)
    frames = np.empty((BUILT_FRAMES, HEIGHT, WIDTH, 3), np.uint8)
    for i in range(BUILT_FRAMES):
        frames[i, :, :LEFT_WIDTH] = GREY if i in LEFT_HIDDEN else left[i]
        frames[i, :, LEFT_WIDTH:] = GREY if i in RIGHT_HIDDEN else right[i]
    return frames, [BUILT_FRAME_MS * i for i in range(BUILT_FRAMES)]


CLIPS = {"gif": gif_clip, "built": built_clip}


class NodeUnavailable(RuntimeError):
    """Node or npm is missing (a pytest fixture turns this into a skip)."""


def npm_cache():
    return pathlib.Path(os.environ.get("MOVENET_NPM_CACHE", pathlib.Path.home() / ".cache" / "movenet-train" / "npm"))


def node_modules(packages=None):
    """The ``node_modules`` folder of the npm cache (``MOVENET_NPM_CACHE`` or ``~/.cache/movenet-train/npm``, the one
    tests/export/test_tfjs.py uses), after installing ``packages`` ({name: version}, default ``NPM_PACKAGES``) there
    unless those versions are already in; ``NodeUnavailable`` without node or npm."""
    packages = NPM_PACKAGES if packages is None else packages
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise NodeUnavailable(f"Node.js and npm are needed to run TF.js (node: {node}, npm: {npm})")
    cache = npm_cache()
    modules = cache / "node_modules"

    def installed(name):
        package = modules / name / "package.json"
        return package.exists() and json.loads(package.read_text())["version"]

    missing = [f"{name}@{version}" for name, version in packages.items() if installed(name) != version]
    if missing:
        cache.mkdir(parents=True, exist_ok=True)
        # Every package of the set in one command, so that npm keeps them consistent (one @tensorflow/tfjs-core).
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(cache),
                        *(f"{name}@{version}" for name, version in packages.items())],
                       check=True, capture_output=True, timeout=600)
    return modules

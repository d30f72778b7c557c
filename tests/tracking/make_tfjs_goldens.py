"""Goldens of Google's TF.js runtime for MoveNet tracking: ``python -m tests.tracking.make_tfjs_goldens [WHICH ...]``.

Runs ``@tensorflow-models/pose-detection`` 2.1.3 on @tensorflow/tfjs 4.22.0's CPU backend in Node
(``tfjs_movenet.js``), the released graph models from ../shared loaded from memory, smoothing on and package defaults
otherwise, and writes JSON files under ``tests/tracking/golden/``. ``WHICH`` is ``multipose``, ``singlepose`` or both
(the default):

- multipose: MoveNet MultiPose Lightning with tracking on, on both clips of ``multipose_clips`` with both trackers:
  ``tfjs_multipose_{gif,built}_{bounding_box,keypoint}.json``, per frame the poses in the order TF.js returns them,
  with their track id, score, box (normalised, as TF.js reports it) and keypoints (pixels).
- singlepose: MoveNet SinglePose Lightning, which tracks its own crop region across frames, on ``pose_1.mp4``
  (576x576, 120 frames, decoded with OpenCV, BGR -> RGB, frame i at i * 1000 / 30 ms) upright and with every frame
  turned by ``np.rot90(frame, k)``, k = 1, 2, 3: ``tfjs_singlepose_pose_1.json`` and
  ``tfjs_singlepose_pose_1_rot{90,180,270}.json``, per frame the pose (none where TF.js's pose score is under its
  minPoseScore 0.25) with its score and keypoints ``[x, y, score]`` in pixels of the (turned) frame, and
  ``next_crop``, the normalised [yMin, xMin, yMax, xMax] region TF.js will crop the next frame with (null: it starts
  over from the whole frame). ``tfjs_goldens.load_singlepose_golden`` reads them. The script also prints how far
  TF.js's keypoints on each turned clip, turned back, land from its upright ones.

Needs Node.js and npm; the packages are installed into the npm cache of tests/export/test_tfjs.py
(``multipose_clips.node_modules``).
"""

import argparse
import collections
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from tests.helpers import TFJS
from tests.tracking import multipose_clips
from tests.tracking.tfjs_goldens import singlepose_arrays, singlepose_golden_path, turned_back

HERE = pathlib.Path(__file__).resolve().parent
RUNNER = HERE / "tfjs_movenet.js"
GOLDEN = HERE / "golden"
TRACKERS = {"bounding_box": "boundingBox", "keypoint": "keypoint"}

SINGLEPOSE_MODEL = TFJS["lightning"]  # movenet-lightning.json + .bin
POSE_1 = multipose_clips.LEFT_VIDEO  # ../shared/data/video_sample/pose_1.mp4
POSE_1_FRAME_MS = 1000.0 / 30.0
TURNS = (0, 1, 2, 3)  # np.rot90(frame, k)


def golden_path(clip, tracker):
    return GOLDEN / f"tfjs_multipose_{clip}_{tracker}.json"


def run_tfjs(model_type, frames, timestamps_ms, out, modules, workdir, model, tracker=None):
    """Runs ``tfjs_movenet.js`` (``model_type`` singlepose or multipose; ``tracker`` a key of ``TRACKERS`` for
    multipose) on ``frames`` (uint8 [T, H, W, 3]), writing ``out``; returns the seconds it printed. The frames are
    written to ``workdir`` once, so that runs on the same frames can share it."""
    frames_path, meta_path = pathlib.Path(workdir) / "frames.bin", pathlib.Path(workdir) / "meta.json"
    if not frames_path.exists():
        frames_path.write_bytes(np.ascontiguousarray(frames, np.uint8).tobytes(order="C"))
        meta_path.write_text(json.dumps({"height": frames.shape[1], "width": frames.shape[2],
                                         "timestamps_ms": [float(t) for t in timestamps_ms]}))
    command = ["node", str(RUNNER), model_type, str(frames_path), str(meta_path), str(out), str(model)]
    if tracker is not None:
        command.append(TRACKERS[tracker])
    run = subprocess.run(command, capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "NODE_PATH": str(modules)})
    if run.returncode != 0:
        raise RuntimeError(f"node {RUNNER.name} {model_type} failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return float(run.stderr.strip().splitlines()[-1].split()[-1])


def write_golden(path, run):
    """Calls ``run(tmp)`` (which writes the golden to ``tmp`` and returns seconds), moves it to ``path``; returns
    (the golden's JSON, seconds)."""
    tmp = path.with_name(path.name + ".tmp")
    seconds = run(tmp)
    result = json.loads(tmp.read_text())
    os.replace(tmp, path)
    return result, seconds


def summary(result):
    counts = collections.Counter(len(frame["poses"]) for frame in result["frames"])
    ids = " ".join(f"f{frame['frame']}:[{','.join(str(pose['id']) for pose in frame['poses'])}]"
                   for frame in result["frames"])
    return (f"{len(result['frames'])} frames; poses per frame {dict(sorted(counts.items()))}; "
            f"ids {sorted({pose['id'] for frame in result['frames'] for pose in frame['poses']})}\n  {ids}")


def make_multipose(modules):
    for clip, make in multipose_clips.CLIPS.items():
        frames, timestamps_ms = make()
        with tempfile.TemporaryDirectory() as workdir:
            for tracker in TRACKERS:
                path = golden_path(clip, tracker)
                result, seconds = write_golden(path, lambda tmp: run_tfjs(
                    "multipose", frames, timestamps_ms, tmp, modules, workdir, multipose_clips.MULTIPOSE_MODEL,
                    tracker))
                print(f"{path.relative_to(HERE.parents[1])} ({path.stat().st_size} bytes, node {seconds:.1f} s): "
                      f"{summary(result)}", flush=True)


def read_rgb_frames(path):
    """uint8 [T, H, W, 3] RGB frames of a video as the project's reader decodes it (OpenCV, BGR -> RGB)."""
    from movenet_train.tracking.media import VideoReader

    return np.stack([frame.image for frame in VideoReader(path)])


def make_singlepose(modules):
    frames = read_rgb_frames(POSE_1)
    timestamps_ms = [i * POSE_1_FRAME_MS for i in range(len(frames))]
    height, width = frames.shape[1:3]
    upright = None
    for turns in TURNS:
        turned = np.ascontiguousarray(np.rot90(frames, turns, axes=(1, 2)))
        path = singlepose_golden_path(turns)
        with tempfile.TemporaryDirectory() as workdir:
            result, seconds = write_golden(path, lambda tmp: run_tfjs(
                "singlepose", turned, timestamps_ms, tmp, modules, workdir, SINGLEPOSE_MODEL))
        yx, _ = singlepose_arrays(result)
        yx = turned_back(yx, turns, height, width)
        posed = int(np.isfinite(yx[:, 0, 0]).sum())
        line = (f"{path.relative_to(HERE.parents[1])} ({path.stat().st_size} bytes, node {seconds:.1f} s): "
                f"rot90 k={turns}, {turned.shape[2]}x{turned.shape[1]}, a pose in {posed} / {len(frames)} frames")
        if turns == 0:
            upright = yx
        else:
            both = np.isfinite(yx[:, 0, 0]) & np.isfinite(upright[:, 0, 0])
            distance = np.linalg.norm(yx[both] - upright[both], axis=-1)  # [frames, 17]
            per_frame = distance.mean(axis=-1)
            line += (f"; turned back vs upright over {int(both.sum())} frames: mean {distance.mean():.2f} px, "
                     f"median frame {np.median(per_frame):.2f} px, worst frame {per_frame.max():.2f} px "
                     f"(f{int(np.flatnonzero(both)[per_frame.argmax()])})")
        print(line, flush=True)


MAKERS = {"multipose": make_multipose, "singlepose": make_singlepose}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", metavar="{multipose,singlepose}",
                        help="which goldens to make (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.which) - set(MAKERS)
    if unknown:
        parser.error(f"unknown goldens {sorted(unknown)}: choose from {list(MAKERS)}")
    modules = multipose_clips.node_modules()
    GOLDEN.mkdir(exist_ok=True)
    for which in args.which or MAKERS:
        MAKERS[which](modules)


if __name__ == "__main__":
    sys.exit(main())

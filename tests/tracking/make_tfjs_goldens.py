"""Goldens of Google's TF.js runtime for multi-pose tracking: ``python -m tests.tracking.make_multipose_golden``.

Runs ``@tensorflow-models/pose-detection`` 2.1.3 (MoveNet MultiPose Lightning, the released graph model from
../shared, tracking and keypoint smoothing on, package defaults otherwise) on @tensorflow/tfjs 4.22.0's CPU backend in
Node, on both clips of ``multipose_clips`` with both trackers, and writes
``tests/tracking/golden/tfjs_multipose_{gif,built}_{bounding_box,keypoint}.json``: per frame, the poses in the order
TF.js returns them, with their track id, score, box (normalised, as TF.js reports it) and keypoints (pixels).
Needs Node.js and npm; the packages are installed into the npm cache of tests/export/test_tfjs.py.
"""

import collections
import json
import os
import pathlib
import subprocess
import sys
import tempfile

from tests.tracking import multipose_clips

HERE = pathlib.Path(__file__).resolve().parent
RUNNER = HERE / "tfjs_multipose.js"
GOLDEN = HERE / "golden"
TRACKERS = {"bounding_box": "boundingBox", "keypoint": "keypoint"}


def golden_path(clip, tracker):
    return GOLDEN / f"tfjs_multipose_{clip}_{tracker}.json"


def run_tfjs(frames, timestamps_ms, tracker, out, modules, workdir):
    """Runs the Node script on ``frames`` (uint8 [T, H, W, 3]); returns the seconds it printed."""
    frames_path, meta_path = pathlib.Path(workdir) / "frames.bin", pathlib.Path(workdir) / "meta.json"
    if not frames_path.exists():
        frames_path.write_bytes(frames.tobytes(order="C"))
        meta_path.write_text(json.dumps({"height": frames.shape[1], "width": frames.shape[2],
                                         "timestamps_ms": [float(t) for t in timestamps_ms]}))
    run = subprocess.run(["node", str(RUNNER), str(frames_path), str(meta_path), TRACKERS[tracker], str(out),
                          str(multipose_clips.MULTIPOSE_MODEL)],
                         capture_output=True, text=True, timeout=1800, env={**os.environ, "NODE_PATH": str(modules)})
    if run.returncode != 0:
        raise RuntimeError(f"node {RUNNER.name} failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return float(run.stderr.strip().splitlines()[-1].split()[-1])


def summary(result):
    counts = collections.Counter(len(frame["poses"]) for frame in result["frames"])
    ids = " ".join(f"f{frame['frame']}:[{','.join(str(pose['id']) for pose in frame['poses'])}]"
                   for frame in result["frames"])
    return (f"{len(result['frames'])} frames; poses per frame {dict(sorted(counts.items()))}; "
            f"ids {sorted({pose['id'] for frame in result['frames'] for pose in frame['poses']})}\n  {ids}")


def main():
    modules = multipose_clips.node_modules()
    GOLDEN.mkdir(exist_ok=True)
    for clip, make in multipose_clips.CLIPS.items():
        frames, timestamps_ms = make()
        with tempfile.TemporaryDirectory() as workdir:
            for tracker in TRACKERS:
                path = golden_path(clip, tracker)
                tmp = path.with_name(path.name + ".tmp")
                seconds = run_tfjs(frames, timestamps_ms, tracker, tmp, modules, workdir)
                result = json.loads(tmp.read_text())
                os.replace(tmp, path)
                print(f"{path.relative_to(HERE.parents[1])} ({path.stat().st_size} bytes, node {seconds:.1f} s): "
                      f"{summary(result)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark (not a test): frames/s of video tracking, per model file and tracker, in one run.

    python bench/video_speed.py [--checkpoint PATH ...] [--input VIDEO] [--trackers none bounding_box keypoint]
                                [--passes 3] [--threads N]

Defaults: the released TF.js MultiPose (run as a Keras model) on ../shared's two-person GIF. Frames are decoded
once; each pass runs ``MultiPoseTracker`` (``PoseTracker`` for single-pose files, which has no id tracker) over
every frame with the clip's timestamps: model, preprocessing, ids and smoothing, as ``predict`` runs them
without the drawing and the file writing. Trackers and files take turns pass by pass, so a load change on the
machine hits them alike; the figure is the median pass. ``tracker=none`` is the model alone (no ids, no
smoothing, as TF.js without tracking).
"""

import argparse
import os
import pathlib
import platform
import statistics
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("MOVENET_SHARED_DIR", REPO.parent / "shared"))
DEFAULT_CHECKPOINTS = [SHARED / "reference_models" / "tfjs_human_models" / "movenet-multipose.json"]
DEFAULT_INPUT = SHARED / "data" / "video_sample" / "combined_squat_dance.gif"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", nargs="+", default=[str(p) for p in DEFAULT_CHECKPOINTS],
                        help="model files (anything load_predictor reads)")
    parser.add_argument("--input", default=str(DEFAULT_INPUT), help="a video or GIF")
    parser.add_argument("--trackers", nargs="+", default=["none", "bounding_box", "keypoint"],
                        choices=["none", "bounding_box", "keypoint"])
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the clip per file and tracker")
    parser.add_argument("--threads", type=int, default=None, help="TFLite interpreter threads")
    args = parser.parse_args(argv)
    for path in [*args.checkpoint, args.input]:
        if not os.path.exists(path):
            parser.error(f"{path} does not exist")
    return args


def make_tracker(predictor, name):
    from movenet_train.tracking import MultiPoseTracker, PoseTracker

    if predictor.multi_pose:
        tracker = MultiPoseTracker(predictor, tracker=name, smoothing=True)
        return lambda frame: tracker(frame.image, frame.timestamp * 1000.0)
    tracker = PoseTracker(predictor, crop=name != "none", smoothing=name != "none")
    return lambda frame: tracker(frame.image, frame.timestamp)


def main(argv=None):
    args = parse_args(argv)
    from tqdm import tqdm

    from movenet_train.runtime import load_predictor
    from movenet_train.tracking import media

    frames = list(media.open_media(args.input))
    predictors = {path: load_predictor(path, num_threads=args.threads) for path in args.checkpoint}
    print(f"{os.path.basename(args.input)}: {len(frames)} frames {frames[0].image.shape[1]}x"
          f"{frames[0].image.shape[0]}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    times = {(path, name): [] for path in predictors for name in args.trackers}
    for path, predictor in predictors.items():  # warm-up: tracing and first allocation out of the timing
        for frame in frames[:3]:
            make_tracker(predictor, args.trackers[0])(frame)
    for _ in tqdm(range(args.passes), desc="passes", unit="pass"):
        for (path, name), spent in times.items():
            step = make_tracker(predictors[path], name)
            start = time.perf_counter()
            for frame in frames:
                step(frame)
            spent.append(time.perf_counter() - start)
    print(f"{'file':48s} {'tracker':13s} {'frames/s':>9s} {'ms/frame':>9s}")
    for (path, name), spent in times.items():
        median = statistics.median(spent)
        print(f"{os.path.basename(path):48s} {name:13s} {len(frames) / median:9.1f} {1000 * median / len(frames):9.2f}")


if __name__ == "__main__":
    main()

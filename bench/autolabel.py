"""What autolabel's ensemble costs: frames per second for each transform set, on a clip or a folder.

    python bench/autolabel.py [--input CLIP_OR_FOLDER] [--models thunder lightning [FILE ...]]
                              [--sets none flip scales orientation flip,scales] [--people single] [--frame-step 1]

Each (model, transform set) labels the input into a fresh temporary folder with the autolabel library (batched
views, the tracker's crop on a clip, frames written as JPEG, contact sheets off), after a warm-up run that traces
the model's graphs; the figure is labelled frames over the labelling seconds (``autolabel_report.json``'s
``images_per_second``), with the model passes per frame it took. The load average is printed at the start and the
end: compare figures only within one run, and say whether the machine was idle.
"""

import argparse
import os
import platform
import tempfile

SHARED = os.environ.get("MOVENET_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
RELEASED = {"lightning": "reference_models/tfjs_human_models/movenet-lightning.json",
            "thunder": "reference_models/tfjs_human_models/movenet-thunder.json"}
DETECTOR = "reference_models/tfjs_human_models/movenet-multipose.json"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", default=os.path.join(SHARED, "data", "video_sample", "pose_squats.mp4"))
    parser.add_argument("--models", nargs="+", default=["thunder", "lightning"],
                        help="lightning / thunder (Google's released files in ../shared) or model file paths")
    parser.add_argument("--sets", nargs="+", default=["none", "flip", "scales", "orientation", "flip,scales"],
                        help="transform sets, comma-separated; none: the single pass")
    parser.add_argument("--people", default="single", choices=["single", "multi"])
    parser.add_argument("--frame-step", type=int, default=1)
    return parser.parse_args(argv)


class Counting:
    """A predictor that counts the images it is called on (the model passes)."""

    def __init__(self, predictor):
        self.predictor, self.images = predictor, 0

    def __getattr__(self, name):
        return getattr(self.predictor, name)

    def __call__(self, images):
        self.images += len(images)
        return self.predictor(images)


def main(argv=None):
    args = parse_args(argv)
    from movenet_train.autolabel.labelling import autolabel
    from movenet_train.autolabel.options import Options
    from movenet_train.predictor import Predictor
    from movenet_train.runtime import load_predictor

    print(f"{platform.node()} {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
    detector = load_predictor(os.path.join(SHARED, DETECTOR)) if args.people == "multi" else None
    rows = []
    for model in args.models:
        path = os.path.join(SHARED, RELEASED[model]) if model in RELEASED else model
        predictor = load_predictor(path)
        Predictor.register(Counting)  # the counting wrapper passes for the predictor it wraps
        for name in args.sets:
            transforms = [] if name == "none" else name.split(",")
            counting = Counting(predictor)
            with tempfile.TemporaryDirectory() as scratch:
                warm = Options.defaults(people=args.people, transforms=transforms, frame_step=20,
                                        contact_sheet={"enabled": False})
                autolabel(counting, args.input, os.path.join(scratch, "warm"), warm, detector=detector,
                          progress=False)
                counting.images = 0
                options = Options.defaults(people=args.people, transforms=transforms, frame_step=args.frame_step,
                                           contact_sheet={"enabled": False})
                report = autolabel(counting, args.input, os.path.join(scratch, "run"), options, detector=detector,
                                   progress=False)
            rows.append({"model": model, "transforms": name, "frames": report["labelled_this_run"],
                         "frames_per_second": report["images_per_second"],
                         "passes_per_frame": counting.images / max(1, report["labelled_this_run"])})
    print(f"load average {os.getloadavg()[0]:.2f} at the end; input {args.input}, people={args.people}")
    print(f"{'model':10s} {'transforms':14s} {'frames':>6s} {'frames/s':>9s} {'passes/frame':>13s}")
    for r in rows:
        print(f"{r['model']:10s} {r['transforms']:14s} {r['frames']:6d} {r['frames_per_second']:9.2f} "
              f"{r['passes_per_frame']:13.2f}")
    return rows


if __name__ == "__main__":
    main()

"""What ``orientation=any`` costs: milliseconds per image, plain and with the quarter-turn search, on upright and
turned inputs, for the released Lightning and Thunder (and any other model file), in one run.

    python bench/orientation.py [--models lightning thunder [FILE ...]] [--rounds 3] [--json OUT]

Inputs are the model inputs the eval feeds (``single_person``: the COCO sample's 16 single-person images
letterboxed; ``every_person``: its 122 person crops) upright, and the same turned 90/180/270 degrees (``np.rot90``
of the input, as data/rotate_coco.py turns the image). Every image runs alone (batch 1, as an app calls the model);
plain and ``any`` take turns in rounds so that a load change on the machine hits both alike. A figure is the mean
over the images (the search's cost depends on the image: a confident upright pose skips it), with the mean number
of model passes per image. Compare figures only within one run; say whether the machine was idle.
"""

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

SHARED = os.environ.get("MOVENET_SHARED_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
RELEASED = {"lightning": "reference_models/tfjs_human_models/movenet-lightning.json",
            "thunder": "reference_models/tfjs_human_models/movenet-thunder.json"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["lightning", "thunder"],
                        help="lightning / thunder (Google's released files in ../shared) or model file paths")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over every set")
    parser.add_argument("--protocols", nargs="+", default=["single_person", "every_person"])
    parser.add_argument("--json", help="also write the figures to this JSON file")
    return parser.parse_args(argv)


def model_inputs(predictor, protocol):
    """uint8 [V, S, S, 3] model inputs of the COCO sample under ``protocol``."""
    from movenet_train.evaluation import inputs, protocols

    proto = protocols.build(protocol, predictor)
    annotations = os.path.join(SHARED, "data", "coco_sample", "person_keypoints_sample.json")
    _, samples = inputs.coco_source(annotations, os.path.join(SHARED, "data", "coco_sample", "images"),
                                    predictor.schema)
    return np.stack([x for s in samples if proto.select(s.annotations) for x, _ in proto.prepare(s.load(),
                                                                                                 s.annotations)])


def time_per_image(predictor, images):
    """(mean ms per image, mean model passes per image) calling ``predictor`` on one image at a time."""
    seconds, passes = [], 0
    for image in images:
        start = time.perf_counter()
        predictor(image[None])
        seconds.append(time.perf_counter() - start)
        passes += getattr(predictor, "last_passes", 1)
    return 1000 * statistics.fmean(seconds), passes / len(images)


def main(argv=None):
    args = parse_args(argv)
    from movenet_train.orientation import OrientationSearch
    from movenet_train.runtime import load_predictor

    rows = []
    for model in args.models:
        path = os.path.join(SHARED, RELEASED[model]) if model in RELEASED else model
        plain = load_predictor(path)
        search = OrientationSearch(plain)
        for protocol in args.protocols:
            upright = model_inputs(plain, protocol)
            sets = {"upright": upright,
                    "turned": np.concatenate([np.rot90(upright, k, axes=(1, 2)) for k in (1, 2, 3)])}
            for images in sets.values():  # warm-up: the first calls of a batch shape trace the graph
                plain(images[:1])
                search(images[:1])
                search.predictor(np.repeat(images[:1], 3, axis=0))
            figures = {}
            for _ in range(args.rounds):
                for set_name, images in sets.items():
                    for mode, predictor in (("plain", plain), ("any", search)):
                        ms, passes = time_per_image(predictor, images)
                        figures.setdefault((set_name, mode), []).append((ms, passes))
            for (set_name, mode), values in figures.items():
                ms = statistics.median(v[0] for v in values)
                rows.append({"model": model, "protocol": protocol, "inputs": set_name, "images": len(sets[set_name]),
                             "orientation": mode, "ms_per_image": round(ms, 2),
                             "passes_per_image": round(values[0][1], 3)})
            for set_name in sets:
                plain_ms = next(r["ms_per_image"] for r in rows[::-1] if r["inputs"] == set_name
                                and r["orientation"] == "plain" and r["protocol"] == protocol and r["model"] == model)
                row = next(r for r in rows[::-1] if r["inputs"] == set_name and r["orientation"] == "any"
                           and r["protocol"] == protocol and r["model"] == model)
                row["cost_vs_plain"] = round(row["ms_per_image"] / plain_ms, 3)
    print(f"{platform.node()} {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end "
          f"({args.rounds} rounds, median of the rounds' means)")
    print(f"{'model':10s} {'protocol':14s} {'inputs':8s} {'n':>4s} {'orientation':11s} {'ms/image':>9s} "
          f"{'passes':>7s} {'x plain':>8s}")
    for r in rows:
        print(f"{r['model']:10s} {r['protocol']:14s} {r['inputs']:8s} {r['images']:4d} {r['orientation']:11s} "
              f"{r['ms_per_image']:9.2f} {r['passes_per_image']:7.2f} {r.get('cost_vs_plain', 1.0):8.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "rounds": args.rounds, "load_average": os.getloadavg()}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()

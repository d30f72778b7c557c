"""Median latency of ``.tflite`` (and heads-only ``.onnx``) files, side by side in one run.

    python bench/latency.py FILE.tflite [FILE.tflite|FILE.onnx ...] [--threads 1 2] [--runs 200] [--image IMG]

Each file runs through ``movenet_train.runtime.load_predictor`` (the interpreter eval and the tracker use), one
image at a time, so a time is image in, released ``[1,1,17,3]`` / ``[1,6,56]`` out: for heads-only files
(``tflite_heads_*``, ``onnx``) it includes the NumPy decoding (``decode_numpy``), also timed alone
(``decode_ms``). ONNX files run on onnxruntime's CPU provider. The files take turns in short rounds, so that a load change on the machine hits all of them
alike; compare figures only within one run. Prints one row per file and thread count.
"""

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

ROUNDS = 10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help=".tflite or heads-only .onnx files")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="interpreter thread counts")
    parser.add_argument("--runs", type=int, default=200, help="timed invocations per file and thread count")
    parser.add_argument("--warmup", type=int, default=20, help="untimed invocations first")
    parser.add_argument("--image", help="image to feed (letterboxed); random pixels by default")
    parser.add_argument("--size", type=int, nargs=2, default=[256, 256], metavar=("H", "W"),
                        help="input size of multi-pose files that accept any size (default 256 256)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    for path in args.files:
        if not path.endswith((".tflite", ".onnx")):
            parser.error(f"{path} is not a .tflite or .onnx file")
        if not os.path.isfile(path):
            parser.error(f"{path} does not exist")
    return args


def model_input(predictor, args):
    from movenet_train.preprocessing import model_input as letterboxed
    from movenet_train.preprocessing import load_rgb

    if predictor.kind == "onnx":
        height, width = (predictor.input_size,) * 2 if predictor.input_size else args.size
    else:
        shape = [int(d) for d in predictor.input["shape"]]
        height, width = (shape[1], shape[2]) if min(shape[1:3]) > 1 else args.size  # [1,1,1,3]: any size
    if args.image:
        return letterboxed(load_rgb(args.image), height, width)[None]
    return np.random.default_rng(0).integers(0, 256, [1, height, width, 3], np.uint8)


def measure(files, threads, args):
    from movenet_train.runtime import load_predictor

    predictors = [load_predictor(path, num_threads=threads) for path in files]
    inputs = [model_input(p, args) for p in predictors]
    for predictor, x in zip(predictors, inputs):
        for _ in range(args.warmup):
            predictor(x)
    times = [[] for _ in files]
    per_round = max(1, args.runs // ROUNDS)
    for _ in range(ROUNDS):
        for predictor, x, record in zip(predictors, inputs, times):
            for _ in range(per_round):
                start = time.perf_counter()
                predictor(x)
                record.append(time.perf_counter() - start)
    return [{
        "file": path, "megabytes": round(os.path.getsize(path) / 1e6, 2), "threads": threads,
        "input": list(x.shape), "median_ms": 1e3 * statistics.median(t),
        "p10_ms": 1e3 * float(np.percentile(t, 10)), "p90_ms": 1e3 * float(np.percentile(t, 90)), "runs": len(t),
        "decode_ms": decode_ms(predictor, x, args.runs),
    } for path, predictor, x, t in zip(files, predictors, inputs, times)]


def decode_ms(predictor, x, runs):
    """Median of the NumPy decoding alone for heads-only files (part of ``median_ms``); None for the others."""
    from movenet_train.modeling import decode_numpy

    if predictor.kind not in ("tflite_heads", "onnx"):
        return None
    # as the predictor decodes: TFLite INT8 heads dequantised only where the decoder reads them
    heads = predictor.quantized_heads(x[0]) if predictor.kind == "tflite_heads" else predictor.heads_outputs(x[0])
    times = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        decode_numpy.decode(heads, predictor.multi_pose)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main(argv=None):
    args = parse_args(argv)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"LiteRT latency on {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs"
          + (f", load average {load[0]:.2f} at start" if load else ""))
    rows = []
    for threads in args.threads:
        rows.extend(measure(args.files, threads, args))
    name_width = max(len(r["file"]) for r in rows)
    print(f"{'file':<{name_width}}  {'MB':>6}  threads  {'median ms':>9}  {'p10':>6}  {'p90':>6}  {'decode':>6}")
    for r in rows:
        decode = f"{r['decode_ms']:6.2f}" if r["decode_ms"] is not None else f"{'-':>6}"
        print(f"{r['file']:<{name_width}}  {r['megabytes']:6.2f}  {r['threads']:>7}  "
              f"{r['median_ms']:9.2f}  {r['p10_ms']:6.2f}  {r['p90_ms']:6.2f}  {decode}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": platform.platform(), "cpus": os.cpu_count(), "load_average": load, "rows": rows}, f,
                      indent=2)
    return rows


if __name__ == "__main__":
    main()

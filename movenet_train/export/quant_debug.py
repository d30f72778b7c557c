"""Per-layer INT8 quantisation error of the project's INT8 export (issue 41: which layers lose accuracy).

``analyse`` quantises a model exactly as ``export/export.py`` does (``tflite.int8_debugger``: the same converter,
calibration images and float parts), runs TFLite's ``QuantizationDebugger`` on the calibration images and, with
every tensor kept (``experimental_preserve_all_tensors``), three models side by side on the same images:

* the debugger's instrumented model, where each quantised op has a float twin fed with the dequantised inputs of
  the quantised op: their difference is the op's **own** (local) quantisation error;
* the INT8 file the export writes and the calibrated float model the quantiser started from (the same graph, the
  same tensor names): their difference at a tensor is the **accumulated** error there, everything upstream
  included.

One row per quantised layer (each op the debugger instruments, in graph order): its scale and zero point and the
activation range they represent, the float tensor's range and spread, the per-channel spread of that range (a
per-tensor activation scale serves channels of very different ranges badly: channels spanning few of the 256
levels), for convolutions the per-channel weight ranges (BatchNorm folded into the kernel: a channel with a tiny
or huge range shows here), the local and the accumulated RMSE, each also relative to the float tensor's standard
deviation, and the debugger's own mean squared error. ``rows_csv``, ``figure`` and ``format_report`` write and show
them for one or two models.
"""

import collections
import dataclasses
import math
import os
import tempfile
import warnings

import numpy as np

QUANTISED_WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")
NUMERIC_VERIFY = "NumericVerify"
OUTPUT_STRIDE = 4  # input pixels per head cell
FEW_LEVELS = 16  # a channel whose float range spans fewer quantisation steps than this counts as coarsely quantised
RANK_KEYS = ("local_chan_rel", "local_rel", "total_chan_rel", "total_rel", "local_rmse_over_scale", "local_rmse",
             "total_rmse")
# Columns of the table, in order (``rows_csv``).
FIELDS = ("index", "layer", "part", "op", "tensor", "shape", "scale", "zero_point", "q_min", "q_max", "float_min",
          "float_max", "float_std", "local_rmse", "local_mean_error", "local_max_abs", "local_rmse_over_scale",
          "local_rel", "local_chan_rel", "debugger_rmse", "total_rmse", "total_rel", "total_chan_rel", "channels",
          "act_chan_range_median", "act_chan_spread", "act_chan_few_levels", "w_channels", "w_range_min",
          "w_range_max", "w_spread", "w_zero_channels")


def _interpreter(content, tf_runtime=False):
    """An interpreter that keeps every intermediate tensor readable after ``invoke``, with the builtin kernels and no
    default delegate (XNNPACK would take the ops into its own partitions, whose intermediate tensors are not kept,
    and hide the op types). ``tf_runtime``: TensorFlow's (deprecated) ``tf.lite.Interpreter``, which has the
    debugger's NumericVerify op; LiteRT's otherwise."""
    if tf_runtime:
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
            interpreter = tf.lite.Interpreter(
                model_content=content, experimental_preserve_all_tensors=True,
                experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    else:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        interpreter = Interpreter(model_content=content, experimental_preserve_all_tensors=True,
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    return interpreter


def _run(interpreter, image):
    (detail,) = interpreter.get_input_details()
    interpreter.set_tensor(detail["index"], image[None].astype(detail["dtype"]))
    interpreter.invoke()


def dequantize(values, detail):
    """``values`` of the tensor ``detail`` (``get_tensor_details()``) as float64: int8 / uint8 / int16 tensors
    dequantised with their (per-tensor) scale and zero point, float tensors as they are."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.floating):
        return values.astype(np.float64)
    params = detail["quantization_parameters"]
    scale, zero_point = float(params["scales"][0]), int(params["zero_points"][0])
    return (values.astype(np.float64) - zero_point) * scale


def _channels(x):
    """``x`` as ``[positions, channels]`` (channels: the last axis; one channel for a vector or scalar)."""
    return x.reshape(-1, x.shape[-1]) if x.ndim >= 2 else x.reshape(-1, 1)


class _Moments:
    """Running count, sum, sum of squares, min and max of float tensors, over all and per channel (last axis)."""

    def __init__(self):
        self.n, self.total, self.squares = 0, 0.0, 0.0
        self.low = self.high = self.channel_total = self.channel_squares = None

    def add(self, x):
        channels = _channels(x)
        self.n += x.size
        self.total += float(x.sum())
        self.squares += float(np.square(x).sum())
        low, high = channels.min(axis=0), channels.max(axis=0)
        total, squares = channels.sum(axis=0), np.square(channels).sum(axis=0)
        if self.low is None:
            self.low, self.high, self.channel_total, self.channel_squares = low, high, total, squares
        else:
            self.low, self.high = np.minimum(self.low, low), np.maximum(self.high, high)
            self.channel_total, self.channel_squares = self.channel_total + total, self.channel_squares + squares

    @property
    def std(self):
        mean = self.total / self.n
        return math.sqrt(max(self.squares / self.n - mean * mean, 0.0))

    @property
    def channel_std(self):
        per_channel = self.n / self.channel_total.size
        mean = self.channel_total / per_channel
        return np.sqrt(np.maximum(self.channel_squares / per_channel - mean * mean, 0.0))


class _Errors:
    """Running RMSE (over all and per channel), mean and max absolute value of differences."""

    def __init__(self):
        self.n, self.total, self.squares, self.max_abs = 0, 0.0, 0.0, 0.0
        self.channel_squares = None

    def add(self, d):
        squares = np.square(_channels(d)).sum(axis=0)
        self.channel_squares = squares if self.channel_squares is None else self.channel_squares + squares
        self.n += d.size
        self.total += float(d.sum())
        self.squares += float(squares.sum())
        self.max_abs = max(self.max_abs, float(np.abs(d).max()) if d.size else 0.0)

    @property
    def rmse(self):
        return math.sqrt(self.squares / self.n) if self.n else float("nan")

    @property
    def mean(self):
        return self.total / self.n if self.n else float("nan")

    def channel_rel(self, moments):
        """Mean over the channels that vary of (the channel's RMSE / its float std): the error each channel's own
        signal sees, which a per-tensor figure hides when a few wide channels dominate the tensor."""
        if not self.n or moments.channel_std is None:
            return float("nan")
        rmse = np.sqrt(self.channel_squares / (self.n / self.channel_squares.size))
        std = moments.channel_std
        live = std > 1e-12 * max(float(std.max()), 1e-30)
        return float(np.mean(rmse[live] / std[live])) if live.any() else float("nan")


def layer_name(tensor_name):
    """The Keras layer of a TFLite tensor name: the first path component after the model's name in the last of its
    ``;``-joined fused names (``movenet_lightning/block_3_project_BN/FusedBatchNormV3;movenet_lightning/
    block_3_project/Conv2D`` -> ``block_3_project``; the op column tells a separable layer's depthwise and
    pointwise parts apart)."""
    segments = [s for s in tensor_name.split(";") if s]
    parts = [p for p in (segments[-1] if segments else tensor_name).split("/") if p]
    if len(parts) >= 3 or (len(parts) == 2 and parts[0].startswith("movenet")):
        return parts[1]
    return parts[0] if parts else tensor_name


def part_of(tensor_name, head_prefixes):
    first = tensor_name.split(";")[0]
    if any(f"/{p}/" in first or f"/{p}_" in first for p in head_prefixes):
        return "heads"
    if "/fpn_" in first:
        return "fpn"
    return "backbone"


def _details(interpreter):
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    by_name = {}
    for index, d in details.items():
        by_name.setdefault(d["name"], index)
    ops = interpreter._get_ops_details()  # noqa: SLF001 - LiteRT's only op-level view of a model
    producer = {index: op for op in ops for index in op["outputs"]}
    return details, by_name, ops, producer


def _weight_ranges(detail):
    """Per-channel ranges (max |w| per output channel, from the symmetric per-channel scales) of an int8 kernel."""
    params = detail["quantization_parameters"]
    scales = np.asarray(params["scales"], np.float64)
    if scales.size == 0:
        return None
    return scales * 127.0  # int8 per-channel weights are symmetric: scale = max|w| / 127


@dataclasses.dataclass
class _Layer:
    row: dict
    q_index: int  # quantised tensor in the debug model
    f_index: int  # its float twin there (NumericVerify's second input)
    nv_name: str  # the NumericVerify op's output name (the debugger's key)
    local: _Errors = dataclasses.field(default_factory=_Errors)
    total: _Errors = dataclasses.field(default_factory=_Errors)
    moments: _Moments = dataclasses.field(default_factory=_Moments)


def _layers(debug, head_prefixes):
    """One ``_Layer`` per NumericVerify op of the debug interpreter, in graph order."""
    details, _, ops, producer = _details(debug)
    layers = []
    for op in ops:
        if op["op_name"] != NUMERIC_VERIFY:
            continue
        q_index, f_index = op["inputs"][:2]
        q = details[q_index]
        # The float twin keeps the name the tensor has in the INT8 file and the float model; the debug model's
        # quantised tensor carries a numeric suffix.
        name = details[f_index]["name"]
        params = q["quantization_parameters"]
        scale, zero_point = float(params["scales"][0]), int(params["zero_points"][0])
        info = np.iinfo(q["dtype"])
        quantised_op = producer.get(q_index)
        row = {"index": len(layers), "layer": layer_name(name), "part": part_of(name, head_prefixes),
               "op": quantised_op["op_name"] if quantised_op else "", "tensor": name,
               "shape": "x".join(str(int(s)) for s in q["shape"]), "scale": scale, "zero_point": zero_point,
               "q_min": (info.min - zero_point) * scale, "q_max": (info.max - zero_point) * scale}
        row.update({"w_channels": 0, "w_range_min": float("nan"), "w_range_max": float("nan"),
                    "w_spread": float("nan"), "w_zero_channels": 0})
        if quantised_op and quantised_op["op_name"] in QUANTISED_WEIGHT_OPS and len(quantised_op["inputs"]) > 1:
            ranges = _weight_ranges(details[quantised_op["inputs"][1]])
            if ranges is not None:
                nonzero = ranges[ranges > 0]
                row.update({"w_channels": int(ranges.size), "w_range_min": float(ranges.min()),
                            "w_range_max": float(ranges.max()), "w_zero_channels": int((ranges <= 0).sum()),
                            "w_spread": float(nonzero.max() / nonzero.min()) if nonzero.size else float("nan")})
        layers.append(_Layer(row, q_index, f_index, details[op["outputs"][0]]["name"]))
    if not layers:
        raise RuntimeError("the debugger's model has no NumericVerify op: nothing was quantised")
    return layers


def head_logit_names(interpreter, head_prefixes):
    """Names of the head logits in a converted MoveNet: the output of the op with ``/<prefix>/`` in its name (the
    heads' last convolution; ``tflite.float_nodes`` finds them the same way)."""
    details, _, ops, _ = _details(interpreter)
    names = {}
    for op in ops:
        for index in op["outputs"]:
            for prefix in head_prefixes:
                if f"/{prefix}/" in details[index]["name"]:
                    names.setdefault(prefix, details[index]["name"])
    return names


def measure(debug_model, float_model, int8_model, images, head_prefixes, debugger_statistics=None, grid=None):
    """Rows (one per quantised layer), head-logit and output errors of the three models on ``images`` (uint8
    ``[N, H, W, 3]``). ``debugger_statistics``: the debugger's ``layer_statistics`` (its ``mean_squared_error``
    goes into the ``debugger_rmse`` column). ``grid``: the heads' cells per side; with it, a single-pose output
    (``[1, 1, K, 3]``: y, x, score) also gets how far the INT8 file moves each keypoint, in cells."""
    debug = _interpreter(debug_model, tf_runtime=True)
    floats, ints = _interpreter(float_model), _interpreter(int8_model)
    debug_details, _, _, _ = _details(debug)
    float_details, float_by_name, _, _ = _details(floats)
    int_details, int_by_name, _, _ = _details(ints)
    layers = _layers(debug, head_prefixes)
    heads = head_logit_names(floats, head_prefixes)
    head_errors = {prefix: (_Errors(), _Moments()) for prefix in heads}
    (float_out,), (int_out,) = floats.get_output_details(), ints.get_output_details()
    output_errors, moved, score_changes = _Errors(), [], []
    for image in images:
        for interpreter in (debug, floats, ints):
            _run(interpreter, image)
        for layer in layers:
            q = dequantize(debug.get_tensor(layer.q_index), debug_details[layer.q_index])
            f = debug.get_tensor(layer.f_index).astype(np.float64)
            layer.local.add(q - f)
            name = layer.row["tensor"]
            if name in float_by_name:
                reference = dequantize(floats.get_tensor(float_by_name[name]), float_details[float_by_name[name]])
                layer.moments.add(reference)
                if name in int_by_name:
                    index = int_by_name[name]
                    layer.total.add(dequantize(ints.get_tensor(index), int_details[index]) - reference)
            else:  # not in the float model under this name: the float twin's values stand in for its statistics
                layer.moments.add(f)
        for prefix, name in heads.items():
            reference = floats.get_tensor(float_by_name[name]).astype(np.float64)
            errors, moments = head_errors[prefix]
            moments.add(reference)
            if name in int_by_name:
                index = int_by_name[name]
                errors.add(dequantize(ints.get_tensor(index), int_details[index]) - reference)
        int_output = dequantize(ints.get_tensor(int_out["index"]), int_out)
        float_output = floats.get_tensor(float_out["index"]).astype(np.float64)
        output_errors.add(int_output - float_output)
        if grid and int_output.ndim == 4 and int_output.shape[-1] == 3:
            moved.append(np.abs(int_output[..., :2] - float_output[..., :2]).max(axis=-1).ravel() * grid)
            score_changes.append(np.abs(int_output[..., 2] - float_output[..., 2]).ravel())
    rows = [_finish(layer, debugger_statistics) for layer in layers]
    head_rows = {prefix: {"tensor": heads[prefix], "rmse": errors.rmse, "float_std": moments.std,
                          "rel": _ratio(errors.rmse, moments.std), "max_abs": errors.max_abs}
                 for prefix, (errors, moments) in head_errors.items()}
    output = {"rmse": output_errors.rmse, "max_abs": output_errors.max_abs, "mean_error": output_errors.mean}
    if moved:
        cells, scores = np.concatenate(moved), np.concatenate(score_changes)
        output.update({"keypoints": int(cells.size), "keypoint_shift_cells_mean": float(cells.mean()),
                       "keypoints_moved_over_1_cell": int((cells > 1).sum()),
                       "score_change_mean": float(scores.mean())})
    return rows, head_rows, output


def _ratio(a, b):
    return a / b if b and not math.isnan(b) else float("nan")


def _finish(layer, debugger_statistics):
    row, m = layer.row, layer.moments
    scale = row["scale"]
    channel_ranges = m.high - m.low
    levels = channel_ranges / scale if scale else np.full_like(channel_ranges, np.nan)
    median = float(np.median(channel_ranges))
    row.update({
        "float_min": float(m.low.min()), "float_max": float(m.high.max()), "float_std": m.std,
        "local_rmse": layer.local.rmse, "local_mean_error": layer.local.mean, "local_max_abs": layer.local.max_abs,
        "local_rmse_over_scale": _ratio(layer.local.rmse, scale), "local_rel": _ratio(layer.local.rmse, m.std),
        "local_chan_rel": layer.local.channel_rel(m), "total_rmse": layer.total.rmse,
        "total_rel": _ratio(layer.total.rmse, m.std), "total_chan_rel": layer.total.channel_rel(m),
        "channels": int(channel_ranges.size), "act_chan_range_median": median,
        "act_chan_spread": _ratio(float(channel_ranges.max()), median),
        "act_chan_few_levels": int((levels < FEW_LEVELS).sum()),
    })
    stats = (debugger_statistics or {}).get(layer.nv_name)
    row["debugger_rmse"] = math.sqrt(stats["mean_squared_error"]) if stats else float("nan")
    return {key: row[key] for key in FIELDS}


def analyse(model, spec, images, float_parts, folder, label):
    """The per-layer report of ``model`` (a Keras MoveNet) quantised as the INT8 export does, calibrated on
    ``images``; writes ``<label>_int8.tflite`` (the export's INT8 file) and ``<label>_float.tflite`` (the calibrated
    float model it was quantised from) into ``folder``. Returns ``{"layers": rows, "heads": ..., "output": ...,
    "files": ...}``."""
    import tensorflow as tf

    from movenet_train.export import tflite

    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        source = tflite.write_source(model, spec, os.path.join(scratch, "uint8"))
        converter = tf.lite.TFLiteConverter.from_saved_model(str(source))
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        debugger = tflite.int8_debugger(converter, spec, images, list(float_parts))
    int8_model = debugger.get_nondebug_quantized_model()
    debug_model = debugger.get_debug_quantized_model()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        debugger.run()
    files = {"int8": f"{label}_int8.tflite", "float": f"{label}_float.tflite"}
    for key, content in (("int8", int8_model), ("float", debugger.calibrated_model)):
        with open(os.path.join(folder, files[key]), "wb") as f:
            f.write(content)
    rows, heads, output = measure(debug_model, debugger.calibrated_model, int8_model, images,
                                  list(spec.head_keys.values()), debugger.layer_statistics,
                                  grid=None if spec.multi_pose else spec.input_size // OUTPUT_STRIDE)
    return {"layers": rows, "heads": heads, "output": output, "files": files}


def ranked(rows, key, top):
    """The ``top`` rows with the largest ``key`` (NaN last)."""
    return sorted(rows, key=lambda r: -r[key] if not math.isnan(r[key]) else math.inf)[:top]


def matched(rows_a, rows_b):
    """Pairs of rows of the same layer in two models: by tensor name, or by position when the names differ but the
    two graphs have the same ops in the same order."""
    by_name = {r["tensor"]: r for r in rows_b}
    if all(r["tensor"] in by_name for r in rows_a):
        return [(r, by_name[r["tensor"]]) for r in rows_a]
    if [r["op"] for r in rows_a] == [r["op"] for r in rows_b]:
        return list(zip(rows_a, rows_b))
    return [(r, by_name[r["tensor"]]) for r in rows_a if r["tensor"] in by_name]


def comparison(rows_a, rows_b, key, top):
    """The ``top`` layers whose ``key`` grew most from model A to model B (ratio B / A)."""
    pairs = []
    for a, b in matched(rows_a, rows_b):
        pairs.append({"index": a["index"], "layer": a["layer"], "op": a["op"], f"{key}_a": a[key], f"{key}_b": b[key],
                      "ratio": _ratio(b[key], a[key]), "total_chan_rel_a": a["total_chan_rel"],
                      "total_chan_rel_b": b["total_chan_rel"], "total_rel_a": a["total_rel"],
                      "total_rel_b": b["total_rel"], "scale_a": a["scale"], "scale_b": b["scale"],
                      "act_chan_spread_a": a["act_chan_spread"], "act_chan_spread_b": b["act_chan_spread"],
                      "w_spread_a": a["w_spread"], "w_spread_b": b["w_spread"]})
    return ranked(pairs, "ratio", top)


def rows_csv(path, reports):
    """One CSV of every model's rows, a ``model`` column first."""
    import csv

    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, ["model", *FIELDS])
        writer.writeheader()
        for label, report in reports.items():
            for row in report["layers"]:
                writer.writerow({"model": label, **row})


def figure(reports):
    """Per-layer local and accumulated error, activation range and weight spread of each model, side by side."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 12), dpi=80)
    panels = [("local_chan_rel", "own error / std\n(per channel, mean)"),
              ("total_chan_rel", "accumulated error / std\n(per channel, mean)"),
              ("total_rel", "accumulated error / std\n(whole tensor)"),
              ("float_range", "float activation range\n(max - min)"), ("act_chan_spread", "channel range:\nmax / median")]
    axes = fig.subplots(len(panels), 1, sharex=True)
    for ax, (key, title) in zip(axes, panels):
        for label, report in reports.items():
            rows = report["layers"]
            x = [r["index"] for r in rows]
            y = [r["float_max"] - r["float_min"] if key == "float_range" else r[key] for r in rows]
            ax.plot(x, y, marker=".", linewidth=0.8, markersize=3, label=label)
        ax.set_yscale("log")
        ax.set_ylabel(title, fontsize=8)
        ax.grid(alpha=0.3)
    first = next(iter(reports.values()))["layers"]
    parts = collections.OrderedDict()
    for r in first:
        parts.setdefault(r["part"], r["index"])
    for ax in axes:
        for part, start in parts.items():
            if start:
                ax.axvline(start - 0.5, color="grey", linewidth=0.6)
    for part, start in parts.items():
        axes[0].text(start, 1.02, part, transform=axes[0].get_xaxis_transform(), fontsize=8)
    axes[0].legend(fontsize=8, loc="upper left")
    axes[-1].set_xlabel("quantised layer (graph order)")
    fig.suptitle("INT8 quantisation error per layer (calibration images)", fontsize=10)
    fig.tight_layout()
    return fig


def _g(value, digits=3):
    return "nan" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}g}"


def format_report(reports, rank_by="local_chan_rel", top=10, compared=None):
    """The ten (``top``) worst layers of each model, head logit and output errors, and with two models the layers
    whose error grew most."""
    lines = []
    for label, report in reports.items():
        rows = report["layers"]
        out = report["output"]
        lines.append(f"{label}: {len(rows)} quantised layers; INT8 - float at the output: RMSE {_g(out['rmse'])}, "
                     f"max {_g(out['max_abs'])}")
        if "keypoints" in out:
            lines.append(f"  keypoints moved by the INT8 file: {_g(out['keypoint_shift_cells_mean'])} cells on "
                         f"average, {out['keypoints_moved_over_1_cell']} of {out['keypoints']} by more than one cell; "
                         f"score change {_g(out['score_change_mean'])} on average")
        for prefix, head in report["heads"].items():
            lines.append(f"  head {prefix:<14} logits RMSE {_g(head['rmse'])}  / float std {_g(head['rel'])}")
        lines.append(f"  {top} worst layers by {rank_by}:")
        lines.append(f"  {'#':>3} {'layer':<28} {'op':<18} {'own/ch':>7} {'own/std':>8} {'own/scale':>9} "
                     f"{'accum/ch':>8} {'scale':>9} {'act range':>19} {'ch spread':>9} {'<16 lvl':>7} {'w spread':>9}")
        for r in ranked(rows, rank_by, top):
            lines.append(f"  {r['index']:>3} {r['layer'][:28]:<28} {r['op'][:18]:<18} {_g(r['local_chan_rel']):>7} "
                         f"{_g(r['local_rel']):>8} {_g(r['local_rmse_over_scale']):>9} {_g(r['total_chan_rel']):>8} "
                         f"{_g(r['scale']):>9} "
                         f"{'[' + _g(r['q_min']) + ', ' + _g(r['q_max']) + ']':>19} {_g(r['act_chan_spread']):>9} "
                         f"{r['act_chan_few_levels']:>3}/{r['channels']:<3} {_g(r['w_spread']):>9}")
    if compared:
        (a, b), pairs = compared
        lines.append(f"{top} layers whose {rank_by} grew most from {a} to {b}:")
        lines.append(f"  {'#':>3} {'layer':<28} {'op':<18} {a[:9]:>9} {b[:9]:>9} {'ratio':>6} {'accum ' + a[:5]:>11} "
                     f"{'accum ' + b[:5]:>11} {'scale ratio':>11}   (accum: accumulated error / channel std)")
        for p in pairs:
            lines.append(f"  {p['index']:>3} {p['layer'][:28]:<28} {p['op'][:18]:<18} {_g(p[rank_by + '_a']):>9} "
                         f"{_g(p[rank_by + '_b']):>9} {_g(p['ratio']):>6} {_g(p['total_chan_rel_a']):>11} "
                         f"{_g(p['total_chan_rel_b']):>11} {_g(_ratio(p['scale_b'], p['scale_a'])):>11}")
    lines.append("columns: own/ch = the layer's own INT8 error / its float std, per channel (mean over channels); "
                 "own/std = the same over the whole tensor; own/scale = own RMSE in quantisation steps (0.29: plain "
                 "rounding); accum/ch = the error accumulated up to this layer / std, per channel; act range = what "
                 "the int8 scale and zero point represent; ch spread = the widest channel's float range / the "
                 f"median's; <16 lvl = channels spanning fewer than {FEW_LEVELS} quantisation steps; w spread = "
                 "per-channel weight range, widest / narrowest (BatchNorm folded)")
    return "\n".join(lines)

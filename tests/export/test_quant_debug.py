"""``python -m movenet_train.jobs.quant_debug`` (issue 41): per-layer INT8 error of a tiny MoveNet (alpha 0.35, 64 px,
random weights, one BatchNorm channel blown up), calibrated on tiny_dataset's four synthetic images. One row per
quantised layer of the INT8 file (the export's: both come from ``tflite.int8_debugger``); one layer's accumulated
error checked by hand against the written INT8 and float files; the blown-up channel shows in the weight spread; two
models' rows compared; bad input is one error line."""

import csv
import json
import math

import numpy as np
import pytest
from hydra import compose, initialize

from movenet_train.export import quant_debug as per_layer
from movenet_train.jobs import quant_debug
from movenet_train.modeling import MoveNetSpec
from tests.in_process import run_main

TINY = MoveNetSpec("tiny", 0.35, 64)
BLOWN_UP = "block_1_project"  # its BatchNorm's channel 0 is scaled by BLOW_UP
BLOW_UP = 1000.0


def _tiny_checkpoint(path, blow_up=None):
    import tf_keras

    from movenet_train.checkpoints import save_model_checkpoint
    from movenet_train.modeling import build_model

    tf_keras.utils.set_random_seed(0)
    model = build_model(TINY)
    if blow_up:
        bn = model.get_layer(f"{BLOWN_UP}_BN")
        gamma = bn.gamma.numpy()
        gamma[0] *= blow_up
        bn.gamma.assign(gamma)
    return save_model_checkpoint(model, TINY, path)


@pytest.fixture(scope="module")
def tiny_debug(tmp_path_factory, tiny_dataset):
    """(output folder, job result, stdout) of one run on the tiny model with the blown-up channel."""
    root = tmp_path_factory.mktemp("quant_debug")
    checkpoint = _tiny_checkpoint(root / "blown", blow_up=BLOW_UP)
    output = root / "out"
    images = tiny_dataset / "source" / "images"
    result = run_main(quant_debug.main, f"checkpoint={checkpoint}", f"calibration.images={images}", f"output={output}")
    assert result.returncode == 0, result.stderr[-3000:]
    with open(output / quant_debug.REPORT_FILE) as f:
        report = json.load(f)
    return output, report, result.stdout


def _images(tiny_dataset):
    from movenet_train.preprocessing import load_rgb, model_input

    paths = sorted((tiny_dataset / "source" / "images").glob("*.jpg")) + \
        sorted((tiny_dataset / "source" / "images").glob("*.png"))
    return np.stack([model_input(load_rgb(str(p)), TINY.input_size, TINY.input_size) for p in sorted(paths)])


def _tensor_by_name(path, images, name):
    """Values of tensor ``name`` of the ``.tflite`` file on each image, dequantised (own code, LiteRT's builtin
    kernels as the tool runs them: XNNPACK's partitions would not keep the tensor)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    (detail,) = [d for d in interpreter.get_tensor_details() if d["name"] == name]
    (inp,) = interpreter.get_input_details()
    values = []
    for image in images:
        interpreter.set_tensor(inp["index"], image[None])
        interpreter.invoke()
        x = interpreter.get_tensor(detail["index"]).astype(np.float64)
        if detail["dtype"] == np.int8:
            scale = detail["quantization_parameters"]["scales"][0]
            zero_point = detail["quantization_parameters"]["zero_points"][0]
            x = (x - zero_point) * scale
        values.append(x)
    return np.stack(values), detail


def _quantised_outputs(path):
    """Names of the int8 tensors the ops of the INT8 file write (input QUANTIZE and DEQUANTIZE ops aside)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_path=str(path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] not in ("QUANTIZE", "DEQUANTIZE")]
    return {details[i]["name"] for op in ops for i in op["outputs"] if details[i]["dtype"] == np.int8}


@pytest.mark.slow
def test_one_row_per_quantised_layer(tiny_debug):
    output, report, stdout = tiny_debug
    with open(output / quant_debug.TABLE_FILE) as f:
        rows = list(csv.DictReader(f))
    assert {r["model"] for r in rows} == {"blown"}
    assert len(rows) == report["models"]["blown"]["num_layers"] == len(report["models"]["blown"]["layers"])
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))
    names = [r["tensor"] for r in rows]
    assert len(set(names)) == len(names) and set(names) == _quantised_outputs(output / "blown_int8.tflite")
    assert {r["part"] for r in rows} == {"backbone", "fpn"}  # heads and decoding stay float by default
    assert (output / quant_debug.PLOT_FILE).stat().st_size > 10_000
    assert report["calibration"]["num_images"] == 4
    assert "10 worst layers by local_chan_rel" in stdout and report["comparison"] is None
    assert report["models"]["blown"]["output"]["keypoints"] == 4 * 17  # images x keypoints


@pytest.mark.slow
def test_accumulated_error_of_one_layer_by_hand(tiny_debug, tiny_dataset):
    """The dequantised INT8 tensor against the float file's, computed here from the written files."""
    output, report, _ = tiny_debug
    rows = report["models"]["blown"]["layers"]
    row = max((r for r in rows if r["op"] == "CONV_2D"), key=lambda r: r["total_rmse"])
    images = _images(tiny_dataset)
    quantised, detail = _tensor_by_name(output / "blown_int8.tflite", images, row["tensor"])
    reference, _ = _tensor_by_name(output / "blown_float.tflite", images, row["tensor"])
    rmse = math.sqrt(np.mean((quantised - reference) ** 2))
    assert rmse > 0
    assert row["total_rmse"] == pytest.approx(rmse, rel=1e-6)
    assert row["total_rel"] == pytest.approx(rmse / reference.std(), rel=1e-6)
    assert row["float_min"] == pytest.approx(reference.min()) and row["float_max"] == pytest.approx(reference.max())
    scale = detail["quantization_parameters"]["scales"][0]
    zero_point = int(detail["quantization_parameters"]["zero_points"][0])
    assert (row["scale"], row["zero_point"]) == (pytest.approx(scale), zero_point)
    assert (row["q_min"], row["q_max"]) == (pytest.approx((-128 - zero_point) * scale),
                                            pytest.approx((127 - zero_point) * scale))


@pytest.mark.slow
def test_own_error_agrees_with_the_debugger(tiny_debug):
    """The local RMSE from the instrumented model's tensors (builtin kernels) against the debugger's own mean
    squared error (its interpreter runs XNNPACK, whose rounding differs: up to 21% on this random model's layers
    whose activations are 1e-6 to 1e-9, measured)."""
    _, report, _ = tiny_debug
    ratios = np.array([row["local_rmse"] / row["debugger_rmse"] for row in report["models"]["blown"]["layers"]])
    assert np.median(np.abs(ratios - 1)) < 0.01
    assert np.all(np.abs(ratios - 1) < 0.3)


@pytest.mark.slow
def test_a_blown_up_batch_norm_channel_shows(tiny_debug):
    _, report, _ = tiny_debug
    rows = report["models"]["blown"]["layers"]
    (blown,) = [r for r in rows if r["layer"] == BLOWN_UP]
    others = [r["w_spread"] for r in rows if r["w_spread"] is not None and r is not blown]
    assert blown["w_spread"] > BLOW_UP / 10 > 5 * max(others)
    assert blown["act_chan_spread"] > 10 * np.median([r["act_chan_spread"] for r in rows])


def _rows(values, names=None, ops=None):
    return [{"index": i, "layer": f"l{i}", "tensor": (names or [f"t{i}" for i in range(len(values))])[i],
             "op": (ops or ["CONV_2D"] * len(values))[i], "local_rel": v, "total_rel": 2 * v, "total_chan_rel": v,
             "scale": 1.0, "act_chan_spread": 1.0, "w_spread": 1.0} for i, v in enumerate(values)]


def test_two_models_are_compared_layer_by_layer():
    a, b = _rows([0.1, 0.2, 0.4, math.nan]), _rows([0.1, 0.8, 0.4, 0.3])
    pairs = per_layer.comparison(a, b, "local_rel", 2)
    assert [(p["index"], p["ratio"]) for p in pairs] == [(1, 4.0), (0, 1.0)]
    renamed = _rows([0.1, 0.8, 0.4, 0.3], names=["x0", "x1", "x2", "x3"])  # same ops in the same order: by position
    assert [p["index"] for p in per_layer.comparison(a, renamed, "local_rel", 1)] == [1]
    other_graph = _rows([0.5], names=["t2"], ops=["ADD"])  # by name where the graphs differ
    assert [(p["index"], p["ratio"]) for p in per_layer.comparison(a, other_graph, "local_rel", 5)] == [(2, 1.25)]
    assert [r["index"] for r in per_layer.ranked(a, "local_rel", 4)] == [2, 1, 0, 3]  # NaN last


def test_missing_checkpoint_is_one_error_line(tmp_path):
    missing = tmp_path / "no-such-run"
    result = run_main(quant_debug.main, f"checkpoint={missing}", f"calibration.images={tmp_path}",
                      f"output={tmp_path / 'out'}")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: checkpoint={missing}: model file {missing} does not exist")
    assert not (tmp_path / "out").exists()


def test_missing_calibration_is_one_error_line(tmp_path):
    result = run_main(quant_debug.main, f"checkpoint={tmp_path}", f"output={tmp_path / 'out'}")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "error: quant_debug needs the INT8 calibration images" in result.stderr


def test_calibration_and_float_parts_default_to_the_exports():
    with initialize(version_base="1.3", config_path="../../configs"):
        debug = compose("quant_debug", overrides=["checkpoint=x", "output=y"])
        export = compose("export", overrides=["checkpoint=x", "output=y"])
    assert debug.int8 == export.int8
    assert {k: export.calibration[k] for k in debug.calibration} == dict(debug.calibration)


def test_labels():
    assert quant_debug.model_label("../shared/reference_models/tfjs_human_models/movenet-lightning.json") == \
        "movenet-lightning"
    assert quant_debug.model_label("outputs/train/distill-run/model") == "distill-run"
    assert quant_debug.model_label("outputs/train/distill-run") == "distill-run"

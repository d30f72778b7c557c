"""Exports of the imported released Lightning in every format, each file run through load_predictor.

The reference is the Keras model of the imported released weights (which reproduce Google's outputs), the
released int8 file's signature and AP, and the AP the reference README gives for the released float model.
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from hydra import compose, initialize
from omegaconf import OmegaConf

from movenet_train import atomic
from movenet_train.errors import UserError
from movenet_train.evaluation import evaluate
from movenet_train.export import exporter
from movenet_train.jobs.export import run
from movenet_train.export.calibration import calibration_images
from movenet_train.export.report import REPORT_FILE
from movenet_train.keypoints import COCO_17
from movenet_train.preprocessing import load_rgb, model_input
from movenet_train.pretrained import import_released
from movenet_train.runtime import KerasPredictor, load_predictor
from tests.helpers import COCO_SAMPLE, REPO, TFJS, TFLITE_INT8_LIGHTNING, require_shared

ANNOTATIONS = COCO_SAMPLE / "person_keypoints_sample.json"
IMAGES = COCO_SAMPLE / "images"
CALIBRATION_IMAGES = 16  # the CLI default is 200; a few real images already give a better AP than the released int8
TFLITE_FORMATS = ("tflite_fp32", "tflite_fp16", "tflite_int8")
HEADS_FORMATS = ("tflite_heads_fp16", "tflite_heads_int8", "onnx")  # decoded by decode_numpy in load_predictor
FORMATS = ["saved_model", *TFLITE_FORMATS, *HEADS_FORMATS]
FLOAT_TOLERANCE = {"saved_model": 1e-4, "tflite_fp32": 1e-4, "tflite_fp16": 5e-3, "tflite_heads_fp16": 5e-3,
                   "onnx": 1e-4}
HEAD_KEYS = ["center", "keypoint_heatmap", "keypoint_regression", "keypoint_offset"]
# reference_models/README.md: single_person AP of the released float (TF.js) Lightning on the sample.
RELEASED_FLOAT_LIGHTNING_AP = 0.433


def compose_export(overrides):
    with initialize(version_base="1.3", config_path="../../configs"):
        return compose("export", overrides=overrides)


def sample_overrides(output, formats=None):
    return [f"checkpoint={TFJS['lightning']}", f"output={output}", *([f"formats=[{','.join(formats)}]"] if formats else []),
            f"calibration.annotations={ANNOTATIONS}", f"calibration.images={IMAGES}",
            f"calibration.num_images={CALIBRATION_IMAGES}", f"eval.annotations={ANNOTATIONS}", f"eval.images={IMAGES}"]


@pytest.fixture(scope="module")
def lightning_export(tmp_path_factory):
    """(output folder, report) of one export of the released Lightning in the default and the heads-only formats."""
    require_shared(TFJS["lightning"], ANNOTATIONS, IMAGES)
    output = tmp_path_factory.mktemp("export") / "lightning"
    report = run(compose_export(sample_overrides(output, FORMATS)))
    return output, report


def path_of(lightning_export, fmt):
    output, report = lightning_export
    return str(output / report["files"][fmt]["path"])


@pytest.fixture(scope="module")
def single_person_inputs(single_person_images):
    return np.stack([model_input(load_rgb(IMAGES / name), 192, 192) for name in single_person_images])


@pytest.fixture(scope="module")
def keras_outputs(single_person_inputs):
    require_shared(TFJS["lightning"])
    return KerasPredictor(*import_released(TFJS["lightning"]))(single_person_inputs)


@pytest.mark.slow
def test_every_format_is_written_and_reported(lightning_export):
    output, report = lightning_export
    assert list(report["files"]) == FORMATS
    with open(output / REPORT_FILE) as f:
        assert json.load(f) == json.loads(json.dumps(report))
    for entry in report["files"].values():
        path = output / entry["path"]
        size = os.path.getsize(path) if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        assert entry["bytes"] == size
        assert entry["parity"]["num_poses"] == report["parity_inputs"]["num_images"] == CALIBRATION_IMAGES
    assert report["calibration"]["excluded_eval_images"] == 16  # the single_person images eval scores
    assert not set(report["calibration"]["images"]) & set(_single_person_names())
    assert sorted(os.listdir(output.parent)) == ["lightning"]  # no staging folder left behind


def _single_person_names():
    with open(ANNOTATIONS) as f:
        data = json.load(f)
    per_image = {}
    for ann in data["annotations"]:
        per_image.setdefault(ann["image_id"], []).append(ann)
    return [im["file_name"] for im in data["images"] if len(per_image.get(im["id"], [])) == 1
            and not per_image[im["id"]][0]["iscrowd"] and per_image[im["id"]][0]["num_keypoints"] > 0]


@pytest.mark.slow
def test_saved_model_signature(lightning_export):
    fn = tf.saved_model.load(path_of(lightning_export, "saved_model")).signatures["serving_default"]
    (spec,) = fn.structured_input_signature[1].values()
    assert list(fn.structured_input_signature[1]) == ["input"]
    assert (spec.dtype, spec.shape.as_list()) == (tf.int32, [1, 192, 192, 3])
    assert {k: (v.dtype, v.shape.as_list()) for k, v in fn.structured_outputs.items()} == {
        "output_0": (tf.float32, [1, 1, 17, 3])}


def _interface(path):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    return (interpreter.get_signature_list(), inp["dtype"], list(inp["shape"]), inp["quantization"],
            out["dtype"], list(out["shape"]), out["quantization"])


@pytest.mark.slow
@pytest.mark.parametrize("fmt", TFLITE_FORMATS)
def test_tflite_interface_is_the_released_one(lightning_export, fmt):
    require_shared(TFLITE_INT8_LIGHTNING)
    assert _interface(path_of(lightning_export, fmt)) == _interface(TFLITE_INT8_LIGHTNING)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(FLOAT_TOLERANCE))
def test_float_files_match_the_keras_model(lightning_export, single_person_inputs, keras_outputs, fmt):
    predictor = load_predictor(path_of(lightning_export, fmt))
    assert predictor.kind == {"saved_model": "saved_model", "onnx": "onnx", "tflite_heads_fp16": "tflite_heads"}.get(
        fmt, "tflite")
    outputs = predictor(single_person_inputs)
    assert outputs.shape == keras_outputs.shape == (16, 1, 17, 3)
    np.testing.assert_allclose(outputs, keras_outputs, rtol=0, atol=FLOAT_TOLERANCE[fmt])


@pytest.mark.slow
def test_int8_keypoints_stay_close_to_the_keras_model(lightning_export, single_person_inputs, keras_outputs):
    outputs = load_predictor(path_of(lightning_export, "tflite_int8"))(single_person_inputs)
    assert np.abs(outputs[..., :2] - keras_outputs[..., :2]).mean() < 0.02


def _ops(path):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    return interpreter._get_ops_details(), tensors


@pytest.mark.slow
def test_fp16_file_stores_float16_weights(lightning_export):
    ops, tensors = _ops(path_of(lightning_export, "tflite_fp16"))
    producer = {out: op for op in ops for out in op["outputs"]}
    convs = [op for op in ops if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert len(convs) == 74
    for op in convs:
        dequantize = producer[op["inputs"][1]]
        assert dequantize["op_name"] == "DEQUANTIZE"
        assert tensors[dequantize["inputs"][0]]["dtype"] == np.float16


@pytest.mark.slow
def test_int8_file_is_integer_up_to_the_float_heads(lightning_export):
    """Backbone and FPN: int8 activations, per-channel int8 weights. Heads and decoding: float32 (int8.float_parts)."""
    ops, tensors = _ops(path_of(lightning_export, "tflite_int8"))
    convs = [op for op in ops if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    heads = ("center_0", "kpt_heatmap_0", "kpt_regress_0", "kpt_offset_0")
    in_heads = [op for op in convs if any(h in tensors[op["outputs"][0]]["name"] for h in heads)]
    assert len(in_heads) == 12  # per head: depthwise, pointwise, output conv
    for op in convs:
        activation, weights = tensors[op["inputs"][0]], tensors[op["inputs"][1]]
        expected = np.float32 if op in in_heads else np.int8
        assert activation["dtype"] == weights["dtype"] == expected, tensors[op["outputs"][0]]["name"]
        if op not in in_heads:
            assert len(weights["quantization_parameters"]["scales"]) == weights["shape"][3 if op["op_name"] == "DEPTHWISE_CONV_2D" else 0] > 1
    for op in ops:
        if op["op_name"] in ("LOGISTIC", "ARG_MAX", "SQRT", "DIV"):
            assert tensors[op["inputs"][0]]["dtype"] == np.float32, op["op_name"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tflite_heads_fp16", "tflite_heads_int8", "onnx"])
def test_heads_only_signature(lightning_export, fmt):
    signature = lightning_export[1]["files"][fmt]["signature"]
    (runner,) = signature.values()
    assert runner["inputs"] == {"input": {"dtype": "uint8", "shape": [1, 192, 192, 3]}}
    channels = {"center": 1, "keypoint_heatmap": 17, "keypoint_regression": 34, "keypoint_offset": 34}
    dtype = "int8" if fmt.endswith("int8") else "float32"
    assert runner["outputs"] == {key: {"dtype": dtype, "shape": [1, 48, 48, channels[key]]} for key in HEAD_KEYS}


@pytest.mark.slow
def test_heads_int8_file_is_integer_everywhere(lightning_export):
    """Every tensor an op reads or writes is integer: uint8 pixels in, int8 logits out, no float op anywhere."""
    from ai_edge_litert.interpreter import Interpreter

    path = path_of(lightning_export, "tflite_heads_int8")
    ops, tensors = _ops(path)
    convs = [op for op in ops if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert len(convs) == 74  # the whole network, heads included
    for op in ops:
        for index in [*op["inputs"], *op["outputs"]]:
            if index >= 0:
                assert tensors[index]["dtype"] in (np.int8, np.uint8, np.int32), (op["op_name"], tensors[index]["name"])
    assert not {op["op_name"] for op in ops} & {"CAST", "DEQUANTIZE", "ARG_MAX", "GATHER_ND", "LOGISTIC"}
    interpreter = Interpreter(model_path=path)
    (inp,) = interpreter.get_input_details()
    assert (inp["dtype"], inp["quantization"]) == (np.uint8, (1.0, 0))  # the camera's pixels as they are
    for out in interpreter.get_output_details():
        assert out["dtype"] == np.int8 and out["quantization"][0] > 0


@pytest.mark.slow
def test_heads_int8_ap_is_close_to_the_float_model(lightning_export, single_person_inputs, keras_outputs):
    _, report = lightning_export
    assert report["files"]["tflite_heads_int8"]["AP"]["AP"] >= report["keras"]["AP"]["AP"] - 0.03
    outputs = load_predictor(path_of(lightning_export, "tflite_heads_int8"))(single_person_inputs)
    assert np.abs(outputs[..., :2] - keras_outputs[..., :2]).mean() < 0.02


@pytest.mark.slow
def test_int8_export_beats_the_released_int8_file(lightning_export):
    require_shared(TFLITE_INT8_LIGHTNING)
    options = dict(annotations=str(ANNOTATIONS), images=str(IMAGES), protocol="single_person", crop="none", progress=False)
    ours = evaluate(load_predictor(path_of(lightning_export, "tflite_int8")), **options)
    google = evaluate(load_predictor(str(TFLITE_INT8_LIGHTNING)), **options)
    assert ours["num_images"] == google["num_images"] == 16
    assert ours["AP"] > google["AP"]
    _, report = lightning_export
    assert report["files"]["tflite_int8"]["AP"]["AP"] == pytest.approx(ours["AP"])


@pytest.mark.slow
def test_report_ap_of_the_float_files_is_the_released_models(lightning_export):
    _, report = lightning_export
    assert report["keras"]["AP"]["AP"] == pytest.approx(RELEASED_FLOAT_LIGHTNING_AP, abs=5e-4)
    for fmt in ("saved_model", "tflite_fp32", "tflite_fp16", "tflite_heads_fp16", "onnx"):
        assert report["files"][fmt]["AP"]["AP"] == pytest.approx(RELEASED_FLOAT_LIGHTNING_AP, abs=5e-4)


@pytest.mark.slow
def test_existing_output_is_kept_without_overwrite(lightning_export):
    output, _ = lightning_export
    before = (output / REPORT_FILE).stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="overwrite=true"):
        run(compose_export(sample_overrides(output)))
    assert (output / REPORT_FILE).stat().st_mtime_ns == before


def test_staging_folder_is_all_or_nothing(tmp_path):
    output = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic.staging_folder(output) as staging:
            (tmp_path / "marker").write_text("")
            open(os.path.join(staging, "half_written.tflite"), "w").close()
            raise RuntimeError("conversion failed")
    assert sorted(os.listdir(tmp_path)) == ["marker"]
    with atomic.staging_folder(output) as staging:
        open(os.path.join(staging, "old"), "w").close()
    with pytest.raises(FileExistsError):
        with atomic.staging_folder(output):
            pass
    with atomic.staging_folder(output, overwrite=True) as staging:
        open(os.path.join(staging, "new"), "w").close()
    assert sorted(os.listdir(output)) == ["new"]
    assert sorted(os.listdir(tmp_path)) == ["marker", "out"]


@pytest.fixture(scope="module")
def multipose(tmp_path_factory):
    """(SavedModel path, Keras predictor) of the imported released MultiPose, the SavedModel written once."""
    require_shared(TFJS["multipose_lightning"])
    from movenet_train.export.saved_model import write_saved_model

    model, spec = import_released(TFJS["multipose_lightning"])
    path = write_saved_model(model, spec, str(tmp_path_factory.mktemp("multipose") / "saved_model"))
    return path, KerasPredictor(model, spec), model, spec


@pytest.mark.slow
def test_multipose_saved_model_takes_multiples_of_32(multipose):
    path, keras, _, _ = multipose
    exported = load_predictor(path)
    assert exported.multi_pose
    image = load_rgb(IMAGES / "000000000785.jpg")
    for height, width in [(256, 256), (256, 160), (160, 256)]:
        x = model_input(image, height, width)[None]
        out = exported(x)
        assert out.shape == (1, 6, 56)
        np.testing.assert_allclose(out, keras(x), rtol=0, atol=1e-4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="multiples of 32"):
        exported(np.zeros([1, 250, 256, 3], np.uint8))


@pytest.mark.slow
def test_multipose_tflite_takes_any_size_as_googles_file(multipose, tmp_path):
    """Input ``[1, 1, 1, 3]`` with shape signature ``[1, -1, -1, 3]``; apps resize it (``resize_tensor_input``)."""
    from ai_edge_litert.interpreter import Interpreter

    from movenet_train.export import tflite

    saved_model_path, _, model, spec = multipose
    path = tmp_path / "multipose_fp32.tflite"
    path.write_bytes(tflite.convert(tflite.write_source(model, spec, str(tmp_path / "source")), spec, "fp32"))
    interpreter = Interpreter(model_path=str(path))
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert (inp["dtype"], list(inp["shape"]), list(inp["shape_signature"])) == (np.uint8, [1, 1, 1, 3], [1, -1, -1, 3])
    assert list(out["shape_signature"]) == [1, 6, 56]
    image = load_rgb(IMAGES / "000000000785.jpg")
    reference = load_predictor(saved_model_path)
    for height, width in [(256, 256), (256, 160), (480, 288)]:
        x = model_input(image, height, width)[None]
        interpreter.resize_tensor_input(inp["index"], x.shape)  # what an app does, without load_predictor
        interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        np.testing.assert_allclose(interpreter.get_tensor(out["index"]), reference(x), rtol=0, atol=1e-4)
    with pytest.raises(UserError, match="multiples of 32"):
        load_predictor(str(path))(np.zeros([1, 250, 256, 3], np.uint8))


@pytest.mark.slow
def test_multipose_heads_only_file_decodes_like_the_saved_model(multipose, tmp_path):
    """Box heads included, any multiple-of-32 size, decoded by decode_numpy inside load_predictor."""
    from movenet_train.export import heads, tflite

    saved_model_path, _, model, spec = multipose
    source = heads.write_heads_source(model, spec, str(tmp_path / "heads"))
    path = tmp_path / "multipose_heads_fp16.tflite"
    path.write_bytes(tflite.convert(source, spec, "fp16", heads_only=True))
    predictor, reference = load_predictor(str(path)), load_predictor(saved_model_path)
    assert predictor.kind == "tflite_heads" and predictor.multi_pose
    assert sorted(predictor.heads) == sorted([*HEAD_KEYS, "box_scale", "box_offset"])
    image = load_rgb(IMAGES / "000000000785.jpg")
    for height, width in [(256, 256), (256, 160)]:
        x = model_input(image, height, width)[None]
        out, expected = predictor(x), reference(x)
        people = expected[0, :, 55] > 0.2
        assert people.sum() >= 1
        np.testing.assert_allclose(out[0, people], expected[0, people], rtol=0, atol=5e-3)


def test_bad_options_are_named():
    with pytest.raises(UserError, match="tflite_int9"):
        exporter.check_formats(["saved_model", "tflite_int9"])
    with pytest.raises(UserError, match="calibration.annotations"):
        exporter.tflite.check_int8_options(None, ["decoding"])
    with pytest.raises(UserError, match="int8.float_parts.*tail"):
        exporter.tflite.check_int8_options(np.zeros([1, 8, 8, 3], np.uint8), ["tail"])
    calibration = OmegaConf.create({"records": None, "annotations": None, "images": None, "num_images": 4})
    assert calibration_images(calibration, 192, 192, schema=COCO_17) == (None, [])
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        calibration_images(OmegaConf.merge(calibration, {"records": "/nothing-here/*.tfrecord"}), 192, 192,
                           schema=COCO_17)
    with pytest.raises(UserError, match="calibration.images"):
        calibration_images(OmegaConf.merge(calibration, {"annotations": str(ANNOTATIONS)}), 192, 192, schema=COCO_17)
    with pytest.raises(UserError, match="num_images"):
        calibration_images(OmegaConf.merge(calibration, {"num_images": 0}), 192, 192, schema=COCO_17)


def test_tfjs_without_tensorflowjs_is_a_clear_error(monkeypatch):
    from movenet_train.export import tfjs_export

    real = tfjs_export.importlib.util.find_spec
    monkeypatch.setattr(tfjs_export.importlib.util, "find_spec", lambda name: None if name == "tensorflowjs" else real(name))
    with pytest.raises(UserError, match="pip install --no-deps tensorflowjs"):
        exporter.check_formats(["saved_model", "tfjs"])


@pytest.mark.slow
def test_command_line(tmp_path):
    composed = subprocess.run([sys.executable, "export/export.py", "+exp=thunder", "checkpoint=x", "output=y",
                               "formats=[tflite_int8]", "--cfg", "job"], cwd=REPO, capture_output=True, text=True,
                              timeout=120)
    assert composed.returncode == 0, composed.stderr
    assert "alpha: 1.75" in composed.stdout and "- tflite_int8" in composed.stdout
    (tmp_path / "taken").mkdir()
    refused = subprocess.run([sys.executable, "export/export.py", "checkpoint=x", f"output={tmp_path / 'taken'}"],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "overwrite=true" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.slow
def test_latency_bench_runs_both_files(lightning_export):
    require_shared(TFLITE_INT8_LIGHTNING)
    spec = importlib.util.spec_from_file_location("latency", REPO / "bench" / "latency.py")
    latency = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(latency)
    files = [path_of(lightning_export, "tflite_int8"), str(TFLITE_INT8_LIGHTNING),
             path_of(lightning_export, "tflite_heads_int8"), path_of(lightning_export, "onnx")]
    rows = latency.main([*files, "--runs", "10", "--warmup", "1", "--threads", "1", "2"])
    assert [(r["file"], r["threads"]) for r in rows] == [(f, t) for t in (1, 2) for f in files]
    assert all(r["median_ms"] > 0 and r["runs"] == 10 and r["input"] == [1, 192, 192, 3] for r in rows)

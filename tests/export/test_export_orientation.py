"""Export ``orientation=any``: drop-in files with the quarter-turn search inside the graph.

The imported released Lightning is exported to FP16 and INT8 TFLite (and a SavedModel) with the search behind the
released signature, INT8 calibrated on the COCO sample's 39 images that eval does not score, and run on the
sample's 16 single-person images turned by 90, 180 and 270 degrees (``rotate_coco``). The reference is the Python
search (``OrientationSearch``) over the Keras model on the same letterboxed inputs: the turn each file picked (the
view whose turned-back Keras keypoints are nearest its output) and its keypoints, within the tolerances
test_export.py uses against the Keras model (FP16 5e-3, INT8 mean keypoint difference below 0.02).

INT8 moves keypoints, and with them upright scores, enough to flip the search's closest calls (such as two
turned views within 0.01 of each other, or an upright score just over the gate): 47 of the 48 turned images get
the search's turn in one measurement, 48 in another (a 2-core VM with AVX-512 VNNI; 44 with 16 calibration images),
and the Python search over the plain INT8 file of the same calibration gets it on 48 (44). So ``SAME_TURN`` (98%)
is asserted for the float files and INT8 is held to the lower figure (``INT8_SAME_TURN``); on the export report's 39
calibration images (crowds, people cut off) INT8 gets 34 (``INT8_REPORT_AGREE``), and 98% there is an expected
failure, strict, so that reaching it shows. The in-graph search itself is exact: the FP16 ``any`` file gives what
the Python search over the plain FP16 file gives (bit for bit in the runs so far).
"""

import json

import numpy as np
import pytest

from movenet_train.data.rotate import rotate_coco
from movenet_train.errors import UserError
from movenet_train.export import exporter, report
from movenet_train.export.serving import check_serving_orientation
from movenet_train.jobs.export import run, summary
from movenet_train.keypoints import COCO_17
from movenet_train.modeling import MoveNetSpec
from movenet_train.orientation import OrientationSearch, nearest_turns, turned_back_views
from movenet_train.preprocessing import load_rgb, model_input
from movenet_train.pretrained import import_released
from movenet_train.runtime import KerasPredictor, load_predictor
from tests.export.test_export import ANNOTATIONS, IMAGES, TFLITE_FORMATS, _interface, compose_export, sample_overrides
from tests.helpers import TFJS, TFLITE_INT8_LIGHTNING, require_shared

FORMATS = ["saved_model", "tflite_fp16", "tflite_int8"]
ANGLES = (90, 180, 270)
SAME_TURN = 0.98  # share of the turned images on which a file picks the Python search's turn
INT8_SAME_TURN = 47 / 48  # INT8 (module docstring): 47 and 48 of 48 measured
# INT8 on the export report's 39 calibration images: 34 measured (AVX-512 VNNI); two images of room, as the turned
# images' figure moved by one between measurements
INT8_REPORT_AGREE = 32
FP16_TOLERANCE = 5e-3  # test_export.FLOAT_TOLERANCE["tflite_fp16"]
INT8_MEAN_TOLERANCE = 0.02  # test_export.test_int8_keypoints_stay_close_to_the_keras_model
LIGHTNING = MoveNetSpec("lightning", 1.0, 192)
MULTIPOSE = MoveNetSpec("multipose_lightning", 1.0, 256, multi_pose=True)


@pytest.fixture(scope="module")
def any_export(tmp_path_factory):
    """(output folder, report) of the released Lightning exported with orientation=any."""
    require_shared(TFJS["lightning"], ANNOTATIONS, IMAGES)
    output = tmp_path_factory.mktemp("export_any") / "lightning_any"
    overrides = [o for o in sample_overrides(output, FORMATS) if not o.startswith("calibration.num_images")]
    report_ = run(compose_export([*overrides, "orientation=any"]))  # calibration: every image eval leaves out
    assert report_["calibration"]["num_images"] == 39
    return output, report_


@pytest.fixture(scope="module")
def plain_fp16(tmp_path_factory):
    """The plain (upright) FP16 file of the released Lightning."""
    require_shared(TFJS["lightning"])
    output = tmp_path_factory.mktemp("export_plain") / "lightning"
    report_ = run(compose_export([f"checkpoint={TFJS['lightning']}", f"output={output}", "formats=[tflite_fp16]",
                                  "latency.runs=0"]))
    return str(output / report_["files"]["tflite_fp16"]["path"])


@pytest.fixture(scope="module")
def turned_inputs(tmp_path_factory):
    """Letterboxed uint8 ``[48, 192, 192, 3]``: the 16 single-person images turned by 90, 180 and 270 degrees."""
    require_shared(ANNOTATIONS, IMAGES)
    with open(ANNOTATIONS) as f:
        data = json.load(f)
    per_image = {}
    for ann in data["annotations"]:
        per_image.setdefault(ann["image_id"], []).append(ann)
    ids = [image["id"] for image in data["images"] if len(per_image.get(image["id"], [])) == 1  # as single_person
           and not per_image[image["id"]][0]["iscrowd"] and per_image[image["id"]][0]["num_keypoints"] > 0]
    assert len(ids) == 16
    folder = tmp_path_factory.mktemp("turned") / "coco_turned"
    annotations = rotate_coco(ANNOTATIONS, IMAGES, str(folder), angles=ANGLES, image_ids=ids, schema=COCO_17)
    with open(annotations) as f:
        names = [image["file_name"] for image in json.load(f)["images"]]
    assert len(names) == 48
    return np.stack([model_input(load_rgb(folder / "images" / name), 192, 192) for name in names])


@pytest.fixture(scope="module")
def keras_search(turned_inputs):
    """(search outputs, search turns, every view's keypoints turned back) of the Python search over Keras."""
    require_shared(TFJS["lightning"])
    keras = KerasPredictor(*import_released(TFJS["lightning"]))
    search = OrientationSearch(keras, align=False)
    outputs = search(turned_inputs)
    return outputs, search.last_turns.copy(), turned_back_views(keras, turned_inputs)


def _path(any_export, fmt):
    output, report_ = any_export
    return str(output / report_["files"][fmt]["path"])


@pytest.mark.slow
def test_files_are_named_and_reported(any_export):
    output, report_ = any_export
    assert report_["orientation"] == "any"
    assert {fmt: entry["path"] for fmt, entry in report_["files"].items()} == {
        "saved_model": "saved_model_any", "tflite_fp16": "movenet_lightning_any_fp16.tflite",
        "tflite_int8": "movenet_lightning_any_int8.tflite"}
    with open(output / report.REPORT_FILE) as f:
        assert json.load(f)["orientation"] == "any"
    for fmt in ("tflite_fp16", "tflite_int8"):
        entry = report_["files"][fmt]
        assert entry["latency"]["runs"] == report.LATENCY_RUNS and entry["latency"]["warmup"] == report.LATENCY_WARMUP
        assert entry["latency"]["median_ms"] > 0
        assert entry["parity"]["turns"]["num_images"] == report_["parity_inputs"]["num_images"] == 39
    assert "latency" not in report_["files"]["saved_model"]
    print()
    print(summary(report_, output))  # sizes and latencies, for the record (-s)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tflite_fp16", "tflite_int8"])
def test_tflite_signature_is_googles(any_export, fmt):
    """uint8 ``[1, 192, 192, 3]`` in, float32 ``[1, 1, 17, 3]`` out: the released int8 file's interface."""
    signature = any_export[1]["files"][fmt]["signature"]
    assert signature == {"serving_default": {"inputs": {"input": {"dtype": "uint8", "shape": [1, 192, 192, 3]}},
                                             "outputs": {"output_0": {"dtype": "float32", "shape": [1, 1, 17, 3]}}}}
    require_shared(TFLITE_INT8_LIGHTNING)
    assert _interface(_path(any_export, fmt)) == _interface(TFLITE_INT8_LIGHTNING)


@pytest.mark.slow
def test_saved_model_signature_is_the_released_one(any_export):
    assert any_export[1]["files"]["saved_model"]["signature"] == {"serving_default": {
        "inputs": {"input": {"dtype": "int32", "shape": [1, 192, 192, 3]}},
        "outputs": {"output_0": {"dtype": "float32", "shape": [1, 1, 17, 3]}}}}


def _same_turn(any_export, turned_inputs, keras_search, fmt):
    """(share of the turned images on which the file picks the Python search's turn, mask, file outputs)."""
    expected, turns, views = keras_search
    assert len(set(turns)) >= 3  # the turned people need the search: most views are not the upright one
    outputs = load_predictor(_path(any_export, fmt))(turned_inputs)
    assert outputs.shape == (48, 1, 17, 3)
    same = nearest_turns(outputs, views) == turns
    return same.mean(), same, outputs


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["saved_model", "tflite_fp16"])
def test_float_files_pick_the_python_searchs_turn_on_turned_people(any_export, turned_inputs, keras_search, fmt):
    share, same, outputs = _same_turn(any_export, turned_inputs, keras_search, fmt)
    assert share >= SAME_TURN
    tolerance = 1e-4 if fmt == "saved_model" else FP16_TOLERANCE  # test_export.FLOAT_TOLERANCE
    np.testing.assert_allclose(outputs[same], keras_search[0][same], rtol=0, atol=tolerance)


@pytest.mark.slow
def test_int8_file_picks_the_python_searchs_turn_on_most_turned_people(any_export, turned_inputs, keras_search):
    share, same, outputs = _same_turn(any_export, turned_inputs, keras_search, "tflite_int8")
    print(f"\nINT8 any file: same turn as the Python search over Keras on {same.sum()}/{len(same)} turned images")
    assert share >= INT8_SAME_TURN
    assert np.abs(outputs[same] - keras_search[0][same])[..., :2].mean() < INT8_MEAN_TOLERANCE


@pytest.mark.slow
def test_fp16_any_file_is_the_python_search_over_the_plain_file(any_export, plain_fp16, turned_inputs):
    """The in-graph search decides and turns back as ``OrientationSearch`` does: same network, same outputs (bit
    for bit in the runs so far; float32 and float64 arithmetic could part within 1e-7 of a tie)."""
    search = OrientationSearch(load_predictor(plain_fp16), align=False)
    expected = search(turned_inputs)
    outputs = load_predictor(_path(any_export, "tflite_fp16"))(turned_inputs)
    np.testing.assert_allclose(outputs, expected, rtol=0, atol=1e-6)
    assert len(set(search.last_turns)) == 4


@pytest.mark.slow
def test_report_parity_is_against_the_python_search(any_export):
    """On the 39 calibration images (crowds, people cut off: many upright scores near the gate), the float files
    pick the search's turn on every image; INT8's scores move enough to cross the gate on some: held to what was
    measured (``INT8_REPORT_AGREE``), the goal (98%) an expected failure below."""
    files = any_export[1]["files"]
    assert files["saved_model"]["parity"]["keypoint_max"] < 1e-4
    assert files["tflite_fp16"]["parity"]["keypoint_max"] < FP16_TOLERANCE
    for fmt in ("saved_model", "tflite_fp16"):
        turns = files[fmt]["parity"]["turns"]
        assert turns["agree"] == turns["num_images"] == 39 and turns["file"] == turns["reference"]
    int8 = files["tflite_int8"]["parity"]["turns"]
    print(f"\nINT8 any file, export report: same turn as the Python search on {int8['agree']}/39 calibration images, "
          f"turns {int8['file']} vs {int8['reference']}")
    assert int8["agree"] >= INT8_REPORT_AGREE


@pytest.mark.slow
@pytest.mark.xfail(reason="INT8 flips the search's closest calls on the calibration images: 34/39 measured "
                   "(INT8_REPORT_AGREE); goal not met", strict=True)  # strict: reaching the goal fails it: drop me
def test_int8_report_parity_reaches_98_percent(any_export):
    turns = any_export[1]["files"]["tflite_int8"]["parity"]["turns"]
    assert turns["agree"] >= SAME_TURN * turns["num_images"]


def test_any_names_differ_from_the_plain_ones():
    for fmt in exporter.ORIENTATION_FORMATS:
        assert exporter.file_name(LIGHTNING, fmt, "any") != exporter.file_name(LIGHTNING, fmt)
    assert exporter.file_name(LIGHTNING, "tflite_int8", "any") == "movenet_lightning_any_int8.tflite"
    assert set(TFLITE_FORMATS) <= set(exporter.ORIENTATION_FORMATS)


def test_bad_orientation_options_name_the_key():
    with pytest.raises(UserError, match="orientation=any.*tflite_heads_int8, onnx.*orientation=upright"):
        exporter.check_formats(["tflite_int8", "tflite_heads_int8", "onnx"], "any")
    with pytest.raises(UserError, match="orientation='sideways'"):
        exporter.check_formats(["tflite_int8"], "sideways")
    with pytest.raises(UserError, match="orientation=any.*multi-pose.*orientation=upright"):
        check_serving_orientation(MULTIPOSE, "any")
    assert check_serving_orientation(MULTIPOSE, "upright") == "upright"
    assert exporter.check_formats(["tflite_int8"], "any") == ["tflite_int8"]


def test_the_export_config_documents_orientation_and_latency():
    cfg = compose_export(["checkpoint=x", "output=y"])
    assert cfg.orientation == "upright"
    assert (cfg.latency.runs, cfg.latency.warmup) == (report.LATENCY_RUNS, report.LATENCY_WARMUP)


def test_latency_helper_times_every_predictor_in_turns():
    calls = []

    def predictor(name):
        return lambda image: calls.append(name)

    image = np.zeros([1, 8, 8, 3], np.uint8)
    figures = report.latency([predictor("a"), predictor("b")], image, runs=30, warmup=3)
    assert [f["runs"] for f in figures] == [30, 30] and all(f["median_ms"] >= 0 for f in figures)
    assert calls[:6] == ["a"] * 3 + ["b"] * 3  # warm-ups, then rounds of 3 calls each
    assert calls[6:12] == ["a"] * 3 + ["b"] * 3 and len(calls) == 66


def test_summary_shows_orientation_latency_and_turns():
    result = {"model": "lightning", "orientation": "any", "files": {"tflite_int8": {
        "path": "movenet_lightning_any_int8.tflite", "megabytes": 2.93,
        "latency": {"median_ms": 7.5, "runs": 30, "warmup": 3, "num_threads": 2},
        "parity": {"num_poses": 16, "keypoint_max": 0.5, "keypoint_mean": 0.02,
                   "turns": {"agree": 16, "num_images": 16}}}}}
    text = summary(result, "out")
    assert "orientation=any" in text and "7.50 ms" in text and "same turn 16/16" in text and "2 threads" in text

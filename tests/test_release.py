"""The release bundle (``python -m movenet_train.release``, movenet_train/release): the drop-in files of a tiny
model, each loaded back through load_predictor; MODEL_CARD.md whose figures are metrics.json's; sizes and sha256
that are the files'; one ``error:`` line, and nothing written, for a run folder without a model or an existing
output."""

import hashlib
import json
import os
import re
import time

import numpy as np
import pytest
from omegaconf import OmegaConf

from movenet_train.errors import UserError
from movenet_train.release import bundle, card
from tests.test_error_battery import assert_user_error
from tests.in_process import run_main

# The tiny bundle holds the one format whose path the others share (the exporter's uint8 source, conversion,
# calibration, LiteRT): every exported SavedModel or .tflite costs 15-20 s of CPU to trace or convert, whatever the
# model's width, so that one file keeps the test within a minute. Both orientations and a folder format going into
# one bundle are checked on stand-in exports below.
TINY_FILES = {"movenet_tiny_int8.tflite"}
OTHER_FILES = {"keypoints.json", "export_report.json"}
RECIPE = {"model": {"name": "tiny", "alpha": 0.35, "input_size": 128}, "keypoints": {"name": "coco17"},
          "data": {"name": "synthetic"}, "seed": 42,
          "train": {"steps": 7, "batch_size": 2, "optimizer": {"type": "adamw", "learning_rate": 0.01}}}
NUMBER = r"([+-]?\d+\.\d+)"
INTERVAL = re.compile(rf"^{NUMBER} \[{NUMBER}, {NUMBER}\]$")


def release(*overrides):
    from movenet_train.jobs.release import main

    return run_main(main, *overrides, program="movenet_train.release")


# -- the error lines: no model is built, nothing is written ----------------------------------------------------

def test_a_run_folder_without_a_model_is_assert_user_error(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)  # a run stopped before its first checkpoint and validation
    (run / "train_config.yaml").write_text(OmegaConf.to_yaml(RECIPE))
    line = assert_user_error(release(f"checkpoint={run}", f"output={tmp_path / 'bundle'}"), run, "holds no model",
                          "model/")
    assert "checkpoints/ckpt-N" in line
    assert sorted(os.listdir(tmp_path)) == ["run"]


def test_a_folder_without_any_model_is_assert_user_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_user_error(release(f"checkpoint={empty}", f"output={tmp_path / 'bundle'}"), empty, "holds no model")
    assert sorted(os.listdir(tmp_path)) == ["empty"]


def test_an_existing_output_is_one_error_line_and_is_kept(tmp_path):
    output = tmp_path / "bundle"
    output.mkdir()
    (output / "MODEL_CARD.md").write_text("an earlier release\n")
    # checked first: the model (absent here) is not even looked at
    assert_user_error(release(f"checkpoint={tmp_path / 'absent'}", f"output={output}"), output, "overwrite=true")
    assert sorted(os.listdir(tmp_path)) == ["bundle"]
    assert (output / "MODEL_CARD.md").read_text() == "an earlier release\n"


def test_a_missing_reference_is_assert_user_error(tmp_path):
    model = tmp_path / "model.tflite"
    model.write_bytes(b"not read: the references are checked first")
    assert_user_error(release(f"checkpoint={model}", f"output={tmp_path / 'bundle'}",
                           f"references=[{tmp_path / 'google.tflite'}]"), tmp_path / "google.tflite", "references=[]")
    assert sorted(os.listdir(tmp_path)) == ["model.tflite"]


def test_tfjs_without_its_converter_is_left_out_and_said(monkeypatch):
    from movenet_train.export import tfjs_export

    def absent():
        raise UserError("formats=[...,tfjs] needs the optional tensorflowjs package")

    monkeypatch.setattr(tfjs_export, "converter", absent)
    formats, left_out = bundle.drop_in_formats(["saved_model", "tflite_int8", "tfjs"])
    assert formats == ["saved_model", "tflite_int8"]
    assert list(left_out) == ["tfjs"] and tfjs_export.INSTALL in left_out["tfjs"]
    text = card.render({**_minimal_metrics(), "left_out": left_out})
    assert "`tfjs` is not in this bundle: the tensorflowjs converter is not installed" in text
    assert "left out: `tfjs`" in text


def test_a_bundle_without_evaluation_or_latency_says_so():
    text = card.render(_minimal_metrics())
    assert "Not evaluated: the bundle was made without `evaluation.annotations`" in text
    assert "Not measured (`latency.runs=0`)" in text
    assert "No training config (train_config.yaml) was found" in text


def test_both_orientations_and_a_folder_go_into_one_bundle(tmp_path, monkeypatch):
    """The upright and ``orientation=any`` exports (stand-ins for export_model, which tests/export runs for real)
    end up side by side in the bundle, with one schema file, both reports, and each file's size and sha256."""
    from movenet_train.export import exporter
    from movenet_train.modeling import MoveNetSpec

    def export_model(model, spec, output, formats, *args, orientation="upright", **kwargs):
        os.makedirs(output)
        files = {}
        for fmt in formats:
            name = exporter.file_name(spec, fmt, orientation)
            if fmt == "saved_model":
                os.makedirs(os.path.join(output, name, "variables"))
                for part, content in (("saved_model.pb", b"graph"), ("variables/variables.index", b"index")):
                    with open(os.path.join(output, name, part), "wb") as f:
                        f.write(content + orientation.encode())
            else:
                with open(os.path.join(output, name), "wb") as f:
                    f.write(f"{fmt} {orientation}".encode())
            files[fmt] = {"path": name, "signature": {}, "parity": {"keypoint_max": 1e-3}}
        for name in ("keypoints.json", "export_report.json"):
            with open(os.path.join(output, name), "w") as f:
                f.write(f"{name} {orientation}")
        return {"files": files}

    monkeypatch.setattr(exporter, "export_model", export_model)
    cfg = OmegaConf.create({"int8": {"float_parts": []}, "num_threads": None})
    spec = MoveNetSpec("tiny", 0.35, 128)
    upright = bundle._export_part(None, spec, str(tmp_path), "upright", ["saved_model", "tflite_fp16"], None, cfg, {})
    entries = {**upright, **bundle._export_part(None, spec, str(tmp_path), "any", ["tflite_int8"], None, cfg, {})}
    assert sorted(os.listdir(tmp_path)) == sorted(entries) == sorted(
        ["saved_model", "movenet_tiny_fp16.tflite", "movenet_tiny_any_int8.tflite", "keypoints.json",
         "export_report.json", "export_report_any.json"])
    assert (tmp_path / "keypoints.json").read_text() == "keypoints.json upright"
    assert (tmp_path / "export_report_any.json").read_text() == "export_report.json any"
    assert [entries[n]["orientation"] for n in ("saved_model", "movenet_tiny_any_int8.tflite")] == ["upright", "any"]
    assert entries["saved_model"]["sha256"] == _sha256sum_listing(tmp_path / "saved_model")
    assert entries["saved_model"]["bytes"] == len(b"graphupright") + len(b"indexupright")
    tflite = (tmp_path / "movenet_tiny_fp16.tflite").read_bytes()
    assert (entries["movenet_tiny_fp16.tflite"]["bytes"], entries["movenet_tiny_fp16.tflite"]["sha256"]) == (
        len(tflite), hashlib.sha256(tflite).hexdigest())


def _minimal_metrics():
    tensor = {"dtype": "uint8", "shape": [1, 192, 192, 3]}
    return {
        "model": {"name": "MoveNet lightning (x)", "variant": "lightning", "alpha": 1.0, "input_size": 192,
                  "quantization_aware": False, "keypoints": {"name": "coco17", "names": ["nose", "left_eye"]},
                  "checkpoint": "/x/model.json", "checkpoint_format": "tfjs", "checkpoint_sha256": "0" * 64,
                  "version": "0.1.0", "owners": None, "created": "2026-01-01 00:00 UTC"},
        "files": {"movenet_lightning_int8.tflite": {
            "role": "model", "format": "tflite_int8", "orientation": "upright", "bytes": 10, "megabytes": 0.0,
            "sha256": "1" * 64, "signature": {"serving_default": {
                "inputs": {"input": tensor}, "outputs": {"output_0": {"dtype": "float32", "shape": [1, 1, 2, 3]}}}}}},
        "left_out": {},
        "calibration": {"num_images": 2, "excluded_eval_images": 0, "images": ["a.jpg", "b.jpg"],
                        "source": {"images": "/x"}, "int8_float_parts": ["decoding", "heads"]},
        "training": None, "evaluation": None, "latency": None,
    }


# -- the bundle of a tiny model --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_release(tiny_dataset, tmp_path_factory):
    """(root, bundle folder, metrics.json, seconds of the command) of a release of an untrained tiny model
    (MobileNetV2 width 0.35, 128 px) with a training run's layout: its INT8 file, calibrated on 2 images, evaluated
    on the tiny synthetic set against its own run folder (the float Keras model), 3 latency runs per thread
    count."""
    from movenet_train.checkpoints import save_model_checkpoint
    from movenet_train.modeling import MoveNetSpec, build_model

    root = tmp_path_factory.mktemp("release")
    run = root / "run"
    spec = MoveNetSpec("tiny", 0.35, 128)
    save_model_checkpoint(build_model(spec), spec, run / "model")
    (run / "train_config.yaml").write_text(OmegaConf.to_yaml(RECIPE))
    source = tiny_dataset / "source"
    output = root / "bundle"
    start = time.perf_counter()
    result = release(f"checkpoint={run}", f"output={output}", "formats=[tflite_int8]", "any_formats=[]",
                     f"calibration.images={source / 'images'}",
                     "calibration.num_images=2", "calibration.exclude_eval_images=false",
                     f"evaluation.annotations={source / 'annotations.json'}", f"evaluation.images={source / 'images'}",
                     f"references=[{run}]", "evaluation.bootstrap.resamples=200", "latency.runs=3",
                     "latency.warmup=1", "card.owners=tester")
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert "release bundle written to" in result.stdout
    with open(output / bundle.METRICS_FILE) as f:
        return root, output, json.load(f), seconds


@pytest.mark.slow
def test_every_file_loads_through_load_predictor_and_gives_keypoints(tiny_release):
    from movenet_train.preprocessing import model_input
    from movenet_train.runtime import load_predictor

    root, output, metrics, _ = tiny_release
    assert sorted(os.listdir(root)) == ["bundle", "run"]  # no staging folder left beside it
    assert set(os.listdir(output)) == TINY_FILES | OTHER_FILES | {bundle.CARD_FILE, bundle.METRICS_FILE}
    assert set(metrics["files"]) == TINY_FILES | OTHER_FILES
    image = np.random.default_rng(1).integers(0, 256, [90, 160, 3], np.uint8)
    for name in TINY_FILES:
        predictor = load_predictor(str(output / name))
        keypoints = predictor(model_input(image, 128, 128)[None])
        assert keypoints.shape == (1, 1, 17, 3) and np.isfinite(keypoints).all(), name
        assert predictor.schema.name == "coco17"  # keypoints.json beside the files
        entry = metrics["files"][name]
        assert entry["check"]["output_shape"] == [1, 1, 17, 3], name
    assert metrics["files"]["movenet_tiny_int8.tflite"]["orientation"] == "upright"
    assert metrics["left_out"] == {}


def _sections(text):
    return {part.split("\n", 1)[0]: part for part in re.split(r"^## ", text, flags=re.M)[1:]}


def _table(section):
    """The first Markdown table of a section: [{header: cell}] per row."""
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]


def _name(cell):
    return cell.replace("reference ", "").strip("`")


@pytest.mark.slow
def test_the_card_figures_are_metrics_json(tiny_release):
    _, output, metrics, _ = tiny_release
    text = (output / bundle.CARD_FILE).read_text()
    assert text == card.render(metrics)  # rendered from metrics.json alone
    sections = _sections(text)
    assert list(sections) == ["Model details", "Model inputs/outputs", "Intended use and limitations",
                              "Training data and recipe", "Evaluation", "Latency", "Files"]
    assert "[1, 1, 17, 3]" in sections["Model inputs/outputs"] and "int32" in sections["Model inputs/outputs"]
    assert "| `train.steps` | `7` |" in sections["Training data and recipe"]
    assert "**Owners**: tester" in sections["Model details"]

    evaluation = metrics["evaluation"]
    assert evaluation["protocol"] == "every_person" and list(evaluation["references"]) == ["run"]
    rows = _table(sections["Evaluation"])
    assert [_name(r["file"]) for r in rows] == [*evaluation["files"], *evaluation["references"]]
    assert set(evaluation["files"]) == TINY_FILES
    for row in rows:
        name = _name(row["file"])
        entry = evaluation["files"].get(name) or evaluation["references"][name]
        for key in ("AP", "AP50", "AP75", "AR"):
            assert float(row[key]) == entry[key], (name, key)
        assert int(row["people"]) == entry["num_people"] == evaluation["num_people"] > 0
        if name in evaluation["files"]:
            versus = entry["versus"]["run"]
            low_high = INTERVAL.match(row["− `run` [95% interval]"])
            assert low_high, row
            assert [float(x) for x in low_high.groups()] == [versus["difference"], versus["low"], versus["high"]]
    assert f"({evaluation['num_images']} images, {evaluation['num_people']} people)" in sections["Evaluation"]

    latency = metrics["latency"]
    machine = latency["machine"]
    assert machine["cpu_model"] in sections["Latency"] and f"{machine['logical_cpus']} logical CPUs" in \
        sections["Latency"]
    rows = _table(sections["Latency"])
    assert {_name(r["file"]) for r in rows} == {n for n in TINY_FILES if n.endswith(".tflite")}
    for row in rows:
        for threads in ("1", "2"):
            column = f"{threads} thread{'s' if threads != '1' else ''} (ms)"
            assert float(row[column]) == latency["files"][_name(row["file"])][threads] > 0

    rows = _table(sections["Files"])
    assert [_name(r["file"]) for r in rows] == list(metrics["files"])
    for row in rows:
        entry = metrics["files"][_name(row["file"])]
        assert (int(row["bytes"]), float(row["MB"]), row["sha256"].strip("`")) == (
            entry["bytes"], entry["megabytes"], entry["sha256"])


def _sha256sum_listing(folder):
    """As ``cd folder && find . -type f | sort | xargs sha256sum`` (paths without ``./``), hashed."""
    lines = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                lines.append((os.path.relpath(path, folder), hashlib.sha256(f.read()).hexdigest()))
    return hashlib.sha256("".join(f"{sha}  {rel}\n" for rel, sha in sorted(lines)).encode()).hexdigest()


@pytest.mark.slow
def test_sizes_and_sha256_are_the_files_on_disk(tiny_release):
    _, output, metrics, seconds = tiny_release
    for name, entry in metrics["files"].items():
        path = output / name
        if path.is_dir():
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            sha256 = _sha256sum_listing(path)
        else:
            size, sha256 = path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest()
        assert (entry["bytes"], entry["sha256"]) == (size, sha256), name
    print(f"release of the tiny model: {seconds:.1f} s")

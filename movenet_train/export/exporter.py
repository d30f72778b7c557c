"""``export_model``: every requested format into a staging folder, each file run and compared, then moved into place."""

import json
import os
import tempfile
import time

import numpy as np

from movenet_train.atomic import check_output, staging_folder
from movenet_train.errors import UserError
from movenet_train.export import heads, onnx_export, report, saved_model, tfjs_export, tflite
from movenet_train.export.serving import check_serving_orientation
from movenet_train.orientation import check_orientation

FORMATS = ("saved_model", "tflite_fp32", "tflite_fp16", "tflite_int8", "tflite_heads_fp16", "tflite_heads_int8",
           "onnx", "tfjs")
DEFAULT_FORMATS = FORMATS[:4]
HEADS_PREFIX = "tflite_heads_"  # heads-only files: the network up to the head logits, decoded by decode_numpy
INT8_FORMATS = ("tflite_int8", "tflite_heads_int8")
PARITY_RANDOM_IMAGES = 4  # inputs of the parity check when no calibration image is given
# orientation=any: the formats whose graph holds the decoding, and so can hold the quarter-turn search after it.
ORIENTATION_FORMATS = ("saved_model", "tflite_fp32", "tflite_fp16", "tflite_int8")


def check_formats(formats, orientation="upright"):
    formats = list(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UserError(f"formats={formats}: expected a non-empty list of {', '.join(FORMATS)}")
    if len(set(formats)) != len(formats):
        raise UserError(f"formats={formats} names a format twice")
    if check_orientation(orientation) == "any":
        other = [f for f in formats if f not in ORIENTATION_FORMATS]
        if other:
            raise UserError(f"orientation=any puts the quarter-turn search inside the decoded graph, which "
                            f"{', '.join(other)} do not have (heads-only files stop at the head logits; TF.js files "
                            f"are checked through the importer of the released graphs): formats can be "
                            f"{', '.join(ORIENTATION_FORMATS)}; export the others with orientation=upright")
    if "onnx" in formats:
        try:
            import onnxruntime  # noqa: F401
            import tf2onnx  # noqa: F401
        except ImportError as err:
            raise UserError("formats=[...,onnx] needs the optional tf2onnx and onnxruntime packages: "
                            "pip install -e '.[onnx]'") from err
    if "tfjs" in formats:
        tfjs_export.converter()
    return formats


def file_name(spec, fmt, orientation="upright"):
    """``movenet_lightning_int8.tflite``, ``saved_model``, ...; ``orientation=any`` files carry ``any``
    (``movenet_lightning_any_int8.tflite``, ``saved_model_any``), so both kinds can share a folder."""
    any_ = "any_" if orientation == "any" else ""
    if fmt == "onnx":
        return f"movenet_{spec.name}_heads.onnx"
    if fmt.startswith("tflite_"):
        return f"movenet_{spec.name}_{any_}{fmt[len('tflite_'):]}.tflite"
    return f"{fmt}_any" if any_ else fmt  # saved_model/, tfjs/


def export_model(model, spec, output, formats=DEFAULT_FORMATS, calibration_images=None, float_parts=tflite.FLOAT_PARTS,
                 overwrite=False, eval_options=None, num_threads=None, extra_report=None, orientation="upright",
                 latency_runs=report.LATENCY_RUNS, latency_warmup=report.LATENCY_WARMUP):
    """Writes ``formats`` of the Keras ``model`` and ``export_report.json`` to ``output``; returns the report.

    ``calibration_images``: uint8 ``[N, H, W, 3]`` model inputs; INT8 calibrates on them, and every file is
    compared with the Keras model on them (on random inputs when there are none). ``eval_options``: keyword
    arguments of ``movenet_train.evaluation.evaluate`` (the eval config group); when they name data, the report
    has the AP of the Keras model and of each file. ``orientation="any"``: single-pose files with the quarter-turn
    search in their graph (``serving.ServingModule``), compared with ``OrientationSearch`` over the Keras model
    (and the turn each file picked with the search's). Every ``.tflite`` file's median latency
    (``report.latency``: ``latency_runs`` timed calls after ``latency_warmup``, ``num_threads`` LiteRT threads;
    ``latency_runs=0``: none) goes in the report.
    """
    from movenet_train.model_files import SCHEMA_FILE
    from movenet_train.orientation import OrientationSearch, nearest_turns, turned_back_views
    from movenet_train.runtime import KerasPredictor, load_predictor

    formats = check_formats(formats, orientation)
    check_serving_orientation(spec, orientation)
    check_output(os.path.abspath(output), overwrite)
    # A quantisation-aware model's decoded INT8 file uses its learned ranges; full-integer files (heads-only) are
    # calibrated in any case (the converter requires a representative set for them).
    calibrated = [fmt for fmt in INT8_FORMATS if fmt in formats and not (spec.qat and fmt == "tflite_int8")]
    if calibrated:
        tflite.check_int8_options(calibration_images, float_parts)
    parity_inputs = calibration_images
    if parity_inputs is None:
        size = spec.input_size
        parity_inputs = np.random.default_rng(0).integers(0, 256, [PARITY_RANDOM_IMAGES, size, size, 3], np.uint8)
    keras = KerasPredictor(model, spec)
    searching = orientation == "any"
    if searching:
        # The files hold the search: their reference is the Python search over the Keras model, and their AP is
        # measured on them as they are (no second search around them).
        keras = OrientationSearch(keras, align=False)  # the file does the quarter-turn search only
        eval_options = {**eval_options, "orientation": "upright"} if eval_options else eval_options
    reference = keras(parity_inputs)
    if searching:
        reference_turns = keras.last_turns.copy()
        views = turned_back_views(keras.predictor, parity_inputs)  # each turn's answer, to tell a file's choice
    evaluating = bool(eval_options and (eval_options.get("annotations") or eval_options.get("records")))

    schema = spec.schema
    result = {"model": spec.name, "input_size": spec.input_size, "multi_pose": spec.multi_pose,
              "keypoints": {"name": schema.name, "num_keypoints": schema.num_keypoints, "file": SCHEMA_FILE},
              "orientation": orientation, **(extra_report or {}), "int8_float_parts": list(float_parts), "files": {},
              "parity_inputs": {"images": "calibration" if calibration_images is not None else "random",
                                "num_images": len(parity_inputs)}}
    if evaluating:
        result["keras"] = {"AP": _ap(keras, eval_options)}
    timed = {}  # format -> predictor of the .tflite files, timed together at the end
    with staging_folder(output, overwrite) as staging, tempfile.TemporaryDirectory(dir=staging) as scratch:
        sources = _Sources(model, spec, scratch, orientation)
        # The exported graphs carry N but not the joints' names, flips or sigmas: eval, predict and the tracker read
        # them from this file beside the exported files.
        with open(os.path.join(staging, SCHEMA_FILE), "w") as f:
            json.dump(schema.to_dict(), f, indent=2)
        for fmt in formats:
            name = file_name(spec, fmt, orientation)
            path = os.path.join(staging, name)
            start = time.perf_counter()
            if fmt == "saved_model":
                sources.saved_model = saved_model.write_saved_model(model, spec, path, orientation=orientation)
            elif fmt == "tfjs":
                tfjs_export.convert(sources.tfjs(), path)
            elif fmt == "onnx":
                onnx_export.convert(sources.heads(), path)
            elif fmt.startswith(HEADS_PREFIX):
                precision = fmt[len(HEADS_PREFIX):]
                content = tflite.convert(sources.heads(integer=precision == "int8"), spec, precision,
                                         calibration_images, heads_only=True)
                with open(path, "wb") as f:
                    f.write(content)
            else:
                content = tflite.convert(sources.uint8(), spec, fmt[len("tflite_"):], calibration_images, float_parts)
                with open(path, "wb") as f:
                    f.write(content)
            entry = {"path": name, "bytes": report.size_of(path), "seconds": round(time.perf_counter() - start, 1)}
            entry["megabytes"] = round(entry["bytes"] / 1e6, 2)
            entry["signature"] = _signature(fmt, path)
            result["files"][fmt] = entry
            try:
                predictor = load_predictor(_runnable(fmt, path), num_threads=num_threads)
            except ValueError as err:
                if fmt != "tfjs":
                    raise
                # TF.js files run through the importer, which knows the released graphs' layout; a tensorflowjs
                # version that lays the graph out otherwise should not cost the user the other formats.
                entry["parity"] = {"error": f"cannot run {path}: {err}"}
                continue
            outputs = predictor(parity_inputs)
            entry["parity"] = report.parity(reference, outputs, spec.multi_pose, num_keypoints=schema.num_keypoints)
            if searching:
                entry["parity"]["turns"] = report.turn_agreement(reference_turns, nearest_turns(outputs, views))
            if evaluating:
                entry["AP"] = _ap(predictor, eval_options)
            if fmt.startswith("tflite_") and latency_runs:
                timed[fmt] = predictor
        if timed:
            times = report.latency(list(timed.values()), parity_inputs[:1], latency_runs, latency_warmup)
            for fmt, figures in zip(timed, times):
                result["files"][fmt]["latency"] = {**figures, "num_threads": num_threads}
        report.write_report(result, staging)
    return result


class _Sources:
    """SavedModels the other formats convert from, written once when first needed."""

    def __init__(self, model, spec, scratch, orientation="upright"):
        self.model, self.spec, self.scratch, self.orientation = model, spec, scratch, orientation
        self.saved_model = self.tflite_source = self.tfjs_source = None
        self.heads_sources = {}

    def tfjs(self):
        """The released (int32) signature without the multi-pose size check: TF.js has no Assert op."""
        if self.tfjs_source is None and self.saved_model is not None and not self.spec.multi_pose:
            self.tfjs_source = self.saved_model  # the same graph: single-pose inputs have no size check
        if self.tfjs_source is None:
            self.tfjs_source = saved_model.write_saved_model(self.model, self.spec, os.path.join(self.scratch, "tfjs"),
                                                             check_size=False)
        return self.tfjs_source

    def heads(self, integer=False):  # heads-only formats: the head logits out (heads.HeadsModule)
        if integer not in self.heads_sources:
            path = os.path.join(self.scratch, "heads_integer" if integer else "heads")
            self.heads_sources[integer] = heads.write_heads_source(self.model, self.spec, path, integer)
        return self.heads_sources[integer]

    def uint8(self):
        if self.tflite_source is None:
            self.tflite_source = tflite.write_source(self.model, self.spec, os.path.join(self.scratch, "uint8"),
                                                     self.orientation)
        return self.tflite_source


def _runnable(fmt, path):
    return os.path.join(path, "model.json") if fmt == "tfjs" else path


def _signature(fmt, path):
    if fmt == "saved_model":
        return report.saved_model_signature(path)
    if fmt == "tfjs":
        with open(_runnable(fmt, path)) as f:
            return json.load(f).get("signature")
    if fmt == "onnx":
        return report.onnx_signature(path)
    return report.tflite_signature(path)


def _ap(predictor, eval_options):
    from movenet_train.evaluation import evaluate

    return report.ap_summary(evaluate(predictor, **{**eval_options, "progress": False}))

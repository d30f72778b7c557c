"""``export_report.json``: size, signature, parity with the Keras model, latency (``.tflite``) and AP of every
exported file."""

import json
import os
import statistics
import time

import numpy as np

from movenet_train.modeling.outputs import POSE_SCORE_THRESHOLD, unpack

REPORT_FILE = "export_report.json"
AP_KEYS = ("AP", "AP50", "AP75", "AR", "num_images")
LATENCY_RUNS = 30  # timed calls per file (export's latency.runs)
LATENCY_WARMUP = 3  # untimed calls first (latency.warmup)
LATENCY_ROUNDS = 10  # the files take turns in this many rounds, as in bench/latency.py


def size_of(path):
    """Bytes of a file, or of every file of a folder."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files)


def _tensor(dtype, shape):
    return {"dtype": np.dtype(dtype).name, "shape": [-1 if d is None else int(d) for d in shape]}


def tflite_signature(path):
    """Signature key -> inputs and outputs (name, dtype, shape with -1 for dynamic axes), read by LiteRT."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    signatures = {}
    for key in interpreter.get_signature_list():
        runner = interpreter.get_signature_runner(key)
        signatures[key] = {
            side: {name: _tensor(d["dtype"], d["shape_signature"]) for name, d in details.items()}
            for side, details in (("inputs", runner.get_input_details()), ("outputs", runner.get_output_details()))
        }
    return signatures


def onnx_signature(path):
    """Inputs and outputs of an ONNX file (name, dtype, shape with -1 for dynamic axes), read by onnxruntime."""
    import onnxruntime

    dtypes = {"tensor(uint8)": "uint8", "tensor(int32)": "int32", "tensor(float)": "float32"}
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return {"onnx": {side: {t.name: {"dtype": dtypes.get(t.type, t.type),
                                     "shape": [d if isinstance(d, int) else -1 for d in t.shape]} for t in tensors}
                     for side, tensors in (("inputs", session.get_inputs()), ("outputs", session.get_outputs()))}}


def saved_model_signature(path):
    import tensorflow as tf

    signatures = {}
    for key, fn in tf.saved_model.load(str(path)).signatures.items():
        inputs = fn.structured_input_signature[1]
        signatures[key] = {
            "inputs": {name: _tensor(spec.dtype.as_numpy_dtype, spec.shape.as_list()) for name, spec in inputs.items()},
            "outputs": {name: _tensor(spec.dtype.as_numpy_dtype, spec.shape.as_list())
                        for name, spec in fn.structured_outputs.items()},
        }
    return signatures


def parity(reference, outputs, multi_pose=False, min_instance_score=POSE_SCORE_THRESHOLD, *, num_keypoints):
    """Deviation of decoded outputs from the reference's: normalised (y, x) keypoint coordinates and scores.

    Single-pose outputs are ``[B, 1, K, 3]``. Multi-pose outputs ``[B, 6, 3K + 5]`` list people by score, and an
    equal-scored pair can swap places, so each person the reference finds (instance score >= ``min_instance_score``)
    is compared with the nearest person of ``outputs``.
    """
    reference, outputs = np.asarray(reference, np.float64), np.asarray(outputs, np.float64)
    if multi_pose:
        reference, outputs = _matched_people(reference, outputs, min_instance_score, num_keypoints)
    ref = reference.reshape(-1, num_keypoints, 3)
    out = outputs.reshape(-1, num_keypoints, 3)
    if not len(ref):
        return {"num_images": int(len(np.asarray(reference))), "num_poses": 0}
    coords, scores = np.abs(ref[..., :2] - out[..., :2]), np.abs(ref[..., 2] - out[..., 2])
    return {"keypoint_max": float(coords.max()), "keypoint_mean": float(coords.mean()),
            "score_max": float(scores.max()), "score_mean": float(scores.mean()), "num_poses": int(len(ref))}


def _matched_people(reference, outputs, min_instance_score, num_keypoints):
    """(reference people, their nearest output people), keypoints only: ``[P, K, 3]`` each."""
    matched_ref, matched_out = [], []
    for ref_image, out_image in zip(reference, outputs):
        found = unpack(ref_image, num_keypoints, multi_pose=True).above(min_instance_score)
        candidates = unpack(out_image, num_keypoints, multi_pose=True).keypoints
        for person in found.keypoints:
            distance = np.abs(candidates[..., :2] - person[:, :2]).mean(axis=(1, 2))
            matched_ref.append(person)
            matched_out.append(candidates[np.argmin(distance)])
    shape = (-1, num_keypoints, 3)
    return np.array(matched_ref).reshape(shape), np.array(matched_out).reshape(shape)


def turn_agreement(reference_turns, file_turns):
    """How often an ``orientation=any`` file picked the turn the Python search picked, and the turns of each."""
    reference_turns, file_turns = np.asarray(reference_turns), np.asarray(file_turns)
    return {"agree": int((reference_turns == file_turns).sum()), "num_images": int(len(reference_turns)),
            "reference": np.bincount(reference_turns, minlength=4).tolist(),
            "file": np.bincount(file_turns, minlength=4).tolist()}


def latency(predictors, image, runs=LATENCY_RUNS, warmup=LATENCY_WARMUP, rounds=LATENCY_ROUNDS):
    """Median milliseconds of one call of each predictor on ``image`` (``[1, H, W, 3]``): ``warmup`` untimed calls,
    then ``runs`` (>= 1) timed ones, the predictors taking turns in ``rounds`` short rounds as ``bench/latency.py`` does
    (a load change on the machine hits all of them alike). The time is image in, decoded keypoints out, through
    ``load_predictor`` (heads-only files with their NumPy decoding). One dict per predictor."""
    for predictor in predictors:
        for _ in range(warmup):
            predictor(image)
    times = [[] for _ in predictors]
    rounds = max(1, min(rounds, runs))
    for r in range(rounds):
        calls = runs // rounds + (r < runs % rounds)  # `runs` calls in all
        for predictor, record in zip(predictors, times):
            for _ in range(calls):
                start = time.perf_counter()
                predictor(image)
                record.append(time.perf_counter() - start)
    return [{"median_ms": round(1e3 * statistics.median(t), 3), "runs": len(t), "warmup": warmup} for t in times]


def ap_summary(metrics):
    return {k: metrics[k] for k in AP_KEYS if k in metrics}


def write_report(report, directory):
    path = os.path.join(directory, REPORT_FILE)
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    return path

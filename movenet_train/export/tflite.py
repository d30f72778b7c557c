"""TFLite export: uint8 ``[1, H, W, 3]`` in, float32 out, as Google's released files; FP32, FP16 or INT8.

INT8 is post-training full-integer quantisation with per-channel weights, calibrated on real images. Parts of the
graph can stay in float32 (``float_parts``): with MoveNet's decoding tail (sigmoid, distance weighting, argmax)
in int8 the keypoints are lost (AP 0 on the COCO sample) and the file is slower, and int8 heads cost AP as well;
docs/export.md records the measurements behind the default.
"""

import collections
import warnings

import numpy as np
import tensorflow as tf

from movenet_train.errors import UserError
from movenet_train.export import saved_model

PRECISIONS = ("fp32", "fp16", "int8")
FLOAT_PARTS = ("decoding", "heads")


def write_source(model, spec, path, orientation="upright"):
    """The SavedModel ``convert`` reads: the released signature with a uint8 input.

    ``TFLiteConverter.from_saved_model`` is the route docs/stack.md records as sound; writing the source once serves
    every precision (``from_concrete_functions`` writes a temporary SavedModel on each call). Multi-pose models
    take any height and width, as Google's file: input shape ``[1, 1, 1, 3]`` with shape signature
    ``[1, -1, -1, 3]``, sized by the app with ``resize_tensor_input``. (The decoder builds its broadcast axes
    with ``expand_dims``: ``x[None, ..., None]`` on dynamic shapes becomes a StridedSlice with ``new_axis_mask``
    that the TFLite builtins cannot run.) ``orientation="any"``: the in-graph quarter-turn search (single-pose);
    its INT8 file calibrates on the same upright images (the graph turns them itself) and keeps the search, which
    follows the head logits, in float32 with the rest of the ``decoding`` part.
    """
    return saved_model.write_saved_model(model, spec, path, tf.uint8, dynamic=True, orientation=orientation)


def convert(source, spec, precision, calibration_images=None, float_parts=FLOAT_PARTS, heads_only=False):
    """The ``.tflite`` bytes of the ``write_source`` SavedModel at ``precision``.

    INT8 needs ``calibration_images``, uint8 ``[N, H, W, 3]`` model inputs, except the decoded INT8 file of a
    quantisation-aware model (``spec.qat``), which uses its learned ranges. ``heads_only``: ``source`` is a
    ``heads.write_heads_source`` SavedModel (``integer=True`` for INT8), quantised full-integer
    (``quantise_full_integer``); ``float_parts`` only applies to the decoded files.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"TFLite precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    learned_ranges = precision == "int8" and spec.qat and not heads_only
    if precision == "int8" and not learned_ranges:
        check_int8_options(calibration_images, float_parts)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(source))
    if precision == "fp32":
        return converter.convert()
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if precision == "fp16":
        converter.target_spec.supported_types = [tf.float16]
        return converter.convert()
    if learned_ranges:
        # A quantisation-aware model carries its ranges as fake-quant ops: the converter quantises exactly the
        # network they cover (the input rescaling and the decoder stay float) with no calibration set.
        return converter.convert()
    if heads_only:
        return quantise_full_integer(converter, calibration_images)
    return _quantise_int8(converter, spec, calibration_images, float_parts)


def quantise_full_integer(converter, calibration_images):
    """Every op int8 (per-channel weights), uint8 image in, int8 head logits out (``heads.HeadsModule`` source).

    Integer tensors at both ends rather than float ones behind QUANTIZE / DEQUANTIZE: the EdgeTPU compiler and
    NNAPI accelerators without float support then run the whole graph, and an app feeds the camera's uint8
    pixels as they are (the input's scale is 1 and zero point 0, as the released files' uint8 input). The
    outputs' scale and zero point are in the file (``get_output_details()["quantization"]``); dequantising
    them costs the app one multiply-add per value, which ``decode_numpy.dequantize`` does.
    """
    images = np.asarray(calibration_images, np.uint8)
    converter.representative_dataset = lambda: ([image[None].astype(np.float32)] for image in images)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.int8
    return converter.convert()


def check_int8_options(calibration_images, float_parts):
    unknown = sorted(set(float_parts) - set(FLOAT_PARTS))
    if unknown:
        raise UserError(f"int8.float_parts: unknown part(s) {', '.join(unknown)}; expected some of {', '.join(FLOAT_PARTS)}")
    if calibration_images is None or len(calibration_images) == 0:
        raise UserError("tflite_int8 needs calibration images: set calibration.annotations with calibration.images, "
                        "calibration.images alone, or calibration.records")


def _quantise_int8(converter, spec, calibration_images, float_parts):
    return int8_debugger(converter, spec, calibration_images, float_parts).get_nondebug_quantized_model()


def int8_debugger(converter, spec, calibration_images, float_parts, **debug_options):
    """The ``QuantizationDebugger`` the INT8 export quantises with: calibrated on ``calibration_images`` (also its
    debug dataset), ``float_parts`` denylisted; ``debug_options``: more ``QuantizationDebugOptions`` (metrics).
    ``quant_debug.py`` runs its instrumented model for per-layer errors."""
    images = np.asarray(calibration_images, np.uint8)
    converter.representative_dataset = lambda: ([image[None]] for image in images)
    # The quantization debugger is TFLite's documented route to selective quantisation: it calibrates once,
    # then quantises with the denylisted nodes left in float32.
    with warnings.catch_warnings():  # the debugger checks its models with the deprecated tf.lite.Interpreter
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=lambda: ([image[None]] for image in images))
        nodes = float_nodes(debugger.calibrated_model, spec, float_parts)
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=nodes or None,
                                                                        **debug_options)
    return debugger


def _graph(model_content):
    """(ops, tensor index -> name, tensor index -> consuming ops) of a TFLite flatbuffer."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_content)
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    ops = interpreter._get_ops_details()  # noqa: SLF001 - LiteRT's only op-level view of a model
    consumers = collections.defaultdict(list)
    for op in ops:
        for index in op["inputs"]:
            consumers[index].append(op)
    return ops, names, consumers


def float_nodes(model_content, spec, parts):
    """Output tensor names of the ops in ``parts`` of a converted MoveNet (the names the quantiser denylists).

    ``heads``: the ops of the prediction heads, found by the released layer names (``center_0``, ...).
    ``decoding``: every op downstream of the heads' logits, found by following the graph, so it does not depend
    on how the converter names the decoding ops.
    """
    if not parts:
        return []
    ops, names, consumers = _graph(model_content)
    prefixes = list(spec.head_keys.values())

    def in_head(op, final_only=False):
        patterns = [f"/{p}/" for p in prefixes] + ([] if final_only else [f"/{p}_" for p in prefixes])
        return any(pattern in names[index] for index in op["outputs"] for pattern in patterns)

    head_ops = [op for op in ops if in_head(op)]
    logits = [index for op in ops if in_head(op, final_only=True) for index in op["outputs"]]
    if len(logits) != len(prefixes):
        raise RuntimeError(f"found {len(logits)} head outputs for the {len(prefixes)} heads {prefixes} in the converted "
                           "graph; the layer names of build_model changed?")
    chosen = {}
    if "heads" in parts:
        chosen.update((op["index"], op) for op in head_ops)
    if "decoding" in parts:
        queue = collections.deque(logits)
        seen = set(queue)
        while queue:
            for op in consumers[queue.popleft()]:
                chosen[op["index"]] = op
                for index in op["outputs"]:
                    if index not in seen:
                        seen.add(index)
                        queue.append(index)
    return sorted({names[index] for op in chosen.values() for index in op["outputs"]})

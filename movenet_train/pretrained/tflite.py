"""Reads the folded convolutions of a TFLite MoveNet (float32, float16 or int8 weights, dequantised)."""

import numpy as np

from movenet_train.pretrained.folded import FoldedConv, ReleasedGraphError


def _interpreter(path=None, content=None):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, model_content=content)
    interpreter.allocate_tensors()
    return interpreter


def _dequantise(value, details):
    params = details["quantization_parameters"]
    scales, zero_points = params["scales"], params["zero_points"]
    if scales.size == 0:
        return value.astype(np.float32)
    axis = params["quantized_dimension"]
    shape = [1] * value.ndim
    if scales.size > 1:
        shape[axis] = scales.size
    return ((value.astype(np.float32) - zero_points.reshape(shape)) * scales.reshape(shape)).astype(np.float32)


class _Constants:
    """Constant tensors of a TFLite graph, followed through DEQUANTIZE ops (float16 and hybrid files)."""

    def __init__(self, interpreter):
        self.interpreter = interpreter
        self.details = {d["index"]: d for d in interpreter.get_tensor_details()}
        self.producer = {}
        for op in interpreter._get_ops_details():
            for out in op["outputs"]:
                self.producer[out] = op

    def read(self, index):
        if index < 0:
            return None
        op = self.producer.get(index)
        if op is not None:
            if op["op_name"] != "DEQUANTIZE":
                raise ReleasedGraphError(f"weight tensor {self.details[index]['name']} is computed, not constant")
            return self.read(op["inputs"][0])
        try:
            value = self.interpreter.get_tensor(index)
        except ValueError as err:
            raise ReleasedGraphError(f"cannot read weight tensor {self.details[index]['name']}: {err}") from err
        return _dequantise(value, self.details[index])

    def name(self, index):
        return self.details[index]["name"]


def read_folded_convs(path=None, content=None):
    """Folded convolutions of a ``.tflite`` file (or its bytes) and its square input size."""
    try:
        interpreter = _interpreter(path, content)
    except (ValueError, RuntimeError) as err:
        raise ReleasedGraphError(f"{path or 'TFLite model'} is not a readable TFLite file: {err}") from err
    constants = _Constants(interpreter)
    ops = []
    for op in interpreter._get_ops_details():
        if op["op_name"] not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        inputs = op["inputs"]
        kernel = constants.read(inputs[1])
        bias = constants.read(inputs[2]) if len(inputs) > 2 else None
        if op["op_name"] == "CONV_2D":  # TFLite OHWI -> TF HWIO
            kind, kernel = "conv", np.transpose(kernel, (1, 2, 3, 0))
        else:  # TFLite [1, H, W, C] -> TF [H, W, C, 1]
            kind, kernel = "depthwise", np.transpose(kernel, (1, 2, 3, 0))
        ops.append(FoldedConv(kind, constants.name(op["outputs"][0]), kernel, bias))
    shape = interpreter.get_input_details()[0]["shape"]
    return ops, int(shape[1]) if len(shape) == 4 and shape[1] > 0 else None

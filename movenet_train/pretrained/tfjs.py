"""Reads a TF.js graph model (``model.json`` + ``.bin`` shards) of a released MoveNet."""

import os

import numpy as np

from movenet_train.model_files import read_json
from movenet_train.pretrained.folded import FoldedConv, ReleasedGraphError

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_QUANTIZED = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}
_CONV_OPS = {"Conv2D": "conv", "_FusedConv2D": "conv", "DepthwiseConv2dNative": "depthwise",
             "FusedDepthwiseConv2dNative": "depthwise"}


def read_weights(model_json):
    """``{node name: float32/int32 array}`` of every weight in the manifest (float16 / quantised ones restored)."""
    spec = read_json(model_json)
    if not isinstance(spec, dict) or spec.get("format") != "graph-model" or "weightsManifest" not in spec:
        raise ReleasedGraphError(f"{model_json} is not a TF.js graph model (no graph-model format / weightsManifest)")
    folder = os.path.dirname(os.path.abspath(model_json))
    weights = {}
    for group in spec["weightsManifest"]:
        blob = b""
        for path in group["paths"]:
            shard = os.path.join(folder, path)
            if not os.path.exists(shard):
                raise FileNotFoundError(f"weight shard {shard} named in {model_json} is missing")
            with open(shard, "rb") as f:
                blob += f.read()
        offset = 0
        for entry in group["weights"]:
            count = int(np.prod(entry["shape"])) if entry["shape"] else 1
            quant = entry.get("quantization")
            if quant:
                stored = np.dtype(_QUANTIZED[quant["dtype"]])
                raw = np.frombuffer(blob, stored, count, offset).astype(np.float32)
                if "scale" in quant:  # affine uint8/uint16 quantisation
                    raw = raw * quant["scale"] + quant.get("min", 0.0)
                value = raw.astype(_DTYPES[entry["dtype"]])
            else:
                stored = np.dtype(_DTYPES[entry["dtype"]])
                value = np.frombuffer(blob, stored, count, offset)
            offset += count * stored.itemsize
            weights[entry["name"]] = value.reshape(entry["shape"])
        if offset != len(blob):
            raise ReleasedGraphError(f"{model_json}: manifest describes {offset} bytes but the shards hold {len(blob)}")
    return spec, weights


def read_folded_convs(model_json):
    """The folded convolutions of the graph, and the model's input size from its signature (or None)."""
    spec, weights = read_weights(model_json)
    ops = []
    for node in spec["modelTopology"]["node"]:
        kind = _CONV_OPS.get(node["op"])
        if kind is None:
            continue
        inputs = node["input"]
        kernel = weights[inputs[1]]
        bias = weights[inputs[2]] if len(inputs) > 2 else None
        ops.append(FoldedConv(kind, node["name"], kernel.astype(np.float32), None if bias is None else bias.astype(np.float32)))
    input_size = None
    for tensor in spec.get("signature", {}).get("inputs", {}).values():
        dims = [int(d.get("size", -1)) for d in tensor.get("tensorShape", {}).get("dim", [])]
        if len(dims) == 4 and dims[1] > 0:
            input_size = dims[1]
    return ops, input_size

"""ONNX export of the heads-only graph (uint8 ``input`` -> one float32 output per head) through tf2onnx.

The decoding stays out of the file, as in the ``tflite_heads_*`` files: ONNX runtimes on accelerators (and
ncnn / OpenVINO importers) handle convolutions well and ArgMax / GatherND poorly. ``decode_numpy`` decodes.
tf2onnx is an optional dependency (``pip install -e '.[onnx]'``).
"""

import tensorflow as tf

from movenet_train.errors import UserError
from movenet_train.export.serving import INPUT_NAME

OPSET = 17  # supported by onnxruntime since 1.11 and by the common importers (OpenVINO, ncnn's pnnx, TensorRT)


def convert(source, path, opset=OPSET):
    """Writes the ONNX file of the heads-only SavedModel ``source`` (``heads.write_heads_source``) to ``path``."""
    try:
        import tf2onnx
    except ImportError as err:
        raise UserError("formats=[...,onnx] needs the optional tf2onnx package: pip install -e '.[onnx]'") from err
    loaded = tf.saved_model.load(str(source))  # kept alive: the signature only references its variables
    serve = loaded.signatures["serving_default"]
    (spec,) = serve.structured_input_signature[1].values()
    function = tf.function(lambda input: serve(input=input))  # noqa: A006 - the ONNX input's name
    tf2onnx.convert.from_function(function, input_signature=[tf.TensorSpec(spec.shape, spec.dtype, name=INPUT_NAME)],
                                  opset=opset, output_path=str(path))
    return path

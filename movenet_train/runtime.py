"""``load_predictor(checkpoint)``: one callable for every kind of model file the project handles.

Eval, predict, export parity and the tracker all run models through it, so the numbers of a checkpoint and
of its exported files come from the same pre- and post-processing. What a path is (format, resolution, schema)
and whether it fits the config is ``model_files``'s.
"""

import numpy as np
import tensorflow as tf

from movenet_train import checkpoints, model_files
from movenet_train.errors import UserError
from movenet_train.predictor import PREDICTOR_ATTRIBUTES, Predictor, check_predictor  # noqa: F401 (re-exported)
from movenet_train.modeling import MoveNetInference, decode_numpy
from movenet_train.modeling.heads import SINGLE_POSE_HEADS
from movenet_train.modeling.movenet import MULTI_POSE_STRIDE
from movenet_train.pretrained import importer

class KerasPredictor(Predictor):
    kind = "keras"

    def __init__(self, model, spec):
        self.model, self.spec = model, spec
        self.inference = MoveNetInference(model, spec)
        self.schema = spec.schema
        self.multi_pose = spec.multi_pose
        self.input_size = None if spec.multi_pose else spec.input_size

    def __call__(self, images):
        return self.inference(tf.cast(images, tf.int32)).numpy()


class SavedModelPredictor(Predictor):
    kind = "saved_model"

    def __init__(self, path):
        self.module = tf.saved_model.load(path)
        self.fn = self.module.signatures["serving_default"]
        shape = self.fn.structured_input_signature[1]["input"].shape
        out = list(self.fn.structured_outputs.values())[0].shape
        self.multi_pose = out.rank == 3
        self.input_size = None if self.multi_pose or shape[1] is None else int(shape[1])
        self.schema = model_files.exported_schema(path, _num_keypoints(out.as_list(), self.multi_pose))

    def __call__(self, images):
        return np.concatenate(
            [list(self.fn(input=tf.cast(image[None], tf.int32)).values())[0].numpy() for image in images]
        )


class TFLitePredictor(Predictor):
    """A decoded ``.tflite`` (one output, as the released files) or a heads-only one, decoded in NumPy.

    Heads-only files are recognised by their signature: one output per head, named by its ``build_model`` key
    (``center``, ``keypoint_heatmap``, ...), integer outputs dequantised with the file's own parameters.
    """

    kind = "tflite"

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        try:
            self.interpreter = Interpreter(model_path=path, num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:  # LiteRT names no file: "The model is not a valid Flatbuffer ..."
            raise UserError(f"{path} is not a readable TFLite file: {err}") from err
        self.input = self.interpreter.get_input_details()[0]
        self.heads = _head_outputs(self.interpreter)
        if self.heads:
            self.kind = "tflite_heads"
            self.multi_pose = "box_scale" in self.heads
            num_keypoints = int(self.heads["keypoint_heatmap"]["shape"][-1])
        else:
            self.output = self.interpreter.get_output_details()[0]
            self.multi_pose = len(self.output["shape"]) == 3
            num_keypoints = _num_keypoints(self.output["shape"], self.multi_pose)
        self.input_size = None if self.multi_pose else int(self.input["shape"][1])
        self.schema = model_files.exported_schema(path, num_keypoints)

    def _invoke(self, image):
        image = np.asarray(image)[None]
        if self.multi_pose:  # LiteRT drops the SavedModel's size check and fails in the FPN about XNNPack
            check_multi_pose_size(image.shape)
        if tuple(self.input["shape"]) != image.shape:
            self.interpreter.resize_tensor_input(self.input["index"], image.shape)
            self.interpreter.allocate_tensors()
            self.input = self.interpreter.get_input_details()[0]
        self.interpreter.set_tensor(self.input["index"], image.astype(self.input["dtype"]))
        self.interpreter.invoke()

    def heads_outputs(self, image):
        """Heads-only files: the float32 head logits of one ``[H, W, 3]`` image (dequantised for INT8)."""
        return {key: decode_numpy.dequantize(head.values, head.scale, head.zero_point)
                if isinstance(head, decode_numpy.QuantizedHead) else head
                for key, head in self.quantized_heads(image).items()}

    def quantized_heads(self, image):
        """Heads-only files: the heads of one image as the file outputs them, integer ones as
        ``decode_numpy.QuantizedHead`` (the decoder dequantises only the cells it reads)."""
        self._invoke(image)
        return {key: decode_numpy.QuantizedHead.of(self.interpreter.get_tensor(d["index"]), *d["quantization"])
                for key, d in self.heads.items()}

    def __call__(self, images):
        outputs = []
        for image in images:
            if self.heads:
                outputs.append(decode_numpy.decode(self.quantized_heads(image), self.multi_pose))
            else:
                self._invoke(image)
                outputs.append(self.interpreter.get_tensor(self.output["index"]).copy())
        return np.concatenate(outputs)


def _num_keypoints(shape, multi_pose):
    """N of an output shape: single-pose ``[B, 1, N, 3]``, multi-pose ``[B, 6, 3N + 5]``."""
    shape = list(shape)
    value = (shape[-1] - 5) // 3 if multi_pose and shape[-1] is not None else None if multi_pose else shape[-2]
    return None if value is None else int(value)


def check_multi_pose_size(shape):
    if shape[1] % MULTI_POSE_STRIDE or shape[2] % MULTI_POSE_STRIDE:
        raise UserError(f"MoveNet MultiPose needs an input height and width that are multiples of "
                        f"{MULTI_POSE_STRIDE}, got {shape[1]}x{shape[2]}")


def _head_outputs(interpreter):
    """Head key -> output details of a heads-only file's signature; None for any other file."""
    signatures = interpreter.get_signature_list()
    if len(signatures) != 1:
        return None
    outputs = interpreter.get_signature_runner(next(iter(signatures))).get_output_details()
    if not set(SINGLE_POSE_HEADS) <= set(outputs):
        return None
    return outputs


class OnnxPredictor(Predictor):
    """A heads-only ONNX file (``onnx`` export) on onnxruntime's CPU provider, decoded in NumPy."""

    kind = "onnx"

    def __init__(self, path, num_threads=None):
        try:
            import onnxruntime
        except ImportError as err:
            raise ImportError(f"running {path} needs onnxruntime: pip install -e '.[onnx]'") from err
        options = onnxruntime.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = num_threads
        self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        (self.input,) = self.session.get_inputs()
        self.names = [o.name for o in self.session.get_outputs()]
        if not set(SINGLE_POSE_HEADS) <= set(self.names):
            raise UserError(f"{path} is not a MoveNet heads-only ONNX file: its outputs are {self.names}, expected "
                            f"{', '.join(SINGLE_POSE_HEADS)} (and box_scale, box_offset for MultiPose)")
        self.multi_pose = "box_scale" in self.names
        shape = self.input.shape
        self.input_size = None if self.multi_pose or not isinstance(shape[1], int) else int(shape[1])
        self.dtype = np.uint8 if self.input.type == "tensor(uint8)" else np.int32
        heatmap = self.session.get_outputs()[self.names.index("keypoint_heatmap")].shape[-1]
        self.schema = model_files.exported_schema(path, heatmap if isinstance(heatmap, int) else None)

    def heads_outputs(self, image):
        """The float32 head logits of one ``[H, W, 3]`` image."""
        if self.multi_pose:
            check_multi_pose_size(np.shape(image[None]))
        heads = self.session.run(self.names, {self.input.name: np.asarray(image)[None].astype(self.dtype)})
        return dict(zip(self.names, heads))

    def __call__(self, images):
        return np.concatenate([decode_numpy.decode(self.heads_outputs(image), self.multi_pose) for image in images])


def load_keras(checkpoint, spec=None, default_spec=None, input_size=None):
    """(Keras model, spec) from a training/imported checkpoint or a released file (imported on the fly).

    ``spec`` is checked against what the file holds, its input size included; ``default_spec`` only builds a
    checkpoint that records no spec of its own (see ``checkpoints.restore_model``). The model runs at the size the
    file was trained at (a released file: its signature's), or at ``input_size`` where given on purpose
    (``input_size=`` of eval, export and predict: ``model_files.at_input_size``)."""
    fmt = model_files.file_format(checkpoint)
    if fmt in model_files.RELEASED_FORMATS:
        return importer.import_released(checkpoint, spec, input_size)
    if fmt == "checkpoint":
        return checkpoints.restore_model(checkpoint, spec, default_spec, input_size)
    raise UserError(f"{checkpoint} is an {fmt} file: load_predictor runs it, but only checkpoints and Google's "
                    "released formats (TF.js, TFLite, SavedModel) load into Keras")


def load_predictor(checkpoint, spec=None, num_threads=None, orientation="upright", input_size=None):
    """The runtime is chosen from the format (``model_files.file_format``): ``.tflite`` -> LiteRT (decoded or
    heads-only), ``.onnx`` -> onnxruntime (heads-only), SavedModel dir -> TF, else Keras. ``spec`` (the config's
    model) is checked against the file (``model_files.check_compatible``). The predictor's ``input_size`` is the
    file's own: the size a checkpoint was trained at, an exported file's signature. ``input_size`` runs a
    checkpoint or released file at another size on purpose; an exported file is fixed to its own (an error
    otherwise). ``orientation="any"`` wraps a single-pose model in the quarter-turn search of
    ``movenet_train.orientation``."""
    from movenet_train.orientation import check_orientation, with_orientation

    check_orientation(orientation)
    return with_orientation(_load_runtime(checkpoint, spec, num_threads, input_size), orientation)


def _load_runtime(checkpoint, spec, num_threads, input_size=None):
    checkpoint = str(checkpoint)
    fmt = model_files.file_format(checkpoint)
    if fmt == "onnx":
        predictor = OnnxPredictor(checkpoint, num_threads)
    elif fmt == "tflite":
        predictor = TFLitePredictor(checkpoint, num_threads)
    elif fmt == "saved_model":
        predictor = SavedModelPredictor(checkpoint)
    else:
        return KerasPredictor(*load_keras(checkpoint, spec, input_size=input_size))
    model_files.check_fixed_input_size(checkpoint, predictor, input_size)
    model_files.check_compatible(checkpoint, predictor, model_files.asked_of_file(spec, input_size))
    return predictor

"""The input size as configuration (issue #42): ``model.input_size`` (``+exp=lightning_160``, ``lightning_128``)
through model, targets, training, distillation, eval, export, the runtime and the tracker.

The fast tests check the geometry by hand arithmetic at 160 px (letterbox, person crop, decoding on a 40x40 grid,
the tracker's crops, a 256 px teacher's maps carried to a 160 px student) and the size checks on stand-in files.
The slow ones share one tiny run (``run_128``): started from 192 px weights, trained two steps at 128 px, exported
(TFLite FP16 and INT8), run through ``load_predictor`` and the tracker on a clip.
"""

import dataclasses
import json
import logging
import types

import numpy as np
import pytest
import tensorflow as tf
from hydra import compose, initialize_config_dir
from PIL import Image

from movenet_train import geometry, model_files
from movenet_train.checkpoints import restored_spec
from movenet_train.config import ConfigError, default_config
from movenet_train.errors import UserError
from movenet_train.evaluation import protocols
from movenet_train.keypoints import COCO_17
from movenet_train.model_files import IncompatibleModelError
from movenet_train.modeling import MoveNetSpec, decode_numpy
from movenet_train.modeling.decode import decode_single_pose
from movenet_train.predictor import Predictor
from movenet_train.preprocessing import model_input, unletterbox
from movenet_train.tracking import PoseTracker, TrackerConfig
from movenet_train.training.teacher import carry_outputs
from tests.helpers import REPO, SHARED, require_shared
from tests.test_error_battery import assert_user_error, run_in_process

LIGHTNING = MoveNetSpec("lightning", 1.0, 192)
LIGHTNING_160 = MoveNetSpec("lightning", 1.0, 160)
MULTIPOSE = MoveNetSpec("multipose_lightning", 1.5, 256, multi_pose=True)
SQUATS = SHARED / "data" / "video_sample" / "pose_squats.mp4"
SHOULDERS, HIPS = (5, 6), (11, 12)


def _compose(config, *overrides):
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        return compose(config, overrides=list(overrides))


# -- configuration ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [160, 128])
def test_the_experiments_set_the_size_and_a_run_folder_of_their_own(size):
    cfg = _compose("train", f"exp=lightning_{size}")
    spec = MoveNetSpec.from_config(cfg.model)
    assert (spec.name, spec.alpha, spec.input_size, spec.multi_pose) == ("lightning", 1.0, size, False)
    assert cfg.run_name == f"lightning_{size}-synthetic"
    for config in ("eval", "export", "predict"):  # +exp=lightning_160 asks for a 160 px Lightning there too
        cfg = _compose(config, f"exp=lightning_{size}", "checkpoint=x")
        assert model_files.config_spec(cfg).input_size == size and cfg.input_size is None


def test_sizes_are_multiples_of_32():
    assert model_files.config_input_size({"input_size": 160}) == 160
    assert model_files.config_input_size({}) is None
    with pytest.raises(ConfigError, match=r"^input_size must be a multiple of 32 .*, got 150$"):
        model_files.config_input_size({"input_size": 150})
    with pytest.raises(ConfigError, match=r"^input_size must be an integer >= 1, got 'big'$"):
        model_files.config_input_size({"input_size": "big"})
    with pytest.raises(ConfigError, match=r"^model.input_size must be a multiple of 32 .*, got 100$"):
        MoveNetSpec.from_config({"name": "lightning", "alpha": 1.0, "input_size": 100})


# -- geometry at 160 px, by hand ------------------------------------------------------------------------------

def _frame():
    """480x640, black, a white 80x80 block at rows 200-279, columns 320-399 (centre y 240, x 360)."""
    image = np.zeros((480, 640, 3), np.uint8)
    image[200:280, 320:400] = 255
    return image


def test_letterbox_at_160_and_back():
    """640x480 at 160: scale 1/4, the image fills rows 20-139 of the input. The block lands on rows 70-89,
    columns 80-99 (input pixel i samples the image at 4 i + 1.5, half-pixel centres), and the input's (80, 90),
    the block's centre, maps back to (240, 360)."""
    inputs = model_input(_frame(), 160, 160)
    assert inputs.shape == (160, 160, 3)
    assert (inputs[70:90, 80:100] == 255).all()
    assert inputs[69, 80:100].max() == 0 and inputs[90, 80:100].max() == 0
    assert inputs[70:90, 79].max() == 0 and inputs[70:90, 100].max() == 0
    assert inputs[:20].max() == 0 and inputs[140:].max() == 0  # the padding
    yx = unletterbox(np.array([[80 / 160, 90 / 160], [0.0, 0.0], [1.0, 1.0]]), 480, 640, 160, 160)
    np.testing.assert_allclose(yx, [[240, 360], [-80, 0], [560, 640]])


def _output(yx, score=0.9):
    """A decoded single-pose output ``[1, 1, 17, 3]``: every joint at ``yx``, or ``yx`` per joint."""
    out = np.zeros((1, 1, 17, 3), np.float32)
    out[0, 0, :, :2], out[0, 0, :, 2] = yx, score
    return out


def _coco_yx(result):
    keypoints = np.array(result["keypoints"]).reshape(17, 3)
    return keypoints[:, 1::-1]  # COCO writes x, y


def test_single_person_protocol_maps_back_at_160():
    predictor = types.SimpleNamespace(multi_pose=False, input_size=160, schema=COCO_17)
    annotation = {"bbox": [320, 200, 80, 80], "iscrowd": 0, "num_keypoints": 17}
    yx = np.tile([[0.5, 0.5625]], (17, 1))
    yx[1] = [0.25, 0.75]  # input (40, 120) -> image ((40 - 20) * 4, 120 * 4)
    (view, frame), = protocols.build("single_person", predictor).prepare(_frame(), [annotation])
    assert view.shape == (160, 160, 3) and (frame.input_height, frame.input_width) == (160, 160)
    (result,) = protocols.build("single_person", predictor).results(_output(yx), frame, 7)
    np.testing.assert_allclose(_coco_yx(result)[:2], [[240, 360], [80, 480]], atol=1e-3)
    # crop=person: the square of side 1.25 * 80 = 100 around the box (top 190, left 310), resized to 160 (x 1.6).
    person = protocols.build("single_person", predictor, crop="person", crop_scale=1.25)
    (view, frame), = person.prepare(_frame(), [annotation])
    assert view.shape == (160, 160, 3) and (frame.top, frame.left, frame.height) == (190, 310, 100)
    # the block, crop rows 10-89: output row i samples the crop at (i + 0.5) / 1.6 - 0.5, inside it for i in 17-142
    assert (view[17:143, 17:143] == 255).all() and view[:15].max() == 0 and view[145:].max() == 0
    yx = np.tile([[0.5, 0.5]], (17, 1))
    yx[1] = [0.25, 0.75]  # crop (25, 75) -> image (215, 385)
    (result,) = person.results(_output(yx), frame, 7)
    np.testing.assert_allclose(_coco_yx(result)[:2], [[240, 360], [215, 385]], atol=1e-3)


def _heads_40x40():
    """Head logits on the 40x40 grid of a 160 px input: the person's centre at cell (20, 20), every joint at the
    grid point (10.25, 30.5): regressed to cell (10, 30) from the centre, its heatmap peaking there, offset
    (0.25, 0.5) in it."""
    center = np.full((1, 40, 40, 1), -8.0, np.float32)
    center[0, 20, 20] = 8.0
    heatmap = np.full((1, 40, 40, 17), -8.0, np.float32)
    heatmap[0, 10, 30] = 8.0
    regression = np.zeros((1, 40, 40, 34), np.float32)
    regression[0, 20, 20, 0::2], regression[0, 20, 20, 1::2] = 10 - 20, 30 - 20
    offset = np.zeros((1, 40, 40, 34), np.float32)
    offset[0, 10, 30, 0::2], offset[0, 10, 30, 1::2] = 0.25, 0.5
    return {"center": center, "keypoint_heatmap": heatmap, "keypoint_regression": regression,
            "keypoint_offset": offset}


def test_decoding_a_40x40_grid_into_image_pixels():
    """(10.25, 30.5) cells / 40 = (0.25625, 0.7625) of the input = input pixels (41, 122); in the letterbox of a
    640x480 image (scale 1/4, 20 rows of padding on top) the image pixel ((41 - 20) * 4, 122 * 4) = (84, 488)."""
    heads = _heads_40x40()
    expected = [10.25 / 40, 30.5 / 40, 1 / (1 + np.exp(-8.0))]
    decoded = decode_single_pose({k: tf.constant(v) for k, v in heads.items()}).numpy()
    np.testing.assert_allclose(decoded[0, 0], np.tile(expected, (17, 1)), rtol=1e-6)
    np.testing.assert_allclose(decode_numpy.decode(heads, multi_pose=False), decoded, rtol=1e-6)
    np.testing.assert_allclose(unletterbox(decoded[0, 0, :, :2], 480, 640, 160, 160), np.tile([84, 488], (17, 1)),
                               atol=1e-3)


class FixedPose(Predictor):
    """A single-pose model of ``size`` px that finds the same pose, normalised over its input, in every image:
    every joint at (0.4375, 0.5), shoulders at (0.375, 0.5), hips at (0.5, 0.5)."""

    kind, multi_pose, schema = "fixed", False, COCO_17

    def __init__(self, size):
        self.input_size = size
        self.shapes = []

    def __call__(self, images):
        self.shapes.append(images.shape)
        yx = np.tile([[0.4375, 0.5]], (17, 1))
        yx[list(SHOULDERS)], yx[list(HIPS)] = [0.375, 0.5], [0.5, 0.5]
        return np.concatenate([_output(yx)] * len(images))


def test_the_trackers_crops_are_the_models_input_size():
    """Frame 1: the 640x480 frame padded to a 640 px square (rows -80 to 560), resized to 160: joint (y, x) ->
    (-80 + 640 y, 640 x). The next crop: centred on the hips (240, 320), half-size 1.9 x the torso's 80 px = 152
    (rows 88-392, columns 168-472), also resized to 160: joint -> (88 + 304 y, 168 + 304 x)."""
    predictor = FixedPose(160)
    tracker = PoseTracker(predictor, crop=True, smoothing=False)
    (first,) = tracker(_frame())
    np.testing.assert_allclose(first.keypoints[[0, *SHOULDERS, *HIPS]], [[200, 320]] + [[160, 320]] * 2 +
                               [[240, 320]] * 2)
    np.testing.assert_allclose(tracker.crop_region.to_pixels(480, 640), [88, 168, 392, 472])
    (second,) = tracker(_frame())
    np.testing.assert_allclose(second.keypoints[[0, *SHOULDERS, *HIPS]], [[221, 320]] + [[202, 320]] * 2 +
                               [[240, 320]] * 2)
    assert predictor.shapes == [(1, 160, 160, 3)] * 2
    # Without crops: the letterbox, the same geometry as the padded square here.
    (pose,) = PoseTracker(predictor, crop=False, smoothing=False)(_frame())
    np.testing.assert_allclose(pose.keypoints[[0, *SHOULDERS]], [[200, 320]] + [[160, 320]] * 2)
    assert predictor.shapes[-1] == (1, 160, 160, 3)


def test_a_256_teachers_maps_are_resampled_to_a_160_students_grid():
    """One window of the image (centre (300, 200), side 400 px) at the teacher's 256 px and the student's 160 px:
    student pixel = 0.625 x teacher pixel, and so on the grids (64 -> 40 cells). The teacher puts the person's
    centre at grid point (32.8, 32.8) and every joint at (32.8, 16.8), as smooth peaks and linear vector fields; the
    carried maps decode to (20.5, 10.5) / 40 of the student's input, the teacher's own (32.8, 16.8) / 64, which is
    image pixel (300 + (82 - 80) x 2.5, 200 + (42 - 80) x 2.5) = (305, 105)."""
    windows = [geometry.window_transform((300.0, 200.0), 400.0, size) for size in (256, 160)]
    carry = (windows[1] @ tf.linalg.inv(windows[0]))[None]
    np.testing.assert_allclose(carry[0].numpy(), np.diag([0.625, 0.625, 1.0]), atol=1e-6)
    centres = np.stack(np.meshgrid(np.arange(64), np.arange(64), indexing="ij"), -1).astype(np.float32)  # cells
    person, joint = np.float32([32.8, 32.8]), np.float32([32.8, 16.8])

    def peak(point):  # logits falling with the distance of the cell's centre (cell + 0.5) to ``point``
        return 4.0 - 0.5 * ((centres + 0.5 - point) ** 2).sum(-1, keepdims=True)

    vectors = np.tile(joint - centres, (1, 1, 17))  # point - cell, (y, x) per joint
    teacher = {"center": peak(person), "keypoint_heatmap": np.tile(peak(joint), (1, 1, 17)),
               "keypoint_regression": vectors, "keypoint_offset": vectors}
    carried, valid = carry_outputs({k: tf.constant(v[None]) for k, v in teacher.items()}, carry, (40, 40),
                                   COCO_17.flip_permutation)
    assert valid.shape == (1, 40, 40, 1) and valid.numpy().min() == 1.0  # the same window: every cell taught
    assert {k: tuple(v.shape) for k, v in carried.items()} == {
        "center": (1, 40, 40, 1), "keypoint_heatmap": (1, 40, 40, 17), "keypoint_regression": (1, 40, 40, 34),
        "keypoint_offset": (1, 40, 40, 34)}
    # A linear field stays linear: at student cell (20, 10) the offset is (20.5, 10.5) - (20, 10).
    np.testing.assert_allclose(carried["keypoint_offset"][0, 20, 10, :2].numpy(), [0.5, 0.5], atol=1e-4)
    student = decode_single_pose(carried)[0, 0].numpy()
    np.testing.assert_allclose(student[:, :2], np.tile([20.5 / 40, 10.5 / 40], (17, 1)), atol=1e-5)
    own = decode_single_pose({k: tf.constant(v[None]) for k, v in teacher.items()})[0, 0].numpy()
    np.testing.assert_allclose(own[:, :2], student[:, :2], atol=1e-5)  # (32.8 / 64, 16.8 / 64)
    pixels = geometry.apply(np.linalg.inv(windows[1].numpy()), student[:1, :2] * 160)
    np.testing.assert_allclose(pixels, [[305, 105]], atol=1e-3)


@pytest.mark.slow  # a few seconds: the tf.data pipeline is traced
def test_the_pipeline_renders_a_160_student_and_its_256_teacher(tiny_dataset):
    """Targets on the 40x40 grid of a 160 px input; the teacher's view of the same window at 256 px, carried by
    0.625 (no augmentation)."""
    from movenet_train.data import build_dataset

    records = tiny_dataset / "records" / "train-*.tfrecord"
    cfg = _compose("train", "exp=lightning_160", "data=coco", "data/augment=none", f"data.train_records={records}",
                   f"data.val_records={records}", "data.loader.shuffle_buffer=2", "data.loader.num_parallel_calls=1")
    spec = MoveNetSpec.from_config(cfg.model).with_schema()
    images, targets = next(iter(build_dataset(cfg.data, spec, "train", 2, training=True, deterministic=True,
                                              teacher_view=("upright", 256))))
    assert images.shape == (2, 160, 160, 3) and targets["teacher_image"].shape == (2, 256, 256, 3)
    assert targets["center_heatmap"].shape == (2, 40, 40, 1)
    assert targets["keypoint_heatmap"].shape == (2, 40, 40, 17)
    assert targets["keypoint_offset"].shape == (2, 40, 40, 34)
    np.testing.assert_allclose(targets["teacher_carry"].numpy(), np.tile(np.diag([0.625, 0.625, 1.0]), (2, 1, 1)),
                               atol=1e-3)  # float32 products of pixel coordinates
    scaled = tf.image.resize(targets["teacher_image"], (160, 160), antialias=True).numpy()
    assert np.abs(scaled - images.numpy()).mean() < 4.0  # the same window, up to resampling (of 0-255)


# -- the size a file runs at -----------------------------------------------------------------------------------

def fake_checkpoint(folder, spec):
    """A checkpoint folder whose movenet.json records ``spec``; its weights are never read (the size is checked
    first)."""
    folder.mkdir(parents=True)
    model_files.write_spec(str(folder), spec.with_schema(), str(folder / "model"))
    return folder


def test_a_checkpoint_runs_at_the_size_it_was_trained_at_unless_told(tmp_path, caplog):
    checkpoint = fake_checkpoint(tmp_path / "ckpt", LIGHTNING)
    assert restored_spec(str(checkpoint))[1].input_size == 192  # no config: its own
    assert restored_spec(str(checkpoint), LIGHTNING)[1].input_size == 192
    with pytest.raises(IncompatibleModelError) as err:
        restored_spec(str(checkpoint), LIGHTNING_160)
    assert str(err.value) == (
        f"{checkpoint} was trained at 192x192 input but the config asks for 160x160 input (MoveNet lightning): pass "
        "model.input_size=192 or +exp=lightning, or leave +exp= out to use the file's own variant; to run it at 160 "
        "px on purpose, pass input_size=160 (eval, export, predict)")
    with caplog.at_level(logging.INFO, logger="movenet_train.model_files"):
        for config in (None, LIGHTNING, LIGHTNING_160):  # on purpose: whatever the config's size
            assert restored_spec(str(checkpoint), config, input_size=160)[1].input_size == 160
    assert f"running {checkpoint} at 160 px (input_size=160); its own size is 192 px" in caplog.messages
    multi = fake_checkpoint(tmp_path / "multi", MULTIPOSE)
    with pytest.raises(UserError, match=r"^input_size=160 sets the square input of a single-pose model; "
                       rf"{multi} is multi-pose .*long_side="):
        restored_spec(str(multi), input_size=160)


MISMATCH = ("error: {} was trained at 192x192 input but the config asks for 160x160 input (MoveNet lightning): pass "
            "model.input_size=192 or +exp=lightning, or leave +exp= out to use the file's own variant; to run it at "
            "160 px on purpose, pass input_size=160 (eval, export, predict)")


def _command_args(command, tmp_path):
    image = tmp_path / "frame.png"
    Image.fromarray(_frame()).save(image)
    return {"eval": ["annotations=a.json", "images=.", f"output={tmp_path / 'eval'}"],
            "export": [f"output={tmp_path / 'export'}"],
            "predict": [f"input={image}", f"output={tmp_path / 'predict'}"]}[command]


@pytest.mark.parametrize("command", ["eval", "export", "predict"])
def test_a_file_at_a_size_it_was_not_trained_for_is_one_error_line(command, tmp_path):
    checkpoint = fake_checkpoint(tmp_path / "ckpt", LIGHTNING)
    args = _command_args(command, tmp_path)
    line = assert_user_error(run_in_process(command, "exp=lightning_160", f"checkpoint={checkpoint}", *args))
    assert line == MISMATCH.format(checkpoint)


def test_the_size_asked_by_hand_and_a_bad_size(tmp_path):
    checkpoint = fake_checkpoint(tmp_path / "ckpt", LIGHTNING)
    args = _command_args("eval", tmp_path)
    line = assert_user_error(run_in_process("eval", "exp=lightning", "model.input_size=160",
                                            f"checkpoint={checkpoint}", *args))
    assert line == MISMATCH.format(checkpoint)
    line = assert_user_error(run_in_process("eval", "input_size=150", f"checkpoint={checkpoint}", *args))
    assert line == "error: input_size must be a multiple of 32 (the backbone's output stride), got 150"


# -- one tiny run at 128 px, trained from 192 px weights, exported --------------------------------------------

TINY_TRAINING = ["train.steps=2", "train.batch_size=2", "train.steps_per_loop=1", "train.validate_every=1000",
                 "train.val_batches=1", "train.val_summary_images=0", "train.precise_batch_norm_batches=0",
                 "train.progress_bar=false", "model.recalibrate_batch_norm=false", "eval.max_images=2"]
FORMATS = ["tflite_fp16", "tflite_int8"]


class _Messages(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def run_128(tmp_path_factory, tiny_dataset):
    """Random 192 px Lightning weights saved as a checkpoint; a run of ``+exp=lightning_128`` started from them
    (two steps of two images); its files exported at the size it records."""
    from movenet_train.checkpoints import save_model_checkpoint
    from movenet_train.jobs import export
    from movenet_train.modeling import build_model
    from movenet_train.training.loop import train
    from tests.in_process import run_main

    root = tmp_path_factory.mktemp("run_128")
    weights = save_model_checkpoint(build_model(LIGHTNING), LIGHTNING, str(root / "lightning_192"))
    records = tiny_dataset / "records" / "train-*.tfrecord"
    cfg = _compose("train", "exp=lightning_128", "data=coco", f"data.root={root / 'no_data'}",
                   f"data.train_records={records}", f"data.val_records={records}", f"checkpoint={weights}",
                   f"output_dir={root / 'run'}", *TINY_TRAINING)
    handler = _Messages()
    logger = logging.getLogger("movenet_train")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        train(cfg)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    exported = root / "exported"
    result = run_main(export.main, f"checkpoint={root / 'run'}", f"output={exported}", f"formats=[{','.join(FORMATS)}]",
                      f"calibration.images={tiny_dataset / 'source' / 'images'}", "calibration.num_images=2",
                      "latency.runs=0", program="export.py")
    assert result.returncode == 0, result.stderr[-3000:]
    return types.SimpleNamespace(weights=weights, run=root / "run", exported=exported, log=handler.messages,
                                 report=json.loads((exported / "export_report.json").read_text()))


@pytest.mark.slow
def test_a_128_run_starts_from_192_weights_and_records_its_size(run_128):
    from movenet_train.runtime import load_predictor

    assert f"initialising a 128 px model from 192 px weights of {run_128.weights}" in run_128.log
    recorded = json.loads((run_128.run / "model" / "movenet.json").read_text())
    assert recorded["spec"]["input_size"] == 128
    assert model_files.describe(run_128.run).spec.input_size == 128
    assert load_predictor(run_128.run).input_size == 128  # eval, export, predict without +exp
    assert restored_spec(str(run_128.run), input_size=192)[1].input_size == 192  # on purpose
    with pytest.raises(IncompatibleModelError, match=r"was trained at 128x128 input but the config asks for 192x192 "
                       r"input \(MoveNet lightning\): pass model.input_size=128 or \+exp=lightning"):
        load_predictor(run_128.run, LIGHTNING)


@pytest.mark.slow
def test_the_files_are_exported_at_128_and_run_at_128(run_128):
    """The TFLite files' signatures take [1, 128, 128, 3]; export ran each through load_predictor on the 128 px
    calibration images (its parity entry), and they load here again and say 128. The SavedModel and TF.js files
    take the signature of the same serving module (export/serving.py); exporting them costs about as much again
    (tens of seconds on 2 cores), so this test leaves them to the spec's size."""
    from movenet_train.export.serving import input_shape
    from movenet_train.runtime import load_predictor

    report = run_128.report
    assert report["input_size"] == 128 and sorted(report["files"]) == sorted(FORMATS)
    for fmt in FORMATS:
        entry = report["files"][fmt]
        (inputs,) = next(iter(entry["signature"].values()))["inputs"].values()
        assert inputs["shape"] == [1, 128, 128, 3], fmt
        assert entry["parity"]["num_poses"] == report["parity_inputs"]["num_images"] == 2, (fmt, entry["parity"])
        predictor = load_predictor(run_128.exported / entry["path"])
        assert predictor.input_size == 128, fmt
        output = predictor(model_input(_frame(), 128, 128)[None])
        assert output.shape == (1, 1, 17, 3) and np.isfinite(output).all(), fmt
    assert input_shape(restored_spec(str(run_128.run))[1]) == [1, 128, 128, 3]  # SavedModel, TF.js


@pytest.mark.slow
def test_an_exported_file_runs_only_at_its_own_size(run_128, tmp_path):
    from movenet_train.runtime import load_predictor

    int8 = run_128.exported / run_128.report["files"]["tflite_int8"]["path"]
    assert load_predictor(str(int8), input_size=128).input_size == 128
    message = (f"{int8} is a tflite file fixed to 128x128 input and cannot run at 160 px (input_size=160): export its "
               "checkpoint at that size (export/export.py checkpoint=<its checkpoint> input_size=160), or leave "
               "input_size= out to run it at 128 px")
    with pytest.raises(IncompatibleModelError) as err:
        load_predictor(str(int8), input_size=160)
    assert str(err.value) == message
    line = assert_user_error(run_in_process("eval", f"checkpoint={int8}", "input_size=160", "annotations=a.json",
                                            "images=.", f"output={tmp_path / 'eval'}"))
    assert line == f"error: {message}"
    line = assert_user_error(run_in_process("eval", "exp=lightning", f"checkpoint={int8}", "annotations=a.json",
                                            "images=.", f"output={tmp_path / 'eval'}"))
    assert "takes 128x128 input but the config asks for 192x192 input (MoveNet lightning)" in line


@pytest.mark.slow
def test_the_tracker_crops_a_clip_at_128(run_128):
    """Six frames of pose_squats.mp4 (portrait: 1280 rows of 720) through the FP16 file: every crop is resized to
    128 px, and the keypoints are the model's mapped back through the crop region. The scores of two steps of
    training are low: the tracker is told to keep every pose, so that it crops around it."""
    require_shared(SQUATS)
    from movenet_train.runtime import load_predictor
    from movenet_train.tracking import crop as crop_lib
    from movenet_train.tracking import media

    model = load_predictor(str(run_128.exported / run_128.report["files"]["tflite_fp16"]["path"]))
    seen = []

    class Recording(Predictor):
        kind, multi_pose, input_size, schema = model.kind, False, model.input_size, model.schema

        def __call__(self, images):
            seen.append((images, model(images)))
            return seen[-1][1]

    config = dataclasses.replace(default_config(TrackerConfig), min_keypoint_score=0.0, min_pose_score=0.0)
    tracker = PoseTracker(Recording(), config, crop=True, smoothing=False)
    for _, frame in zip(range(6), media.open_media(SQUATS)):
        (pose,) = tracker(frame.image, frame.timestamp)
        images, output = seen[-1]
        assert images.shape == (1, 128, 128, 3)
        region = tracker.last_region
        np.testing.assert_array_equal(images[0], crop_lib.crop_and_resize(frame.image, region, 128))
        np.testing.assert_allclose(pose.keypoints, region.to_image(output[0, 0, :, :2]) * [1280, 720], atol=1e-6)
    assert len(seen) == 6

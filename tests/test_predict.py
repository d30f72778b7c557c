"""``python -m movenet_train.predict`` and the skeleton drawing it uses."""

import json
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from hydra import compose, initialize

from movenet_train.config import default_config
from movenet_train.errors import UserError
from movenet_train.keypoints import COCO_17
from movenet_train.runtime import load_predictor
from movenet_train.tracking import TrackerConfig, media
from movenet_train.jobs.predict import run as predict
from movenet_train.tracking.annotate import annotate
from movenet_train.visualization import CENTER_COLOR, LEFT_COLOR, RIGHT_COLOR, draw_skeleton
from tests.helpers import COCO_SAMPLE, REPO, SHARED, TFJS, require_shared

POSE_SQUATS = SHARED / "data" / "video_sample" / "pose_squats.mp4"
LIGHTNING_KEY = "tfjs_human_models/movenet-lightning.json"


def run_cli(*overrides):
    return subprocess.run([sys.executable, "-m", "movenet_train.predict", *map(str, overrides)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


# --- drawing -------------------------------------------------------------------------------------------------

def hand_made_pose():
    keypoints = np.zeros((COCO_17.num_keypoints, 2))
    scores = np.zeros(COCO_17.num_keypoints)
    parts = {"left_hip": (20, 80), "left_knee": (80, 80), "right_hip": (20, 20), "right_knee": (80, 20)}
    for name, yx in parts.items():
        keypoints[COCO_17.index[name]] = yx
        scores[COCO_17.index[name]] = 0.9
    return keypoints, scores


def test_draw_skeleton_colours_sides_and_leaves_the_input_alone():
    image = np.zeros((100, 100, 3), np.uint8)
    keypoints, scores = hand_made_pose()
    drawn = draw_skeleton(image, keypoints, scores, schema=COCO_17)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8 and not image.any()
    assert tuple(drawn[50, 80]) == LEFT_COLOR  # left_hip - left_knee
    assert tuple(drawn[50, 20]) == RIGHT_COLOR  # right_hip - right_knee
    assert tuple(drawn[20, 50]) == CENTER_COLOR  # left_hip - right_hip crosses the body
    assert not drawn[80, 30:70].any()  # the knees are not joined in the skeleton


def test_draw_skeleton_hides_keypoints_below_the_threshold():
    keypoints, scores = hand_made_pose()
    scores[COCO_17.index["left_knee"]] = 0.29
    drawn = draw_skeleton(np.zeros((100, 100, 3), np.uint8), keypoints, scores, schema=COCO_17)
    assert not drawn[50:, 75:85].any()  # neither the knee nor its edge to the hip
    assert drawn[20, 80].any()
    shown = draw_skeleton(np.zeros((100, 100, 3), np.uint8), keypoints, scores, threshold=0.2, schema=COCO_17)
    assert shown[50:, 75:85].any()


def test_draw_skeleton_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"keypoints \[17, 2\]"):
        draw_skeleton(np.zeros((10, 10, 3), np.uint8), np.zeros((17, 3)), np.zeros(17), schema=COCO_17)
    with pytest.raises(ValueError, match="RGB uint8"):
        draw_skeleton(np.zeros((10, 10, 3), np.float32), np.zeros((17, 2)), np.zeros(17), schema=COCO_17)
    with pytest.raises(TypeError, match="schema"):  # no silent COCO-17
        draw_skeleton(np.zeros((10, 10, 3), np.uint8), np.zeros((17, 2)), np.zeros(17))


# --- config --------------------------------------------------------------------------------------------------

def documented_tfjs_constants():
    """The TF.js constants as docs/model.md "Video tracking" documents them (read from constants.ts): the
    table's `key: value` cells and the One Euro paragraph's `key` value pairs."""
    text = (REPO / "docs" / "model.md").read_text()
    section = text[text.index("### Video tracking"):text.index("### Published numbers")]
    table = dict(re.findall(r"`(\w+): (\d+(?:\.\d+)?)`", section))
    filter_text = section[section.index("One Euro constants"):section.index("MultiPose models (TF.js")]
    one_euro = dict(re.findall(r"`(\w+)` (\d+(?:\.\d+)?)", filter_text))
    return ({k: float(v) for k, v in table.items()}, {k: float(v) for k, v in one_euro.items()})


def test_tracker_defaults_are_the_documented_tfjs_constants():
    table, one_euro = documented_tfjs_constants()
    assert set(table) == {"min_keypoint_score", "torso_expansion", "body_expansion", "crop_filter_alpha",
                          "min_pose_score", "multi_pose_max_dimension"}
    assert set(one_euro) == {"frequency", "min_cutoff", "beta", "derivate_cutoff", "threshold_cutoff",
                             "threshold_beta"}
    with initialize(version_base="1.3", config_path="../configs"):
        cfg = compose("predict", overrides=["checkpoint=x", "input=y", "output=z", "exp=thunder"])
    config = TrackerConfig.from_config(cfg.tracking)
    assert config == default_config(TrackerConfig)  # the library's default is the predict config's
    for key, value in table.items():
        assert getattr(config, key) == pytest.approx(value), key
    for key, value in one_euro.items():
        assert getattr(config.keypoint_filter, key) == pytest.approx(value), key
    assert cfg.model.name == "thunder" and cfg.crop and cfg.smoothing and cfg.threshold == 0.3


# --- still images --------------------------------------------------------------------------------------------

def test_still_image_keypoints_are_the_released_models_in_original_pixels(tmp_path, reference_outputs):
    name = "000000000785.jpg"
    require_shared(TFJS["lightning"], COCO_SAMPLE / "images" / name)
    predictor = load_predictor(TFJS["lightning"])
    result = annotate(predictor, media.open_media(COCO_SAMPLE / "images" / name), tmp_path, progress=False)
    (frame,) = result["frames"]
    (pose,) = frame["poses"]
    found = np.array([[k["y"], k["x"]] for k in pose["keypoints"]])

    # Reference output (normalised over the 192x192 letterbox of the 640x425 image) mapped by hand:
    # scale 192 / 640 = 0.3, the 127.5-px-high image centred vertically (32.25 px of padding above).
    reference = np.array(reference_outputs["images"][name][LIGHTNING_KEY])[0, 0]
    expected = np.stack([(reference[:, 0] * 192 - 32.25) / 0.3, reference[:, 1] * 192 / 0.3], axis=-1)
    np.testing.assert_allclose(found, expected, atol=1.0)
    np.testing.assert_allclose([k["score"] for k in pose["keypoints"]], reference[:, 2], atol=0.01)

    annotated = cv2.imread(str(tmp_path / name))
    assert annotated.shape == (425, 640, 3)


# --- the command line ----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_on_pose_squats(tmp_path):
    require_shared(TFJS["lightning"], POSE_SQUATS)
    result = run_cli(f"checkpoint={TFJS['lightning']}", f"input={POSE_SQUATS}", f"output={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]

    with open(tmp_path / "keypoints.json") as f:
        frames = json.load(f)["frames"]
    assert len(frames) == 65
    assert all(len(f["poses"]) == 1 for f in frames), "the woman is in every frame"
    for frame in frames:
        keypoints = frame["poses"][0]["keypoints"]
        assert [k["name"] for k in keypoints][:2] == ["nose", "left_eye"] and len(keypoints) == COCO_17.num_keypoints
        shown = [k for k in keypoints if k["score"] >= 0.3]
        assert all(0 <= k["x"] < 720 and 0 <= k["y"] < 1280 for k in shown)

    capture = cv2.VideoCapture(str(tmp_path / "pose_squats.mp4"))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 65
    ok, annotated = capture.read()
    assert ok and annotated.shape == (1280, 720, 3)
    # The skeleton is drawn where keypoints.json says: a shown keypoint's pixel has its dot's colour
    # (within the MP4 codec's error), which the raw frame does not.
    annotated = cv2.cvtColor(annotated, cv2.COLOR_BGR2RGB)
    raw = cv2.cvtColor(cv2.VideoCapture(str(POSE_SQUATS)).read()[1], cv2.COLOR_BGR2RGB)
    hits = []
    for index, k in enumerate(frames[0]["poses"][0]["keypoints"]):
        if k["score"] >= 0.3 and index >= 5:  # body keypoints; the face's dots overlap
            y, x = int(round(k["y"])), int(round(k["x"]))
            color = LEFT_COLOR if k["name"].startswith("left") else RIGHT_COLOR
            hits.append(np.abs(annotated[y, x].astype(int) - color).max() < 60
                        and np.abs(raw[y, x].astype(int) - color).max() >= 60)
    assert len(hits) >= 6 and np.mean(hits) >= 0.8


def test_predict_names_a_file_it_cannot_decode_before_loading_the_model(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video" * 100)
    with initialize(version_base="1.3", config_path="../configs"):
        cfg = compose("predict", overrides=["checkpoint=missing.json", f"input={broken}", f"output={tmp_path / 'out'}"])
    with pytest.raises(UserError, match=f"cannot decode video {broken}"):
        predict(cfg)  # the checkpoint does not exist either: the input is checked first
    assert not (tmp_path / "out").exists()


# --- MultiPose video with track ids ---------------------------------------------------------------------------

GIF = SHARED / "data" / "video_sample" / "combined_squat_dance.gif"


@pytest.fixture(scope="module")
def multipose_files(tmp_path_factory):
    """The released MultiPose model.json, and the project's SavedModel and (any-size) FP16 TFLite of it."""
    require_shared(TFJS["multipose_lightning"], GIF)
    from movenet_train.export import export_model
    from movenet_train.export.exporter import file_name
    from movenet_train.pretrained import import_released

    model, spec = import_released(TFJS["multipose_lightning"])
    output = tmp_path_factory.mktemp("multipose_export")
    export_model(model, spec, str(output / "files"), formats=["saved_model", "tflite_fp16"])
    return {"released": TFJS["multipose_lightning"], "saved_model": output / "files" / "saved_model",
            "tflite": output / "files" / file_name(spec, "tflite_fp16")}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["released", "saved_model", "tflite"])
def test_multipose_video_gets_track_ids(multipose_files, kind, tmp_path):
    with initialize(version_base="1.3", config_path="../configs"):
        cfg = compose("predict", overrides=[f"checkpoint={multipose_files[kind]}", f"input={GIF}",
                                            f"output={tmp_path}", "tracker=bounding_box"])
    result = predict(cfg)
    assert result["tracker"] == "bounding_box" and result["model"]["multi_pose"]
    frames = result["frames"]
    assert len(frames) == 42 and [f["frame"] for f in frames] == list(range(42))
    assert frames[1]["timestamp_ms"] == pytest.approx(frames[0]["timestamp_ms"] + 100.0)
    # two people the whole clip, keeping ids 1 and 2 (TF.js's bounding-box tracker does the same:
    # tests/tracking/test_multi_pose_tfjs.py)
    assert all(sorted(p["id"] for p in f["poses"]) == [1, 2] for f in frames)
    for frame in frames:
        for pose in frame["poses"]:
            box = pose["box"]
            assert 0 <= box["xMin"] < box["xMax"] <= 600 and 0 <= box["yMin"] < box["yMax"] <= 244
            assert set(pose) == {"id", "score", "box", "keypoints"} and len(pose["keypoints"]) == 17
    with open(tmp_path / "keypoints.json") as f:
        assert json.load(f)["frames"] == json.loads(json.dumps(frames))
    assert (tmp_path / "combined_squat_dance.gif").is_file()


def test_an_unknown_tracker_is_named_before_anything_loads(tmp_path):
    with initialize(version_base="1.3", config_path="../configs"):
        cfg = compose("predict", overrides=["checkpoint=missing.json", f"input={GIF}", f"output={tmp_path / 'out'}",
                                            "tracker=boxes"])
    with pytest.raises(UserError, match="tracker=boxes: expected one of bounding_box, keypoint, none"):
        predict(cfg)
    assert not (tmp_path / "out").exists()

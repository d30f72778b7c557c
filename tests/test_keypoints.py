"""Keypoint schemas: loading from configs and COCO files, validation errors, flip permutations worked by hand."""

import json
import re

import numpy as np
import pytest
from hydra import compose, initialize
from omegaconf import OmegaConf

from movenet_train import keypoints as kp
from movenet_train.config import default_config
from movenet_train.errors import UserError
from movenet_train.keypoints import COCO_17, KeypointSchema, KeypointSchemaError
from tests.helpers import COCO_SAMPLE, REPO, require_shared

CONFIGS = REPO / "configs" / "keypoints"


def load(name):
    return KeypointSchema.from_config(OmegaConf.load(CONFIGS / f"{name}.yaml"), source=f"configs/keypoints/{name}.yaml")


def test_coco17_config_is_the_default_schema_and_pycocotools_table():
    from pycocotools.cocoeval import Params

    assert load("coco17") == COCO_17 == kp.DEFAULT_SCHEMA == kp.resolve(None)
    np.testing.assert_allclose(COCO_17.oks_sigmas, Params(iouType="keypoints").kpt_oks_sigmas, rtol=1e-9)
    assert COCO_17.flip_permutation == (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)
    assert COCO_17.torso == ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    assert COCO_17.torso_axis == ((5, 6), (11, 12))  # shoulders up, hips down


def test_coco17_names_and_skeleton_are_the_coco_files():
    """Against the COCO annotation file itself: its person category's keypoint names and 1-based skeleton."""
    path = COCO_SAMPLE / "person_keypoints_sample.json"
    require_shared(path)
    with open(path) as f:
        (category,) = json.load(f)["categories"]
    assert list(COCO_17.names) == category["keypoints"] and COCO_17.num_keypoints == 17
    assert [[a + 1, b + 1] for a, b in COCO_17.skeleton_indices] == category["skeleton"]


def test_torso_axis_is_the_upper_half_then_the_lower_half():
    assert load("body13").torso_axis == ((1, 2), (7, 8))  # its shoulders, its hips
    assert load("coco19_neck_pelvis").torso_axis == ((5, 6), (11, 12))
    names, sigmas = ("a", "b", "c", "d"), (0.1,) * 4
    assert KeypointSchema(names=names, sigmas=sigmas, torso=("d", "a", "c", "b")).torso_axis == ((3, 0), (2, 1))
    assert KeypointSchema(names=names, sigmas=sigmas, torso=("a", "b", "c")).torso_axis is None  # no halves
    assert KeypointSchema(names=names, sigmas=sigmas).torso_axis is None


def test_flip_permutations_by_hand():
    body13 = load("body13")
    # nose, l/r shoulder, l/r elbow, l/r wrist, l/r hip, l/r knee, l/r ankle
    assert body13.flip_permutation == (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11)
    coco19 = load("coco19_neck_pelvis")
    assert coco19.num_keypoints == 19
    assert coco19.flip_permutation == (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 17, 18)
    assert coco19.sigmas[-2:] == (0.079, 0.107)
    # An unusual order and explicit pairs: the permutation follows the names, not the positions.
    schema = KeypointSchema(names=("r_paw", "tail", "l_paw", "nose"), flip_pairs=(("l_paw", "r_paw"),),
                            sigmas=(0.1, 0.1, 0.1, 0.1))
    assert schema.flip_permutation == (2, 1, 0, 3)
    assert [schema.side(i) for i in range(4)] == ["right", "center", "left", "center"]
    # Flipping twice is the identity.
    perm = np.array(coco19.flip_permutation)
    np.testing.assert_array_equal(perm[perm], np.arange(19))


def test_schema_read_from_a_coco_file(tmp_path):
    path = tmp_path / "dogs.json"
    path.write_text(json.dumps({"images": [], "annotations": [], "categories": [{
        "id": 1, "name": "dog", "keypoints": ["nose", "Left Paw", "right-paw", "tail"],
        "skeleton": [[1, 2], [1, 3], [1, 4]]}]}))
    cfg = OmegaConf.load(CONFIGS / "from_coco.yaml")
    cfg.from_coco = str(path)
    with pytest.raises(KeypointSchemaError, match=r"sigmas.*\['left_paw', 'right_paw', 'tail'\]"):
        KeypointSchema.from_config(cfg)
    cfg.sigmas = {"nose": 0.026, "left_paw": 0.05, "right_paw": 0.05, "tail": 0.1}
    schema = KeypointSchema.from_config(cfg)
    assert schema.names == ("nose", "left_paw", "right_paw", "tail") and schema.name == "dog"
    assert schema.flip_pairs == (("left_paw", "right_paw"),)
    assert schema.skeleton == (("nose", "left_paw"), ("nose", "right_paw"), ("nose", "tail"))
    assert schema.sigmas == (0.026, 0.05, 0.05, 0.1)


@pytest.mark.parametrize("change, key, message", [
    ({"flip_pairs": [["left_eye", "right_toe"]]}, "keypoints.flip_pairs[0]", "'right_toe' is not one of"),
    ({"skeleton": [["nose", "neck"]]}, "keypoints.skeleton[0]", "'neck' is not one of"),
    ({"sigmas": [0.1] * 16}, "keypoints.sigmas", "expected 17 values"),
    ({"names": list(COCO_17.names[:16]) + ["nose"], "sigmas": [0.1] * 17}, "keypoints.names[16]",
     "duplicate joint name 'nose'"),
    ({"torso": ["pelvis"]}, "keypoints.torso[0]", "'pelvis' is not one of"),
    ({"sigmas": [0.1] * 16 + [-1]}, "keypoints.sigmas", "positive"),
    ({"names": COCO_17.names + ("neck",), "sigmas": None}, "keypoints.sigmas", r"\['neck'\] are not COCO joints"),
])
def test_bad_schema_is_a_clear_error_naming_file_and_key(tmp_path, change, key, message):
    values = OmegaConf.to_container(OmegaConf.load(CONFIGS / "coco17.yaml"))
    values.update(change)
    path = tmp_path / "mine.yaml"
    OmegaConf.save(OmegaConf.create(values), path)
    with pytest.raises(KeypointSchemaError) as err:
        kp.load_schema(path)
    assert str(path) in str(err.value) and key in str(err.value)
    assert re.search(message, str(err.value)), str(err.value)


def test_hydra_schema_sets_the_heads_and_a_mismatch_is_an_error():
    from movenet_train.modeling import MoveNetSpec

    with initialize(version_base="1.3", config_path="../configs"):
        cfg = compose("train", overrides=["keypoints=coco19_neck_pelvis"])
        eval_cfg = compose("eval", overrides=["checkpoint=x"])
    assert eval_cfg.get("keypoints") is None  # eval, export and predict read the checkpoint's schema
    spec = MoveNetSpec.from_config(cfg.model, cfg.keypoints)
    assert spec.num_keypoints == 19 and spec.schema.names[-1] == "pelvis"
    cfg.model.num_keypoints = 17
    with pytest.raises(UserError, match=r"model.num_keypoints=17 but the keypoint schema 'coco19_neck_pelvis'"):
        MoveNetSpec.from_config(cfg.model, cfg.keypoints)


def test_annotations_of_another_length_are_a_clear_error(tmp_path):
    from movenet_train.data.coco import load_keypoint_annotations

    schema = load("coco19_neck_pelvis")
    path = tmp_path / "person_keypoints.json"
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "keypoints": [1, 1, 2] * 17}],
        "categories": [{"id": 1, "name": "person", "keypoints": list(schema.names)}]}))
    with pytest.raises(UserError, match=r"annotations\[0\] \(id 7\): 'keypoints' must be 57 numbers \(19 x") as err:
        load_keypoint_annotations(str(path), schema)
    assert str(path) in str(err.value)
    # The file's names are checked against the schema too.
    with pytest.raises(UserError, match="expected the 17 COCO keypoints"):
        load_keypoint_annotations(str(path), COCO_17)


def test_synthetic_generator_labels_derived_joints(tmp_path):
    from movenet_train.data.synthetic import GeneratorConfig, generate_synthetic

    schema = load("coco19_neck_pelvis")
    path = generate_synthetic(str(tmp_path / "s19"), 2, default_config(GeneratorConfig, seed=3), schema=schema)
    with open(path) as f:
        coco = json.load(f)
    for ann in coco["annotations"]:
        points = np.asarray(ann["keypoints"]).reshape(19, 3)
        both = points[[5, 6, 17], 2].all() and points[[11, 12, 18], 2].all()
        if both:  # neck = shoulder midpoint, pelvis = hip midpoint (coordinates rounded to 0.01 px)
            np.testing.assert_allclose(points[17, :2], points[[5, 6], :2].mean(axis=0), atol=0.011)
            np.testing.assert_allclose(points[18, :2], points[[11, 12], :2].mean(axis=0), atol=0.011)
    # The same seed labelled with 13 joints: the 17-joint figures' points, columns picked.
    path13 = generate_synthetic(str(tmp_path / "s13"), 2, default_config(GeneratorConfig, seed=3), schema=load("body13"))
    with open(path13) as f:
        coco13 = json.load(f)
    columns = [COCO_17.index[n] for n in load("body13").names]
    for a19, a13 in zip(coco["annotations"], coco13["annotations"]):
        np.testing.assert_array_equal(np.reshape(a19["keypoints"], (19, 3))[columns],
                                      np.reshape(a13["keypoints"], (13, 3)))
    with pytest.raises(UserError, match="cannot label 'tail'"):
        generate_synthetic(str(tmp_path / "bad"), 1, default_config(GeneratorConfig), schema=KeypointSchema(names=("nose", "tail"), sigmas=(0.1, 0.1)))


def test_records_of_another_schema_are_a_clear_error(tmp_path):
    from movenet_train.data.convert import convert_coco
    from movenet_train.data.synthetic import GeneratorConfig, generate_synthetic
    from movenet_train.data.tfrecord import check_record_schema, record_keypoint_names

    schema = load("body13")
    annotations = generate_synthetic(str(tmp_path / "s"), 2, default_config(GeneratorConfig), schema=schema)
    manifest = convert_coco(annotations, str(tmp_path / "s" / "images"), str(tmp_path / "rec"), num_workers=0,
                            progress=False, schema=schema)
    assert manifest["keypoint_names"] == list(schema.names)
    files = sorted(str(p) for p in (tmp_path / "rec").glob("train-*.tfrecord"))
    assert record_keypoint_names(files) == schema.names
    with pytest.raises(UserError, match=r"data.train_records: the records hold 13 keypoints .* 'coco17'"):
        check_record_schema(files, COCO_17, "data.train_records")


def test_checkpoint_records_the_schema(tmp_path):
    from movenet_train import checkpoints
    from movenet_train.modeling import MoveNetSpec, build_model

    schema = load("body13")
    spec = MoveNetSpec("lightning", 1.0, 192, keypoints=schema)
    model = build_model(spec)
    assert model.get_layer("kpt_offset_0").kernel.shape[-1] == 26
    path = checkpoints.save_model_checkpoint(model, spec, tmp_path / "ckpt")
    _, stored = checkpoints.restore_model(path)
    assert stored == spec and stored.schema.flip_pairs == schema.flip_pairs
    # With a model config but no keypoints= (eval, export, predict), the stored schema is used...
    _, restored = checkpoints.restore_model(path, MoveNetSpec("lightning", 1.0, 192))
    assert restored.schema == schema
    # ... and a different one given is an error.
    with pytest.raises(UserError, match="predicts the keypoint schema 'body13'"):
        checkpoints.restore_model(path, MoveNetSpec("lightning", 1.0, 192, keypoints=COCO_17))


def test_decoders_and_tracker_follow_the_number_of_joints():
    import tensorflow as tf

    from movenet_train.modeling import decode
    from movenet_train.tracking.crop import TorsoLayout, next_crop_region

    rng = np.random.default_rng(0)
    grid, n = 8, 13
    logits = lambda c: tf.constant(rng.normal(size=(1, grid, grid, c)), tf.float32)  # noqa: E731
    heads = {"center": logits(1), "keypoint_heatmap": logits(n), "keypoint_regression": logits(2 * n),
             "keypoint_offset": logits(2 * n), "box_scale": logits(2), "box_offset": logits(2)}
    assert decode.decode_single_pose(heads).shape == (1, 1, 13, 3)
    assert decode.decode_multi_pose(heads).shape == (1, 6, 3 * 13 + 5)

    # COCO: TF.js' rule, the hip midpoint, a hip and a shoulder seen, the crop sized by shoulders and hips.
    assert TorsoLayout.of(COCO_17) == TorsoLayout((11, 12), ((11, 12), (5, 6)), (5, 6, 11, 12))
    # Any schema's torso, upper joints then lower ones: centred on the lower ones (here the croup).
    schema = KeypointSchema(names=("head", "withers", "croup", "tail"), torso=("withers", "croup"),
                            sigmas=(0.1,) * 4)
    layout = TorsoLayout.of(schema)
    assert layout.centre == (2,) and layout.required == ((2,), (1,))
    yx = np.array([[10.0, 10.0], [40.0, 40.0], [40.0, 80.0], [45.0, 95.0]])
    region = next_crop_region(yx, np.array([0.9, 0.9, 0.9, 0.9]), 200, 200, layout=layout)
    # centre (40, 80); half = max(1.9 x torso range 40, 1.2 x body range 70) = 84
    np.testing.assert_allclose(region.box, np.array([-44, -4, 124, 164]) / 200)
    assert next_crop_region(yx, np.array([0.9, 0.1, 0.9, 0.9]), 200, 200, layout=layout).box[0] == 0.0  # whole frame
    # No torso (or one without an up): the mean of the torso joints, else of all joints, one of them seen.
    no_torso = KeypointSchema(names=schema.names, sigmas=schema.sigmas)
    assert TorsoLayout.of(no_torso) == TorsoLayout((0, 1, 2, 3), ((0, 1, 2, 3),), (0, 1, 2, 3))
    odd = KeypointSchema(names=schema.names, sigmas=schema.sigmas, torso=("withers", "croup", "tail"))
    assert TorsoLayout.of(odd) == TorsoLayout((1, 2, 3), ((1, 2, 3),), (1, 2, 3))
    # body13 keeps TF.js' rule: the hip midpoint.
    assert TorsoLayout.of(load("body13")).centre == (7, 8)


def test_synthetic_cache_is_kept_apart_by_schema(tmp_path):
    from movenet_train.data.synthetic import ensure_synthetic_dataset
    from movenet_train.data.tfrecord import record_keypoint_names

    with initialize(version_base="1.3", config_path="../configs"):
        cfg = compose("train", overrides=["data=synthetic", f"data.root={tmp_path / 'synthetic'}",
                                          "data.num_train_images=2", "data.num_val_images=1"])
    for schema in (COCO_17, load("body13"), COCO_17):
        ensure_synthetic_dataset(cfg.data, progress=False, schema=schema)
        files = sorted(str(p) for p in (tmp_path / "synthetic" / "records").glob("train-*.tfrecord"))
        assert record_keypoint_names(files) == schema.names
        with open(tmp_path / "synthetic" / "val" / "annotations.json") as f:
            assert json.load(f)["categories"][0]["keypoints"] == list(schema.names)

"""Custom keypoint schemas end to end: a 19-joint model trained from scratch, a 13-joint model fine-tuned from
Google's Lightning, and an N-joint export that eval reads.

Truth comes from outside the code under test: pycocotools (with the schema's own sigmas) for the AP, Google's
outputs (reference_outputs.json) for the copied joints, the exported files' own shapes.
"""

import json

import numpy as np
import pytest
import tensorflow as tf
from hydra import compose, initialize_config_dir

from movenet_train.evaluation import evaluate
from movenet_train.keypoints import COCO_17, KeypointSchema
from movenet_train.modeling import MoveNetInference, MoveNetSpec, build_model
from movenet_train.preprocessing import letterbox, load_rgb
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, REPO, TFJS, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"


def compose_train(*overrides):
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        return compose("train", overrides=list(overrides))


def body13():
    cfg = compose_train("keypoints=body13")
    return MoveNetSpec.from_config(cfg.model, cfg.keypoints)


@pytest.mark.slow
def test_19_keypoint_schema_trains_from_scratch_to_ap_0_8(tmp_path):
    """COCO-17 + neck + pelvis on synthetic figures: trained from scratch, scored by pycocotools with 19 sigmas.

    Kept short for CI (12 images of one large figure each, 160 px input, no augmentation, 400 steps): the AP is
    measured on the training images, so it checks that every stage (conversion, targets, heads, decoding, eval)
    carries the 19 joints consistently, not how well the model generalises.
    """
    from movenet_train.data import ensure_synthetic_dataset
    from movenet_train.training import train

    root = tmp_path / "data"
    data = ["data=synthetic", f"data.root={root}", "data.num_train_images=12", "data.num_val_images=4",
            "data.generator.extra_people=[0,0]", "data.generator.person_height=[0.7,0.9]",
            "keypoints=coco19_neck_pelvis"]
    cfg = compose_train(*data)
    schema = KeypointSchema.from_config(cfg.keypoints)
    assert schema.num_keypoints == 19 and schema.names[-2:] == ("neck", "pelvis")
    ensure_synthetic_dataset(cfg.data, progress=False, schema=schema)
    with open(root / "train" / "annotations.json") as f:
        coco = json.load(f)
    assert coco["categories"][0]["keypoints"] == list(schema.names)
    assert all(len(a["keypoints"]) == 57 for a in coco["annotations"])

    run_dir = tmp_path / "run"
    settings = {"steps": 400, "batch_size": 8, "steps_per_loop": 50, "checkpoint_every": 300, "validate_every": 1000,
                "val_batches": 1, "val_summary_images": 1, "progress_bar": False,
                "ema_decay": "null", "optimizer.learning_rate": 3e-3, "optimizer.warmup_steps": 20}
    cfg = compose_train("exp=lightning", *data, "model.input_size=160", "data/augment=none",
                        f"data.val_records={root}/records/train-*.tfrecord",
                        f"data.val_annotations={root}/train/annotations.json", f"data.val_images={root}/train/images",
                        f"output_dir={run_dir}", "eval.max_images=null", *[f"train.{k}={v}" for k, v in settings.items()])
    metrics = train(cfg)

    # The run's model carries its schema: eval reads it without being told, and scores with the 19 sigmas.
    predictor = load_predictor(run_dir)
    assert predictor.schema == schema
    result = evaluate(predictor, str(root / "train" / "annotations.json"), str(root / "train" / "images"),
                      progress=False)
    assert result["num_keypoints"] == 19 and result["oks_sigmas"] == list(schema.sigmas)
    assert abs(result["AP"] - metrics["coco/AP"]) < 1e-6
    print(f"19-joint schema, AP on the training images: {result['AP']:.4f} (AP50 {result['AP50']:.3f})")
    assert result["AP"] >= 0.8, result


def _reference(variant_key, names):
    with open(COCO_SAMPLE.parent.parent / "reference_models" / "reference_outputs.json") as f:
        reference = json.load(f)
    size = reference["models"][variant_key]
    files = sorted(reference["images"])
    outputs = np.array([reference["images"][n][variant_key] for n in files], np.float32)[:, 0, 0]  # [55, 17, 3]
    images = tf.cast(tf.concat([letterbox(load_rgb(COCO_SAMPLE / "images" / n)[None], size, size) for n in files], 0),
                     tf.int32)
    return images, outputs[:, [COCO_17.index[n] for n in names]]


@pytest.mark.slow
def test_13_keypoint_finetune_from_released_lightning_keeps_copied_joints(caplog):
    """Before the first step, the 13 joints that keep their name predict what Google's Lightning predicts."""
    require_shared(TFJS["lightning"], COCO_SAMPLE / "images")
    from movenet_train.training.batch_norm import reestimate_batch_norm
    from movenet_train.training.init import initialize_model

    spec = body13()
    assert spec.num_keypoints == 13 and spec.schema.name == "body13"
    model = build_model(spec)
    with caplog.at_level("INFO", logger="movenet_train.training.init"):
        initialize_model(model, spec, str(TFJS["lightning"]))
    log = caplog.text
    assert "copied for 13 joints" in log and "left_eye, right_eye, left_ear, right_ear" in log

    images, google = _reference("tfjs_human_models/movenet-lightning.json", spec.schema.names)
    # The same images through the imported 17-joint model: the copied channels give the same numbers.
    from movenet_train.pretrained import import_released

    released, released_spec = import_released(TFJS["lightning"])
    columns = [COCO_17.index[n] for n in spec.schema.names]
    out17 = MoveNetInference(released, released_spec)(images).numpy()[:, 0][:, columns]
    for stage in ("copied", "batch norm recalibrated"):
        if stage != "copied":  # what training does next, still before the first step
            reestimate_batch_norm(model, [tf.cast(images[:16], tf.float32)], keep_function=True)
        out = MoveNetInference(model, spec)(images).numpy()[:, 0]  # [55, 13, 3]
        assert out.shape == (55, 13, 3)
        if stage == "copied":
            np.testing.assert_allclose(out, out17, atol=1e-6)
        coords = np.abs(out[..., :2] - google[..., :2])
        print(f"13 joints ({stage}) vs Google's Lightning: {np.mean(coords <= 1e-3):.4f} of coordinates within 1e-3, "
              f"max {coords.max():.2e}; scores max {np.abs(out[..., 2] - google[..., 2]).max():.2e}")
        # The tolerances of the 17-joint parity test (tests/pretrained/test_released_parity.py).
        assert np.mean(coords <= 1e-3) >= 0.99, (stage, np.mean(coords <= 1e-3))
        assert np.abs(out[..., 2] - google[..., 2]).max() <= 1e-3, stage


def _body13_annotations(path):
    """The COCO sample relabelled with the body13 joints (columns picked from the 17), as a user would convert it."""
    schema = body13().schema
    with open(SAMPLE_JSON) as f:
        coco = json.load(f)
    columns = [COCO_17.index[n] for n in schema.names]
    for ann in coco["annotations"]:
        kp = np.asarray(ann["keypoints"], float).reshape(17, 3)[columns]
        ann["keypoints"] = [v.item() for v in kp.reshape(-1)]
        ann["num_keypoints"] = int((kp[:, 2] > 0).sum())
    coco["categories"] = [dict(c, keypoints=list(schema.names), skeleton=[[schema.index[a] + 1, schema.index[b] + 1]
                                                                           for a, b in schema.skeleton])
                          for c in coco["categories"]]
    with open(path, "w") as f:
        json.dump(coco, f)
    return path


@pytest.mark.slow
def test_13_keypoint_export_gives_n_joint_tflite_files_that_eval_reads(tmp_path, single_person_images):
    require_shared(TFJS["lightning"], SAMPLE_JSON)
    from movenet_train.checkpoints import save_model_checkpoint
    from movenet_train.jobs.export import run
    from movenet_train.training.init import initialize_model

    spec = body13()
    model = build_model(spec)
    initialize_model(model, spec, str(TFJS["lightning"]))
    checkpoint = save_model_checkpoint(model, spec, tmp_path / "body13")
    annotations = _body13_annotations(tmp_path / "body13.json")
    images = str(COCO_SAMPLE / "images")

    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("export", overrides=[
            f"checkpoint={checkpoint}", f"output={tmp_path / 'exported'}", "formats=[tflite_fp16,tflite_int8]",
            f"calibration.annotations={annotations}", f"calibration.images={images}", "calibration.num_images=16",
            "calibration.exclude_eval_images=false"])
    report = run(cfg)
    assert report["keypoints"]["num_keypoints"] == 13

    keras_ap = evaluate(load_predictor(checkpoint), str(annotations), images, progress=False)
    assert keras_ap["num_keypoints"] == 13
    for fmt in ("tflite_fp16", "tflite_int8"):
        path = tmp_path / "exported" / report["files"][fmt]["path"]
        predictor = load_predictor(path)
        assert predictor.schema == spec.schema  # from keypoints.json beside the file
        assert list(predictor.interpreter.get_output_details()[0]["shape"]) == [1, 1, 13, 3]
        metrics = evaluate(predictor, str(annotations), images, progress=False)
        print(f"body13 {fmt}: AP {metrics['AP']:.4f} (Keras model {keras_ap['AP']:.4f})")
        assert metrics["num_keypoints"] == 13 and metrics["oks_sigmas"] == list(spec.schema.sigmas)
        # The copied joints are Google's: the files score like the Keras model (int8 a little lower, as for 17).
        assert abs(metrics["AP"] - keras_ap["AP"]) < (0.01 if fmt == "tflite_fp16" else 0.08), (fmt, metrics["AP"])

    # predict / the tracker run the 13-joint file too: named joints in keypoints.json, the schema's skeleton drawn.
    from movenet_train.tracking import media
    from movenet_train.tracking.annotate import annotate

    frames = tmp_path / "frames"
    frames.mkdir()
    for name in single_person_images[:3]:
        (frames / name).symlink_to(COCO_SAMPLE / "images" / name)
    result = annotate(predictor, media.open_media(str(frames)), str(tmp_path / "predict"), progress=False)
    assert result["keypoint_names"] == list(spec.schema.names)
    poses = [p for frame in result["frames"] for p in frame["poses"]]
    assert poses and all([k["name"] for k in p["keypoints"]] == list(spec.schema.names) for p in poses)

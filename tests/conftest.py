"""Shared fixtures. Tests that read ../shared skip without it, and fail when MOVENET_REQUIRE_SHARED=1 (CI)."""

import json
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("MOVENET_SHARED_DIR", REPO.parent / "shared"))
REFERENCE_MODELS = SHARED / "reference_models"
COCO_SAMPLE = SHARED / "data" / "coco_sample"
TFJS = {
    "lightning": REFERENCE_MODELS / "tfjs_human_models" / "movenet-lightning.json",
    "thunder": REFERENCE_MODELS / "tfjs_human_models" / "movenet-thunder.json",
    "multipose_lightning": REFERENCE_MODELS / "tfjs_human_models" / "movenet-multipose.json",
}
TFLITE_INT8_LIGHTNING = REFERENCE_MODELS / "tflite" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"


def require_shared(*paths):
    """Skip (or fail under MOVENET_REQUIRE_SHARED=1) when a ../shared file is absent."""
    missing = [str(p) for p in paths if not pathlib.Path(p).exists()]
    if missing:
        message = f"../shared data not found: {missing[0]} (set MOVENET_SHARED_DIR or place shared/ beside the repo)"
        if os.environ.get("MOVENET_REQUIRE_SHARED") == "1":
            pytest.fail(message + "; MOVENET_REQUIRE_SHARED=1 requires it")
        pytest.skip(message)


@pytest.fixture(scope="session")
def reference_outputs():
    path = REFERENCE_MODELS / "reference_outputs.json"
    require_shared(path)
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def coco_sample():
    path = COCO_SAMPLE / "person_keypoints_sample.json"
    require_shared(path, COCO_SAMPLE / "images")
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def single_person_images(coco_sample):
    """File names of the images with exactly one person annotation, non-crowd, with keypoints."""
    per_image = {}
    for ann in coco_sample["annotations"]:
        per_image.setdefault(ann["image_id"], []).append(ann)
    return [
        image["file_name"]
        for image in coco_sample["images"]
        if len(per_image.get(image["id"], [])) == 1
        and not per_image[image["id"]][0]["iscrowd"]
        and per_image[image["id"]][0]["num_keypoints"] > 0
    ]


@pytest.fixture(autouse=True)
def _clear_keras_session():
    """Models pile up memory in one process (docs/stack.md): clear after each test."""
    yield
    import tf_keras

    tf_keras.backend.clear_session()

"""Shared fixtures. Tests that read ../shared skip without it, and fail when MOVENET_REQUIRE_SHARED=1 (CI)."""

import json

import pytest

from tests.helpers import COCO_SAMPLE, REFERENCE_MODELS, require_shared


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


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """Four synthetic images (``source/annotations.json``, ``source/images``) and their records
    (``records/train-00000-of-00001.tfrecord``), made once per session without ../shared."""
    from movenet_train.config import default_config
    from movenet_train.data.convert import convert_coco
    from movenet_train.data.synthetic import GeneratorConfig, generate_synthetic
    from movenet_train.keypoints import COCO_17

    root = tmp_path_factory.mktemp("tiny_dataset")
    annotations = generate_synthetic(str(root / "source"), 4, default_config(GeneratorConfig), schema=COCO_17)
    convert_coco(annotations, str(root / "source" / "images"), str(root / "records"), num_workers=0, progress=False,
                 schema=COCO_17)
    return root


@pytest.fixture(autouse=True)
def _clear_keras_session():
    """Models pile up memory in one process (docs/stack.md): clear after each test."""
    yield
    import tf_keras

    tf_keras.backend.clear_session()

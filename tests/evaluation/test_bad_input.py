"""Bad input gets an error that names the file, the key or the mismatch (no model is built here)."""

import json
import os

import pytest

from movenet_train.errors import UserError
from movenet_train.evaluation import evaluate
from movenet_train.keypoints import COCO_17
from movenet_train.model_files import IncompatibleModelError
from movenet_train.modeling import MoveNetSpec
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, TFJS, TFLITE_INT8_LIGHTNING, ReplayPredictor, require_shared

ANNOTATIONS = COCO_SAMPLE / "person_keypoints_sample.json"
IMAGES = COCO_SAMPLE / "images"
LIGHTNING, THUNDER = MoveNetSpec("lightning", 1.0, 192), MoveNetSpec("thunder", 1.75, 256)


@pytest.fixture
def predictor():
    return ReplayPredictor([], COCO_17, input_size=192)


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_annotation_file_without_keypoints(tmp_path, coco_sample, predictor):
    """An instances_*.json (detection boxes, no keypoints) instead of person_keypoints_*.json."""
    categories = [{k: v for k, v in c.items() if k not in ("keypoints", "skeleton")} for c in coco_sample["categories"]]
    annotations = [{k: v for k, v in a.items() if k not in ("keypoints", "num_keypoints")}
                   for a in coco_sample["annotations"]]
    path = _write(tmp_path, "instances.json", dict(coco_sample, categories=categories, annotations=annotations))
    with pytest.raises(UserError, match=r"instances\.json: 'categories': no category has 'keypoints'.*instances_\*\.json"):
        evaluate(predictor, path, IMAGES, progress=False)
    # Keypoint category, but an annotation lost its keypoints: named by its id.
    broken = dict(coco_sample, annotations=annotations)
    with pytest.raises(UserError, match=rf"broken\.json: annotations\[0\] \(id {annotations[0]['id']}\).*'keypoints'"):
        evaluate(predictor, _write(tmp_path, "broken.json", broken), IMAGES, progress=False)


def test_unreadable_annotation_files(tmp_path, predictor):
    with pytest.raises(FileNotFoundError, match="missing.json does not exist"):
        evaluate(predictor, tmp_path / "missing.json", IMAGES, progress=False)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="bad.json: not valid JSON"):
        evaluate(predictor, bad, IMAGES, progress=False)
    with pytest.raises(UserError, match="empty.json: key 'images': missing"):
        evaluate(predictor, _write(tmp_path, "empty.json", {}), IMAGES, progress=False)


def test_missing_image_files(tmp_path, coco_sample, single_person_images, predictor):
    require_shared(IMAGES)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"16 of the 16 selected images are missing from .*empty"):
        evaluate(predictor, ANNOTATIONS, empty, progress=False)
    # All but one image present (links, not copies): that one is named.
    folder = tmp_path / "images"
    folder.mkdir()
    for name in os.listdir(IMAGES):
        if name != single_person_images[3]:
            (folder / name).symlink_to(IMAGES / name)
    missing = rf"1 of the 16 selected images are missing .*{single_person_images[3]}"
    with pytest.raises(FileNotFoundError, match=missing):
        evaluate(predictor, ANNOTATIONS, folder, progress=False)
    with pytest.raises(FileNotFoundError, match="image folder .*nowhere does not exist"):
        evaluate(predictor, ANNOTATIONS, tmp_path / "nowhere", progress=False)


def test_image_size_other_than_the_record(tmp_path, coco_sample, single_person_images, predictor):
    images = [dict(image, width=image["width"] + 1) if image["file_name"] == single_person_images[0] else image
              for image in coco_sample["images"]]
    path = _write(tmp_path, "sizes.json", dict(coco_sample, images=images))
    with pytest.raises(UserError, match=rf"{single_person_images[0]} decodes to \d+x\d+ but its annotation record"):
        evaluate(predictor, path, IMAGES, progress=False)


def test_empty_selection(tmp_path, coco_sample, predictor):
    people = {}
    for ann in coco_sample["annotations"]:
        people[ann["image_id"]] = people.get(ann["image_id"], 0) + 1
    crowded = [image for image in coco_sample["images"] if people[image["id"]] > 1]
    kept = {image["id"] for image in crowded}
    path = _write(tmp_path, "crowded.json", dict(coco_sample, images=crowded, annotations=[
        ann for ann in coco_sample["annotations"] if ann["image_id"] in kept]))
    assert crowded
    message = rf"no image of .*crowded\.json fits protocol=single_person \({len(crowded)} images"
    with pytest.raises(UserError, match=message):
        evaluate(predictor, path, IMAGES, progress=False)
    with pytest.raises(UserError, match="no image .* fits protocol=single_person"):
        evaluate(predictor, ANNOTATIONS, IMAGES, max_images=0, progress=False)
    with pytest.raises(FileNotFoundError, match="no TFRecord files match .*nothing-"):
        evaluate(predictor, records=str(tmp_path / "nothing-*.tfrecord"), progress=False)
    with pytest.raises(UserError, match="no data to evaluate"):
        evaluate(predictor, progress=False)


def test_checkpoint_of_another_variant():
    """Thunder weights (256 input) with the Lightning config (192), and the reverse, fail before any eval."""
    require_shared(TFJS["thunder"], TFLITE_INT8_LIGHTNING)
    with pytest.raises(IncompatibleModelError, match=r"holds MoveNet thunder \(alpha 1.75, single-pose\) but the "
                       r"config asks for MoveNet lightning \(alpha 1.0, single-pose\): pass \+exp=thunder"):
        load_predictor(TFJS["thunder"], LIGHTNING)
    # A .tflite does not say its variant, only its input size.
    with pytest.raises(IncompatibleModelError, match=r"takes 192x192 input but the config asks for 256x256 input "
                                                     r"\(MoveNet thunder\): pass model.input_size=192"):
        load_predictor(TFLITE_INT8_LIGHTNING, THUNDER)

"""``train_annotations``: the fixed-point experiment trains on another file's labels of the same images (matched by
file name), while the split and the held-out scoring stay on the hand labels; without it nothing changes."""

import json

import pytest
from omegaconf import OmegaConf

from movenet_train.errors import UserError
from movenet_train.experiments import folds
from movenet_train.experiments.fixed_point import labels_of_images
from movenet_train.keypoints import COCO_17

CATEGORY = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO_17.names), "skeleton": []}


def person(ann_id, image_id, x):
    keypoints = [0] * 51
    keypoints[15:18] = [x, 20, 2]  # a left shoulder
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "bbox": [x - 5, 10, 10, 20], "area": 200,
            "iscrowd": 0, "num_keypoints": 1, "keypoints": keypoints}


def coco(path, images, annotations):
    path.write_text(json.dumps({"images": [{"id": i, "file_name": n, "width": 64, "height": 64} for i, n in images],
                                "annotations": annotations, "categories": [CATEGORY]}))
    return path


def test_the_labels_of_the_training_images_are_taken_by_file_name(tmp_path):
    hand = coco(tmp_path / "train.json", [(7, "b.jpg"), (9, "c.jpg")], [person(1, 7, 30), person(2, 9, 31)])
    labels = coco(tmp_path / "labels.json", [(1, "a.jpg"), (2, "b.jpg"), (3, "c.jpg")],
                  [person(1, 1, 40), person(2, 2, 41), person(3, 2, 42), person(4, 3, 43)])
    labels_of_images(labels, hand, tmp_path / "out.json", COCO_17)
    out = json.loads((tmp_path / "out.json").read_text())
    assert [i["file_name"] for i in out["images"]] == ["b.jpg", "c.jpg"]
    assert [a["keypoints"][15] for a in out["annotations"]] == [41, 42, 43]  # the labels file's, not the hand ones


def test_a_training_image_the_labels_lack_is_named(tmp_path):
    hand = coco(tmp_path / "train.json", [(7, "b.jpg"), (9, "z.jpg")], [])
    labels = coco(tmp_path / "labels.json", [(1, "b.jpg")], [])
    with pytest.raises(UserError, match="no image named z.jpg"):
        labels_of_images(labels, hand, tmp_path / "out.json", COCO_17)


def test_the_split_records_train_annotations_only_when_given(tmp_path):
    cfg = OmegaConf.create({"held_out_images": 1, "split_seed": 0, "folds": 5, "annotations": "a.json",
                            "train_annotations": None})
    folds.record_split(str(tmp_path / "plain.json"), cfg, [1], [2])
    assert "train_annotations" not in json.loads((tmp_path / "plain.json").read_text())
    cfg.train_annotations = "labels.json"
    folds.record_split(str(tmp_path / "labels.json"), cfg, [1], [2])
    assert json.loads((tmp_path / "labels.json").read_text())["train_annotations"].endswith("labels.json")
    with pytest.raises(UserError, match="another split"):  # a rerun with other training labels is another experiment
        folds.record_split(str(tmp_path / "plain.json"), cfg, [1], [2])

"""The experiments' splits: one held-out split of single_person-scorable images (0 holds out none), and K folds
that hold every image out exactly once."""

import json

import pytest

from movenet_train.errors import UserError
from movenet_train.experiments.folds import fold_splits, split_images
from tests.helpers import COCO_SAMPLE, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"


@pytest.fixture(scope="module")
def sample():
    require_shared(SAMPLE_JSON)
    return json.loads(SAMPLE_JSON.read_text())


def test_ten_held_out_of_the_sixteen_scorable_images(sample):
    train, held_out = split_images(sample, 10, 0)
    assert len(held_out) == 10 and len(train) == len(sample["images"]) - 10 == 45
    people = {}
    for ann in sample["annotations"]:
        people.setdefault(ann["image_id"], []).append(ann)
    assert all(len(people[i]) == 1 for i in held_out)
    assert split_images(sample, 10, 0) == (train, held_out)  # the same split every time


def test_zero_held_out_trains_on_every_image(sample):
    train, held_out = split_images(sample, 0, 0)
    assert held_out == [] and train == sorted(i["id"] for i in sample["images"])


def test_holding_out_every_scorable_image_is_an_error(sample):
    with pytest.raises(UserError, match="held_out_images=16: .* at most 15"):
        split_images(sample, 16, 0)


def test_folds_hold_every_image_out_exactly_once(sample):
    ids = sorted(i["id"] for i in sample["images"])
    splits = fold_splits(sample, 5, held_out_images=10, seed=0)
    assert len(splits) == 5
    held_out = [i for _, fold in splits for i in fold]
    assert sorted(held_out) == ids  # a partition of the images
    assert all(sorted(train + fold) == ids and not set(train) & set(fold) for train, fold in splits)
    assert {len(fold) for _, fold in splits} == {11}  # 55 images in 5 near-equal groups
    assert fold_splits(sample, 5, 10, 0) == splits and fold_splits(sample, 5, 10, 1) != splits
    assert fold_splits(sample, 1, 10, 0) == [split_images(sample, 10, 0)]  # folds=1: the single split


def test_impossible_fold_counts_are_errors(sample):
    for folds in (0, 56):
        with pytest.raises(UserError, match=f"folds={folds}: expected 1"):
            fold_splits(sample, folds, 10, 0)

"""The rotation experiment's split: held-out images are single_person-scorable, and 0 holds out none."""

import json

import pytest

from movenet_train.experiments.rotation import split_images
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
    with pytest.raises(ValueError, match="held_out_images=16: .* at most 15"):
        split_images(sample, 16, 0)

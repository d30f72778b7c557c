"""runtime.Predictor: every predictor says its kind, multi_pose, input_size and keypoint schema."""

import pytest

from movenet_train.keypoints import DEFAULT_SCHEMA
from movenet_train.runtime import Predictor, check_predictor, load_predictor
from tests.helpers import TFLITE_INT8_LIGHTNING, ReplayPredictor, require_shared


class WithoutSchema(Predictor):
    kind = "partial"

    def __init__(self):
        self.multi_pose, self.input_size = False, 192

    def __call__(self, images):
        return images


def test_a_predictor_that_leaves_out_an_attribute_fails_when_made():
    with pytest.raises(TypeError, match=r"WithoutSchema does not set schema"):
        WithoutSchema()


def test_there_is_no_default_schema_or_call():
    assert not hasattr(Predictor, "schema") and not hasattr(Predictor, "kind")

    class WithoutCall(Predictor):
        kind, multi_pose, input_size, schema = "none", False, 192, DEFAULT_SCHEMA

    with pytest.raises(TypeError, match="abstract"):
        WithoutCall()


def test_schema_must_be_a_keypoint_schema():
    replay = ReplayPredictor([], DEFAULT_SCHEMA, input_size=192)
    assert check_predictor(replay).schema is DEFAULT_SCHEMA
    replay.schema = "coco17"
    with pytest.raises(TypeError, match=r"ReplayPredictor.schema is 'coco17', not a KeypointSchema"):
        check_predictor(replay)


def test_google_files_predict_the_default_schema():
    require_shared(TFLITE_INT8_LIGHTNING)
    predictor = load_predictor(TFLITE_INT8_LIGHTNING)
    assert (predictor.kind, predictor.multi_pose, predictor.input_size) == ("tflite", False, 192)
    assert predictor.schema is DEFAULT_SCHEMA

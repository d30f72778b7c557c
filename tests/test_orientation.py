"""orientation=any: the turn rule on hand-made poses, and the search around a stand-in model that only
recognises upright people (so the right answer is known without a real network)."""

import numpy as np
import pytest

from movenet_train.keypoints import DEFAULT_SCHEMA
from movenet_train.orientation import GATE, OrientationSearch, TurnRule, body_axis_joints, check_orientation
from movenet_train.runtime import Predictor

SIZE = 64
N = DEFAULT_SCHEMA.num_keypoints
# An upright stick figure, (y, x) normalised: head at the top, ankles at the bottom.
UPRIGHT = np.array([[0.15, 0.50], [0.13, 0.47], [0.13, 0.53], [0.14, 0.44], [0.14, 0.56], [0.28, 0.40], [0.28, 0.60],
                    [0.40, 0.36], [0.40, 0.64], [0.50, 0.34], [0.50, 0.66], [0.55, 0.43], [0.55, 0.57],
                    [0.72, 0.43], [0.72, 0.57], [0.88, 0.43], [0.88, 0.57]])


def turned(yx, k):
    """Normalised (y, x) after k counter-clockwise quarter turns of the square ((y, x) -> (1 - x, y) per turn)."""
    for _ in range(k % 4):
        yx = np.stack([1 - yx[:, 1], yx[:, 0]], axis=-1)
    return yx


def pose(yx, score):
    return np.concatenate([yx, np.full((len(yx), 1), score)], axis=1)


class UprightOnlyModel(Predictor):
    """Reads joint j from the pixel whose red value is 10 + j; confident only when the head is above the ankles
    (as a model trained on upright people), otherwise it returns the joints it sees at a low score."""

    kind = "stand-in"
    multi_pose = False
    input_size = SIZE
    schema = DEFAULT_SCHEMA

    def __init__(self):
        self.calls = 0

    def __call__(self, images):
        self.calls += len(images)
        out = np.zeros((len(images), 1, N, 3), np.float32)
        for b, image in enumerate(np.asarray(images)):
            for j in range(N):
                rows, cols = np.nonzero(image[..., 0] == 10 + j)
                out[b, 0, j, :2] = ((rows[0] + 0.5) / SIZE, (cols[0] + 0.5) / SIZE)
            head_above_feet = out[b, 0, 0, 0] < out[b, 0, 15, 0] - 0.3
            out[b, 0, :, 2] = 0.9 if head_above_feet else 0.15
        return out


def image_of(yx):
    image = np.zeros((SIZE, SIZE, 3), np.uint8)
    for j, (y, x) in enumerate(np.floor(yx * SIZE).astype(int)):
        image[y, x, 0] = 10 + j
    return image


def test_upright_score_is_confidence_times_how_upright_the_body_is():
    rule = TurnRule.of(DEFAULT_SCHEMA)
    assert rule.upright_score(pose(UPRIGHT, 0.8)) == pytest.approx(0.8)
    # Lying (a quarter turn either way) or upside down: the body's up is not the image's up.
    for k in (1, 2, 3):
        assert rule.upright_score(pose(turned(UPRIGHT, k), 0.8)) == pytest.approx(0.0, abs=1e-9)
    # Tilted by 60 degrees about the centre: cos 60 = 0.5.
    angle = np.radians(60)
    centre = np.array([0.5, 0.5])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    tilted = (UPRIGHT - centre) @ rotation.T + centre
    assert rule.upright_score(pose(tilted, 0.8)) == pytest.approx(0.4, abs=1e-6)
    # The top-8 mean: a person cut off at the hips (legs at score 0) keeps the score of the joints it has.
    cut = pose(UPRIGHT, 0.8)
    cut[11:, 2] = [0.3, 0.3, 0.0, 0.0, 0.0, 0.0]
    assert rule.upright_score(cut) == pytest.approx(0.8, abs=1e-6)


def test_choose_keeps_a_confident_upright_view_and_otherwise_the_best_view():
    rule = TurnRule.of(DEFAULT_SCHEMA)
    views = np.stack([pose(UPRIGHT, 0.5), pose(UPRIGHT, 0.9), pose(turned(UPRIGHT, 1), 0.9), pose(UPRIGHT, 0.2)])
    assert rule.choose(views[None]) == [0]  # the upright view reaches the gate: kept whatever the others score
    views[0, :, 2] = GATE - 0.05
    assert rule.choose(views[None]) == [1]
    views[1] = np.nan  # a view the search skipped never wins
    assert rule.choose(views[None]) == [0]  # below the gate, upright still beats a less confident view
    views[3, :, 2] = GATE - 0.01
    assert rule.choose(views[None]) == [3]


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_search_finds_the_turn_and_returns_keypoints_in_the_input_frame(k):
    model = UprightOnlyModel()
    search = OrientationSearch(model)
    person = turned(UPRIGHT, k)  # the person as they appear in the (turned) image
    output = search(image_of(person)[None])
    expected_turn = (4 - k) % 4  # the turn of the input that makes this person upright
    assert search.last_turns.tolist() == [expected_turn]
    pixel_centres = (np.floor(person * SIZE) + 0.5) / SIZE
    np.testing.assert_allclose(output[0, 0, :, :2], pixel_centres, atol=1e-6)
    assert output[0, 0, :, 2] == pytest.approx(0.9)
    # The upright image passes the gate in one pass; a turned one costs the three other views.
    assert model.calls == (1 if k == 0 else 4) == search.last_passes


def test_a_batch_searches_only_the_images_that_need_it():
    model = UprightOnlyModel()
    search = OrientationSearch(model)
    images = np.stack([image_of(turned(UPRIGHT, k)) for k in (0, 2, 0, 1)])
    search(images)
    assert search.last_turns.tolist() == [0, 2, 0, 3]
    assert model.calls == 4 + 2 * 3


def test_bad_orientation_and_models_without_an_up_are_errors():
    with pytest.raises(ValueError, match="orientation='sideways'"):
        check_orientation("sideways")
    from movenet_train.keypoints import KeypointSchema

    no_up = KeypointSchema(names=("a", "b", "c"), flip_pairs=(), skeleton=(), sigmas=(0.1, 0.1, 0.1), torso=(),
                           name="tri", source="test")
    with pytest.raises(ValueError, match="orientation=any needs to know which way is up"):
        body_axis_joints(no_up)


def test_multi_pose_models_are_refused():
    class MultiPose(UprightOnlyModel):
        multi_pose = True

    with pytest.raises(ValueError, match="single-pose"):
        OrientationSearch(MultiPose())

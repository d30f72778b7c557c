"""orientation=any: the turn rule on hand-made poses, and the search around a stand-in model that only
recognises upright people (so the right answer is known without a real network)."""

import numpy as np
import pytest

from movenet_train.errors import UserError
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
    with pytest.raises(UserError, match="orientation='sideways'"):
        check_orientation("sideways")
    from movenet_train.keypoints import KeypointSchema

    no_up = KeypointSchema(names=("a", "b", "c"), flip_pairs=(), skeleton=(), sigmas=(0.1, 0.1, 0.1), torso=(),
                           name="tri", source="test")
    with pytest.raises(UserError, match="orientation=any needs to know which way is up"):
        body_axis_joints(no_up)


def test_multi_pose_models_are_refused():
    class MultiPose(UprightOnlyModel):
        multi_pose = True

    with pytest.raises(UserError, match="single-pose"):
        OrientationSearch(MultiPose())


# --- people tilted between quarter turns: the alignment pass ---------------------------------------------------

BLOB_SIZE = 256  # input side: room for a 3 x 3 blob per joint with gaps wide enough to survive a bilinear turn
SHARP_DEGREES = 10  # the blob model's keypoints are exact only on a body this close to upright
MISS = 0.04  # ... and off by this much (normalised, downwards) on any other


def tilted(yx, degrees, centre=(0.5, 0.5)):
    """``yx`` turned by ``degrees`` counter-clockwise on screen about ``centre``: (y, x) -> c + R (p - c) with
    R = [[cos, -sin], [sin, cos]] on (y, x), so that 90 degrees is one ``np.rot90`` (``turned``)."""
    a = np.radians(degrees)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (np.asarray(yx) - centre) @ rotation.T + centre


def blob_image(yx, size=BLOB_SIZE, radius=1):
    """Joint j as a square blob (side 2 radius + 1) of red 10 (j + 1) centred on the pixel holding it, green 255
    marking blob pixels."""
    image = np.zeros((size, size, 3), np.uint8)
    for j, (row, col) in enumerate(np.floor(np.asarray(yx) * size).astype(int)):
        image[row - radius:row + radius + 1, col - radius:col + radius + 1] = (10 * (j + 1), 255, 0)
    return image


def blob_centres(yx, size=BLOB_SIZE):
    """Where the blobs of ``blob_image`` are: the centres of the pixels holding the joints, normalised."""
    return (np.floor(np.asarray(yx) * size) + 0.5) / size


class TiltSensitiveModel(Predictor):
    """Finds joint j at the centre of the pixels that are wholly blob (green >= 250: a resampled blob's edge
    blends with the background) with red near 10 (j + 1). Like a network trained on upright people, it is sure
    and exact on a body within ``SHARP_DEGREES`` of upright (head and shoulders over hips, knees and ankles), and
    unsure (0.3) and ``MISS`` off on any other; a joint it cannot see gets score 0. ``tilts``: the body tilt, in
    degrees, of every input it was given."""

    kind = "stand-in"
    multi_pose = False
    input_size = BLOB_SIZE
    schema = DEFAULT_SCHEMA

    def __init__(self):
        self.tilts = []

    def __call__(self, images):
        out = np.zeros((len(images), 1, N, 3), np.float32)
        for b, image in enumerate(np.asarray(images)):
            whole = image[..., 1] >= 250
            for j in range(N):
                rows, cols = np.nonzero(whole & (np.abs(image[..., 0].astype(int) - 10 * (j + 1)) <= 3))
                out[b, 0, j] = ((rows.mean() + 0.5) / BLOB_SIZE, (cols.mean() + 0.5) / BLOB_SIZE, 1.0) if len(rows) \
                    else (0.5, 0.5, 0.0)
            seen = out[b, 0, :, 2] > 0
            up = out[b, 0, :7, :2][seen[:7]].mean(axis=0) - out[b, 0, 11:, :2][seen[11:]].mean(axis=0)
            tilt = np.degrees(np.arccos(np.clip(-up[0] / np.linalg.norm(up), -1, 1)))  # angle to the image's up
            self.tilts.append(tilt)
            if tilt > SHARP_DEGREES:
                out[b, 0, :, 0] += MISS
            out[b, 0, :, 2] *= 0.9 if tilt <= SHARP_DEGREES else 0.3
        return out


def test_the_blob_model_is_exact_on_upright_people_only():
    model = TiltSensitiveModel()
    upright, leaning = model(np.stack([blob_image(UPRIGHT), blob_image(tilted(UPRIGHT, 40))]))[:, 0]
    np.testing.assert_allclose(upright[:, :2], blob_centres(UPRIGHT), atol=1e-6)
    assert upright[:, 2] == pytest.approx(0.9) and leaning[:, 2] == pytest.approx(0.3)
    np.testing.assert_allclose(leaning[:, :2], blob_centres(tilted(UPRIGHT, 40)) + [MISS, 0], atol=1e-6)
    assert model.tilts == [pytest.approx(0, abs=0.5), pytest.approx(40, abs=1)]


# 30-60 degrees from upright and from the other quarter turns: the residual after the nearest quarter turn is
# 35 to 45 degrees, at or beyond ALIGN_MIN_DEGREES (30) and clear of it.
TILTS = (35, -45, 55, 140, 230)


def test_people_tilted_between_quarter_turns_are_found_by_the_alignment_pass():
    """The search over the blob model: no quarter turn shows these people upright, so only the pass turned by the
    body's own angle about its middle sees them sharp; its keypoints, turned back, are the blob centres drawn (to
    a pixel: the model reads a resampled blob)."""
    people = [tilted(UPRIGHT, degrees) for degrees in TILTS]
    model = TiltSensitiveModel()
    search = OrientationSearch(model)
    output = search(np.stack([blob_image(p) for p in people]))
    assert search.last_aligned.tolist() == [True] * len(TILTS)
    # one upright pass each, three quarter turns each (all unsure), one aligned pass each
    assert search.last_passes == len(TILTS) * 5
    assert max(model.tilts[-len(TILTS):]) < 2  # what the aligned pass showed the model: upright people
    for person, found in zip(people, output[:, 0]):
        np.testing.assert_allclose(found[:, :2], blob_centres(person), atol=1.0 / BLOB_SIZE)
        assert found[:, 2] == pytest.approx(0.9)


def test_a_person_off_centre_is_turned_about_their_own_middle():
    """A smaller person leaning 45 degrees to the right, the head in the top right corner (0.55 from the image
    centre): turned upright about the image centre instead of their own middle, the head would leave the input
    (by a 45-degree turn the corner's direction becomes the top edge's, 0.5 from the centre)."""
    person = tilted(0.6 * (UPRIGHT - 0.5) + [0.25, 0.72], -45, centre=(0.25, 0.72))
    assert np.linalg.norm(person[0] - 0.5) > 0.54 and person.min() > 0.02 and person.max() < 0.98
    search = OrientationSearch(TiltSensitiveModel())
    found = search(blob_image(person)[None])[0, 0]
    assert search.last_aligned.tolist() == [True]
    np.testing.assert_allclose(found[:, :2], blob_centres(person), atol=1.0 / BLOB_SIZE)


def test_a_tilt_under_the_threshold_is_left_to_the_quarter_turn():
    """20 degrees: below ALIGN_MIN_DEGREES no aligned pass runs (the search keeps np.rot90's exact pixels), and the
    blob model's miss stays in the answer."""
    person = tilted(UPRIGHT, 20)
    search = OrientationSearch(TiltSensitiveModel())
    found = search(blob_image(person)[None])[0, 0]
    assert search.last_aligned.tolist() == [False] and search.last_passes == 4
    np.testing.assert_allclose(found[:, :2], blob_centres(person) + [MISS, 0], atol=1e-6)

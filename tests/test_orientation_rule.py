"""The quarter-turn rule in NumPy and TensorFlow, and the in-graph search (``search_in_graph``) that exported
``orientation=any`` files run: same scores, same choices, keypoints turned back like the Python search's."""

import numpy as np
import pytest
import tensorflow as tf

from movenet_train import geometry
from movenet_train.keypoints import COCO_17
from movenet_train.orientation import (GATE, TURNS, OrientationSearch, TurnRule, nearest_turns, search_in_graph,
                                       turned_back_views)
from movenet_train.runtime import Predictor

RULE = TurnRule.of(COCO_17)
N = COCO_17.num_keypoints


def _random_views(rng, batch):
    keypoints = rng.uniform(0.0, 1.0, [batch, TURNS, N, 3]).astype(np.float32)
    return keypoints


def _upright_pose(score, rng=None, x=0.5):
    """A pose whose body axis points straight up (cosine exactly 1) and whose every score is ``score``, so that its
    upright score is its top-k mean."""
    pose = np.zeros([N, 3], np.float32)
    pose[:, 0], pose[:, 1], pose[:, 2] = 0.5, x, score
    pose[list(RULE.upper), 0] = 0.25
    pose[list(RULE.lower), 0] = 0.75
    if rng is not None:  # the joints outside the axis anywhere
        others = [i for i in range(N) if i not in RULE.upper + RULE.lower]
        pose[others, :2] = rng.uniform(0, 1, [len(others), 2])
    return pose


def test_scores_and_choices_agree_on_random_views():
    rng = np.random.default_rng(0)
    views = _random_views(rng, 2000)
    # Scores spread over the gate: confident upright, upside-down and sideways axes alike.
    views[..., 2] **= rng.uniform(0.2, 3.0, [2000, TURNS, 1])
    numpy_scores = RULE.upright_score(views)
    tf_scores = RULE.tf_upright_score(views).numpy()
    # float32 against float64: a short body axis (random joints nearly cancel) costs a few 1e-6 of its cosine.
    np.testing.assert_allclose(tf_scores, numpy_scores, rtol=0, atol=1e-5)
    assert (numpy_scores[:, 0] >= GATE).mean() > 0.05 and (numpy_scores[:, 0] < GATE).mean() > 0.5  # both sides
    assert len(set(RULE.choose(views))) == TURNS
    np.testing.assert_array_equal(RULE.tf_choose(views).numpy(), RULE.choose(views))


def test_choices_agree_near_the_gate_and_on_ties():
    rng = np.random.default_rng(1)
    cases = []
    # Upright view just above / just below the gate, a turned view far better: the gate alone decides.
    for delta in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6):
        for sign in (1, -1):
            views = np.stack([_upright_pose(GATE + sign * delta, rng)] + [_upright_pose(0.9, rng)] * 3)
            views[2, :, 2] = 0.95  # view 2 best
            cases.append((views, 0 if sign > 0 else 2))
    # Ties between turned views: the lower turn wins, in both.
    tie = np.stack([_upright_pose(0.1, rng), _upright_pose(0.3, rng), _upright_pose(0.7, rng), _upright_pose(0.7, rng)])
    cases.append((tie, 2))
    same = np.stack([_upright_pose(0.3, rng)] * TURNS)
    cases.append((same, 0))
    # Every view upside down or flat (score 0), and all-zero scores: the upright view (argmax of equal scores).
    flat = np.stack([_upright_pose(0.8, rng)] * TURNS)
    flat[..., 0] = 1.0 - flat[..., 0]  # heads below hips
    cases.append((flat, 0))
    cases.append((np.zeros([TURNS, N, 3], np.float32), 0))
    # NaN views (a search that skipped them) never win.
    skipped = np.stack([_upright_pose(0.1, rng)] + [np.full([N, 3], np.nan, np.float32)] * 3)
    cases.append((skipped, 0))
    views = np.stack([c[0] for c in cases]).astype(np.float32)
    expected = [c[1] for c in cases]
    np.testing.assert_array_equal(RULE.choose(views), expected)
    np.testing.assert_array_equal(RULE.tf_choose(views).numpy(), expected)
    # A gate that float32 and float64 both hold exactly: a score exactly at it keeps the upright view in both.
    exact = TurnRule(RULE.upper, RULE.lower, RULE.top_k, gate=0.5)
    at_gate = np.stack([_upright_pose(0.5), _upright_pose(0.9), _upright_pose(0.2), _upright_pose(0.2)])[None]
    assert exact.upright_score(at_gate)[0, 0] == exact.tf_upright_score(at_gate).numpy()[0, 0] == 0.5
    assert exact.choose(at_gate)[0] == exact.tf_choose(at_gate).numpy()[0] == 0


def test_tf_unturn_is_the_numpy_one():
    points = np.random.default_rng(2).uniform(0, 1, [5, N, 2])
    for turns in range(-4, 8):
        expected = geometry.unturn_normalized(points, turns)
        np.testing.assert_allclose(geometry.unturn_normalized_points(points, turns).numpy(), expected, atol=1e-6)
        np.testing.assert_allclose(geometry.turn_normalized_points(points, tf.constant(turns)).numpy(),
                                   geometry.turn_normalized(points, turns), atol=1e-6)


def test_quarter_turn_image_is_tf_image_rot90_without_branches():
    image = np.random.default_rng(6).integers(0, 256, [2, 5, 7, 3], np.uint8)
    for turns in range(-1, 6):
        for x in (image[0], image):  # one image, a batch
            np.testing.assert_array_equal(geometry.quarter_turn_image(tf.constant(x), turns).numpy(),
                                          tf.image.rot90(x, turns).numpy())
    graph = tf.function(lambda x: tf.stack([geometry.quarter_turn_image(x, k) for k in range(TURNS)]),
                        input_signature=[tf.TensorSpec([6, 6, 3], tf.uint8)]).get_concrete_function().graph
    ops = {op.type for op in graph.get_operations()}
    assert not ops & {"If", "StatelessIf", "Case", "StatelessCase", "Switch", "Merge", "Assert"}, ops


class _FixedViews:
    """A stand-in for ``MoveNetInference``: fixed keypoints per view, whatever the pixels; records the views."""

    def __init__(self, views):
        self.views = tf.constant(views[:, None], tf.float32)  # [4, 1, N, 3]
        self.seen = []

    def __call__(self, images):
        self.seen.append(images)
        return self.views


@pytest.mark.parametrize("turn", range(TURNS))
def test_graph_search_turns_the_chosen_view_back(turn):
    rng = np.random.default_rng(3 + turn)
    views = np.stack([_upright_pose(0.2, rng) for _ in range(TURNS)])  # upright but unsure: below the gate
    views[turn] = _upright_pose(0.9, rng)  # the confident one ...
    views[turn, :, 1] = rng.uniform(0.1, 0.9, N)  # ... its joints anywhere across, its axis still roughly upright
    image = rng.integers(0, 256, [1, 64, 64, 3], np.uint8)
    inference = _FixedViews(views)
    out = search_in_graph(inference, tf.constant(image), RULE).numpy()
    assert out.shape == (1, 1, N, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0, :, :2], geometry.unturn_normalized(views[turn, :, :2], turn), atol=1e-6)
    np.testing.assert_array_equal(out[0, 0, :, 2], views[turn, :, 2])
    (seen,) = inference.seen  # one batch of four: np.rot90 of the input, k = 0..3
    np.testing.assert_array_equal(seen.numpy(), np.stack([np.rot90(image[0], k) for k in range(TURNS)]))
    traced = tf.function(lambda x: search_in_graph(_FixedViews(views), x, RULE),
                         input_signature=[tf.TensorSpec([1, 64, 64, 3], tf.uint8)])
    np.testing.assert_array_equal(traced(image).numpy(), out)


def _markers(images):
    """A pixel-reading stand-in model: channel 0's brightest pixel is the head (the upper joints), channel 1's the
    feet (the lower joints), the other joints half-way; every score 0.9. ``[B, S, S, 3]`` -> ``[B, 1, N, 3]``."""
    images = tf.cast(images, tf.float32)
    size = tf.shape(images)[1]

    def where(channel):
        flat = tf.argmax(tf.reshape(images[..., channel], [tf.shape(images)[0], -1]), axis=1, output_type=tf.int32)
        return (tf.cast(tf.stack([flat // size, flat % size], -1), tf.float32) + 0.5) / tf.cast(size, tf.float32)

    head, feet = where(0), where(1)
    joints = np.full([N], 2)
    joints[list(RULE.upper)], joints[list(RULE.lower)] = 0, 1
    places = tf.stack([head, feet, (head + feet) / 2], axis=1)  # [B, 3, 2]
    yx = tf.gather(places, joints, axis=1)
    return tf.concat([yx, tf.fill(tf.concat([tf.shape(yx)[:2], [1]], 0), 0.9)], -1)[:, None]


class _MarkerPredictor(Predictor):
    kind, multi_pose, input_size, schema = "markers", False, 48, COCO_17

    def __call__(self, images):
        return _markers(tf.constant(np.asarray(images))).numpy()


def test_graph_search_agrees_with_the_python_search_on_pixels():
    """People drawn as two marker pixels (head, feet) in every direction: the graph and ``OrientationSearch`` pick
    the same turn and give the markers' own places in the input (whatever the turn)."""
    rng = np.random.default_rng(4)
    size, images = 48, []
    for _ in range(40):
        head, feet = rng.integers(0, size, [2, 2])
        if (head == feet).all():
            continue
        image = np.zeros([size, size, 3], np.uint8)
        image[head[0], head[1], 0] = image[feet[0], feet[1], 1] = 255
        images.append(image)
    images = np.stack(images)
    search = OrientationSearch(_MarkerPredictor(), align=False)  # exported files do the quarter turns only
    expected = search(images)
    graph = tf.function(lambda x: search_in_graph(_markers, x, search.rule),
                        input_signature=[tf.TensorSpec([1, size, size, 3], tf.uint8)])
    outputs = np.concatenate([graph(image[None]).numpy() for image in images])
    np.testing.assert_allclose(outputs, expected, atol=1e-6)
    np.testing.assert_allclose(outputs, _markers(images).numpy(), atol=1e-6)  # the markers' own places
    assert len(set(search.last_turns)) == TURNS  # every turn was needed somewhere
    # Each view's keypoints, turned back, are the markers' places too.
    views = turned_back_views(_MarkerPredictor(), images)
    np.testing.assert_allclose(views, np.repeat(expected, TURNS, axis=1), atol=1e-6)


def test_nearest_turns_names_the_view_an_output_came_from():
    rng = np.random.default_rng(5)
    views = rng.uniform(0, 1, [6, TURNS, N, 3])
    chosen = np.array([0, 1, 2, 3, 2, 1])
    outputs = views[np.arange(6), chosen][:, None] + rng.normal(0, 0.01, [6, 1, N, 3])
    np.testing.assert_array_equal(nearest_turns(outputs, views), chosen)

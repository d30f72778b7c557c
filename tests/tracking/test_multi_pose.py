"""MultiPoseTracker: TF.js's constants, input sizes, id trackers and smoothing, on hand-computed cases.

Upstream references are to tensorflow/tfjs-models at 18a73420 (the snapshot ../shared's videos come from),
pose-detection 2.1.3. The comparison with the TF.js runtime itself is in test_multi_pose_tfjs.py.
"""

import math

import numpy as np
import pytest

from movenet_train.config import default_config
from movenet_train.errors import UserError
from movenet_train.keypoints import COCO_17
from movenet_train.tracking import MultiPoseTracker, PoseTracker, TrackerConfig
from movenet_train.tracking.multi_pose import BoundingBoxTracker, KeypointTracker, multi_pose_input
from movenet_train.tracking.tracker import BoundingBoxTrackerConfig, KeypointTrackerConfig
from movenet_train.visualization import track_color

N = COCO_17.num_keypoints


def test_defaults_are_the_tfjs_constants():
    config = default_config(TrackerConfig)
    # src/movenet/constants.ts:36 MOVENET_MULTIPOSE_DEFAULT_MAX_DIMENSION, :57 DEFAULT_MIN_POSE_SCORE
    assert config.multi_pose_max_dimension == 256 and config.min_pose_score == 0.25
    # constants.ts:83-88 DEFAULT_BOUNDING_BOX_TRACKER_CONFIG
    assert config.bounding_box_tracker == BoundingBoxTrackerConfig(max_tracks=18, max_age_ms=1000, min_similarity=0.15)
    # constants.ts:67-81 DEFAULT_KEYPOINT_TRACKER_CONFIG; keypointFalloff (:75) is COCO's sigmas, which the
    # config leaves to the keypoint schema
    assert config.keypoint_tracker == KeypointTrackerConfig(
        max_tracks=18, max_age_ms=1000, min_similarity=0.2, keypoint_confidence_threshold=0.3,
        keypoint_falloff=None, min_number_of_keypoints=4)
    tfjs_falloff = [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107,
                    0.087, 0.087, 0.089, 0.089]
    np.testing.assert_array_equal(COCO_17.sigmas, tfjs_falloff)
    # constants.ts:46-54 KEYPOINT_FILTER_CONFIG, the per-track filter too (detector.ts:438)
    f = config.keypoint_filter
    assert (f.frequency, f.min_cutoff, f.beta, f.derivate_cutoff, f.threshold_cutoff, f.threshold_beta) == (
        30, 2.5, 300.0, 2.5, 0.5, 5.0)


@pytest.mark.parametrize("key, value, message", [
    ("max_tracks", 0, "max_tracks must be at least 1"),
    ("max_age_ms", 0, "max_age_ms must be positive"),
])
def test_tracker_configs_are_validated_as_tfjs_does(key, value, message):
    values = dict(max_tracks=18, max_age_ms=1000, min_similarity=0.15)
    with pytest.raises(UserError, match=f"bounding_box_tracker.{message}"):
        BoundingBoxTrackerConfig(**{**values, key: value})
    with pytest.raises(UserError, match="keypoint_confidence_threshold must be in"):
        KeypointTrackerConfig(18, 1000, 0.2, 1.5, None, 4)


@pytest.mark.parametrize("height, width, size", [(576, 900, (192, 256)), (244, 600, (128, 256)),
                                                 (1280, 720, (256, 160)), (256, 256, (256, 256))])
def test_input_size_as_tfjs(height, width, size):
    # The examples: 900x576 runs at 256x192, 600x244 at 256x128 (detector.ts:384-410).
    image, resized = multi_pose_input(np.zeros((height, width, 3), np.uint8), 256)
    assert image.shape[:2] == size and image.dtype == np.int32
    assert max(resized) == 256 and all(s - r < 32 for s, r in zip(size, resized))


def test_input_resize_samples_like_tfjs_resize_bilinear():
    # No half-pixel centres: a 2x downscale reads every second pixel exactly; padding is zeros below.
    frame = np.random.default_rng(0).integers(1, 256, (64, 128, 3)).astype(np.uint8)
    image, resized = multi_pose_input(frame, 32)
    assert resized == (16, 32) and image.shape == (32, 32, 3)
    np.testing.assert_array_equal(image[:16], frame[::4, ::4])
    assert not image[16:].any()
    with pytest.raises(UserError, match="multiple of 32"):
        multi_pose_input(frame, 100)


def test_javascript_rounding_of_the_short_side():
    # 256 * 5 / 512 = 2.5: Math.round gives 3 where Python's round would give 2 (halves to even)
    image, resized = multi_pose_input(np.zeros((5, 512, 3), np.uint8), 256)
    assert resized == (3, 256)


def box(ymin, xmin, ymax, xmax):
    return np.array([ymin, xmin, ymax, xmax], np.float64)


def pose_at(y, x, score=0.9, spread=0.05):
    """Keypoints [N, 3] scattered around (y, x), all with ``score``."""
    offsets = np.linspace(-spread, spread, N)
    return np.stack([y + offsets, x + offsets[::-1], np.full(N, score)], axis=-1)


def box_tracker(**overrides):
    return BoundingBoxTracker(BoundingBoxTrackerConfig(**{"max_tracks": 18, "max_age_ms": 1000,
                                                          "min_similarity": 0.15, **overrides}))


def apply(tracker, boxes, ms):
    return tracker.apply([None] * len(boxes), [box(*b) for b in boxes], ms * 1000.0)


def test_box_iou_hand_computed():
    tracker = box_tracker()
    apply(tracker, [(0, 0, 1, 1)], 0)
    # overlap 0.5 x 1 over a union of 1.5: 1/3
    assert tracker.similarity([None], [box(0, 0.5, 1, 1.5)])[0, 0] == pytest.approx(1 / 3)
    assert tracker.similarity([None], [box(0, 1, 1, 2)])[0, 0] == 0.0  # touching edges


def test_ids_start_at_one_follow_the_best_match_and_are_greedy_in_pose_order():
    tracker = box_tracker()
    assert apply(tracker, [(0, 0, 1, 1), (0, 2, 1, 3)], 0) == [1, 2]
    # the people swap places in the model's order: ids follow the boxes
    assert apply(tracker, [(0, 2.1, 1, 3.1), (0, 0.1, 1, 1.1)], 100) == [2, 1]
    # both poses overlap track 1 best; the first takes it, the second (IoU with track 2 below 0.15) is new
    assert apply(tracker, [(0, 0.1, 1, 1.1), (0, 0.2, 1, 1.2)], 200) == [1, 3]


def test_max_age_is_inclusive_and_a_returning_person_gets_a_new_id():
    tracker = box_tracker()
    assert apply(tracker, [(0, 0, 1, 1)], 0) == [1]
    assert apply(tracker, [], 500) == []
    assert apply(tracker, [(0, 0, 1, 1)], 1000) == [1]  # exactly max_age: kept (tracker.ts:89 "<=")
    assert apply(tracker, [(0, 0, 1, 1)], 2000.001) == [2]  # a microsecond over: dropped, a new id


def test_max_tracks_keeps_the_most_recently_seen():
    tracker = box_tracker(max_tracks=2)
    apply(tracker, [(0, 0, 1, 1), (0, 2, 1, 3)], 0)
    apply(tracker, [(0, 4, 1, 5)], 100)  # a third person: track 3, then track 1 or 2 is cut
    assert tracker.ids == {3, 1}  # sorted by last seen, stable: 3 (t=100), then 1 before 2 (both t=0)


def keypoint_tracker(**overrides):
    config = KeypointTrackerConfig(**{"max_tracks": 18, "max_age_ms": 1000, "min_similarity": 0.2,
                                      "keypoint_confidence_threshold": 0.3, "keypoint_falloff": None,
                                      "min_number_of_keypoints": 4, **overrides})
    return KeypointTracker(config, COCO_17.sigmas)


def test_keypoint_similarity_hand_computed():
    tracker = keypoint_tracker()
    track = np.zeros((N, 3))
    track[:4] = [[0.2, 0.1, 0.9], [0.6, 0.1, 0.9], [0.2, 0.5, 0.9], [0.6, 0.5, 0.9]]  # a 0.4 x 0.4 square
    tracker.apply([track], [box(0, 0, 1, 1)], 0.0)
    pose = track.copy()
    pose[:4, 1] += 0.01  # every keypoint 0.01 to the right
    # area 0.16 + 1e-6, x_i = 2 * sigma_i: mean over the 4 of exp(-0.0001 / (2 * area * x_i^2))
    area = 0.16 + 1e-6
    expected = np.mean([math.exp(-0.0001 / (2 * area * (2 * s) ** 2)) for s in COCO_17.sigmas[:4]])
    assert tracker.similarity([pose], None)[0, 0] == pytest.approx(expected, rel=1e-12)
    pose[3, 2] = 0.29  # three keypoints in common: below min_number_of_keypoints
    assert tracker.similarity([pose], None)[0, 0] == 0.0


def test_keypoint_similarity_area_uses_only_confident_track_keypoints():
    # keypoint_tracker.ts:128-136: the area is over the track's keypoints above the threshold, clamped so it
    # always spans [min(1, ...), max(0, ...)]
    tracker = keypoint_tracker(min_number_of_keypoints=1)
    track = np.zeros((N, 3))
    track[0] = [0.5, 0.5, 0.9]  # one confident keypoint
    tracker.apply([track], [box(0, 0, 1, 1)], 0.0)
    pose = track.copy()
    pose[0, 1] += 0.1
    # min(1, 0.5) = 0.5 and max(0, 0.5) = 0.5 on each axis: area 0 + 1e-6, a tiny OKS
    expected = math.exp(-0.01 / (2 * 1e-6 * (2 * COCO_17.sigmas[0]) ** 2))
    assert tracker.similarity([pose], None)[0, 0] == pytest.approx(expected)


class SceneMultiPose:
    """MultiPose stand-in: people at fixed frame positions, each drawn into the model's padded input.

    ``people``: list of (y, x) normalised to the frame, one pose each, score 0.9; a seventh slot would not fit.
    """

    kind, multi_pose, input_size, schema = "fake", True, None, COCO_17

    def __init__(self, frame_shape, max_dimension=256):
        self.frame_shape, self.max_dimension = frame_shape, max_dimension
        self.people, self.inputs = [], []

    def __call__(self, images):
        self.inputs.append(images[0].shape)
        _, resized = multi_pose_input(np.zeros(self.frame_shape, np.uint8), self.max_dimension)
        scale = np.array(resized) / images[0].shape[:2]  # frame-normalised -> padded-input-normalised
        out = np.zeros((1, 6, 56), np.float32)
        for slot, (y, x) in enumerate(self.people):
            kps = pose_at(y, x)
            kps[:, :2] *= scale
            out[0, slot, :51] = kps.ravel()
            out[0, slot, 51:55] = np.r_[(y - 0.1, x - 0.1) * scale, (y + 0.1, x + 0.1) * scale]
            out[0, slot, 55] = 0.9
        out[0, len(self.people), 55] = 0.2  # an unsure detection: dropped
        return out


def test_multi_pose_tracker_maps_back_to_pixels_and_keeps_ids():
    model = SceneMultiPose((100, 300, 3))
    tracker = MultiPoseTracker(model, tracker="bounding_box", smoothing=False)
    model.people = [(0.5, 0.25), (0.5, 0.75)]
    first = tracker(np.zeros((100, 300, 3), np.uint8), 0.0)
    assert model.inputs[-1] == (96, 256, 3)  # 300 -> 256 wide, 100 -> 85 high, padded to 96
    assert [p.id for p in first] == [1, 2]
    np.testing.assert_allclose(first[0].keypoints, pose_at(0.5, 0.25)[:, :2] * [100, 300], atol=1e-4)
    np.testing.assert_allclose(first[1].box, [40, 195, 60, 255], atol=1e-4)
    model.people = [(0.5, 0.76), (0.5, 0.26)]
    assert [p.id for p in tracker(np.zeros((100, 300, 3), np.uint8), 100.0)] == [2, 1]


def test_smoothing_is_per_track_and_dropped_with_it():
    model = SceneMultiPose((100, 300, 3))
    tracker = MultiPoseTracker(model, tracker="bounding_box", smoothing=True)
    model.people = [(0.5, 0.25)]
    for ms in (0.0, 100.0, 200.0):
        tracker(np.zeros((100, 300, 3), np.uint8), ms)
    assert set(tracker.filters) == {1}
    model.people = [(0.5, 0.27)]  # a small move: smoothed, so the reported pose lags it
    moved = tracker(np.zeros((100, 300, 3), np.uint8), 300.0)[0]
    assert 0.25 * 300 < moved.keypoints[:, 1].mean() < 0.27 * 300
    model.people = []
    tracker(np.zeros((100, 300, 3), np.uint8), 1400.0)  # 1.1 s unseen: track and its filter dropped
    assert tracker.filters == {} and tracker.ids.ids == set()


def test_no_tracker_gives_no_ids_and_no_smoothing():
    model = SceneMultiPose((100, 300, 3))
    tracker = MultiPoseTracker(model, tracker="none", smoothing=True)
    model.people = [(0.5, 0.25)]
    poses = tracker(np.zeros((100, 300, 3), np.uint8), 0.0)
    assert [p.id for p in poses] == [None] and not tracker.smoothing and len(poses) == 1


def test_single_pose_and_multi_pose_trackers_refuse_the_other_kind():
    model = SceneMultiPose((100, 300, 3))
    with pytest.raises(UserError, match="MultiPose: track its video with .*MultiPoseTracker"):
        PoseTracker(model)
    model.multi_pose = False
    with pytest.raises(ValueError, match="single-pose: MultiPoseTracker needs a MultiPose model"):
        MultiPoseTracker(model)
    model.multi_pose = True
    with pytest.raises(UserError, match="tracker='boxes': expected one of bounding_box, keypoint, none"):
        MultiPoseTracker(model, tracker="boxes")


def test_track_colours_are_stable_and_distinct():
    colours = [track_color(i) for i in range(1, 7)]
    assert colours == [track_color(i) for i in range(1, 7)]
    assert len(set(colours)) == 6

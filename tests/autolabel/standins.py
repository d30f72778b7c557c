"""Stand-in models for the autolabel tests: predictors that return poses the test wrote by hand, and the hand-made
keypoint schema they use (five joints, two flip pairs)."""

import numpy as np

from movenet_train.keypoints import KeypointSchema
from movenet_train.predictor import Predictor

SCHEMA = KeypointSchema(names=("head", "left_hand", "right_hand", "left_foot", "right_foot"),
                        flip_pairs=(("left_hand", "right_hand"), ("left_foot", "right_foot")),
                        skeleton=(("head", "left_hand"), ("head", "right_hand"), ("head", "left_foot"),
                                  ("head", "right_foot")),
                        sigmas=(0.05,) * 5, torso=("left_hand", "right_hand", "left_foot", "right_foot"),
                        name="five")


def is_mirrored(image):
    """The test images are brighter on their left half: a view whose right half is brighter was mirrored."""
    half = image.shape[1] // 2
    return image[:, :half].mean() < image[:, half:].mean()


class KnownPose(Predictor):
    """A single-pose stand-in: ``pose`` ([N, 3] normalised y, x, score) for every input; on a mirrored input
    (``is_mirrored``) ``mirrored_pose`` when given, as an ideal model would see the mirror image."""

    kind = "stand-in"
    multi_pose = False

    def __init__(self, pose, schema=SCHEMA, input_size=32, mirrored_pose=None):
        self.pose, self.mirrored_pose = np.asarray(pose, np.float32), mirrored_pose
        self.schema, self.input_size = schema, input_size
        self.inputs = 0

    def __call__(self, images):
        self.inputs += len(images)
        assert images.dtype == np.uint8 and images.shape[1:] == (self.input_size, self.input_size, 3)
        poses = [np.asarray(self.mirrored_pose if self.mirrored_pose is not None and is_mirrored(image)
                            else self.pose, np.float32) for image in images]
        return np.stack(poses)[:, None]


class KnownPeople(Predictor):
    """A MultiPose stand-in: the same ``[6, 3N + 5]`` output (people written by the test) for every image."""

    kind = "stand-in"
    multi_pose = True
    input_size = None

    def __init__(self, people, schema=SCHEMA):
        """``people``: [(keypoints [N, 3] normalised, box (ymin, xmin, ymax, xmax) normalised, score)]."""
        self.schema = schema
        self.output = np.zeros((6, 3 * schema.num_keypoints + 5), np.float32)
        for row, (keypoints, box, score) in zip(self.output, people):
            row[:3 * schema.num_keypoints] = np.asarray(keypoints).reshape(-1)
            row[3 * schema.num_keypoints:] = [*box, score]
        self.shapes = []

    def __call__(self, images):
        self.shapes.extend(image.shape for image in images)
        return np.stack([self.output] * len(images))


def two_tone(height, width):
    """An RGB image brighter on its left half (``is_mirrored`` tells a mirrored view of it)."""
    image = np.full((height, width, 3), 40, np.uint8)
    image[:, :width // 2] = 200
    return image

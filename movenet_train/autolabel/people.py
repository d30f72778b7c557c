"""Where the people are: the squares the labeller looks at.

``people=single``: one person per image. A still image is one square around the whole image (the letterbox
``single_person`` feeds, as a square crop); a video or GIF follows the person with the tracker's crop
(``tracking/crop.py``: the square TF.js cuts around the previous frame's pose, the whole padded frame when the
torso is lost).

``people=multi``: a MultiPose model file finds the people (``protocols.MultiPerson``'s input: long side 256, as
``multi_person`` eval), keeping those scoring at least ``min_person_score``; each is then cut as the
``every_person`` square around its box (``crops.person_square``, ``crop_scale`` x its longer side) and labelled
top-down by the single-pose model. Two finds that the labeller turns into the same pose are one person: the
lower-scored of two poses whose OKS reaches ``duplicate_oks`` is dropped (``remove_duplicates``).
"""

import dataclasses

import numpy as np

from movenet_train.errors import UserError
from movenet_train.evaluation import crops
from movenet_train.evaluation.coco_metrics import keypoint_similarities
from movenet_train.evaluation.protocols import MultiPerson
from movenet_train.modeling.outputs import unpack
from movenet_train.tracking import crop as crop_lib

@dataclasses.dataclass
class Person:
    """One person to label: ``square`` (top, left, side) in pixels; the detector's ``box`` (x, y, w, h) pixels and
    ``score`` (1 without a detector); a multi-pose labeller's own ``keypoints`` [N, 3] (y, x, score), pixels."""

    square: tuple
    box: tuple = None
    score: float = 1.0
    keypoints: np.ndarray = None


def whole_image(height, width):
    """The person of a still image with ``people=single``: the square the image is letterboxed into."""
    return Person(crops.person_square([0, 0, width, height], 1.0, height, width))


def region_square(region, height, width):
    """(top, left, side) in whole pixels of a tracker ``CropRegion`` (a square in pixels)."""
    ymin, xmin, ymax, xmax = region.to_pixels(height, width)
    return crops.person_square([xmin, ymin, xmax - xmin, ymax - ymin], 1.0, height, width)


class Follower:
    """``people=single`` on a clip: each frame's square is the one the previous frame's pose gives
    (``crop_lib.next_crop_region`` with the tracker's expansions), the whole padded frame at the start and after a
    frame without a pose. Unsmoothed: a label is the pose of its own frame, not a filtered one."""

    def __init__(self, schema, tracking):
        self.layout = crop_lib.TorsoLayout.of(schema)
        self.tracking = tracking
        self.region = None

    def person(self, height, width):
        region = self.region or crop_lib.full_image_region(height, width)
        return Person(region_square(region, height, width))

    @property
    def following(self):
        return self.region is not None

    def update(self, keypoints, height, width):
        """The next square from this frame's pose ``[N, 3]`` (pixels); None forgets the person."""
        if keypoints is None:
            self.region = None
            return
        region = crop_lib.next_crop_region(keypoints[:, :2], keypoints[:, 2], height, width,
                                           self.tracking.min_keypoint_score, self.tracking.torso_expansion,
                                           self.tracking.body_expansion, layout=self.layout)
        self.region = None if region == crop_lib.full_image_region(height, width) else region


class Detector:
    """``people=multi``: the people a MultiPose predictor finds in images, batched over images of one shape."""

    def __init__(self, predictor, min_person_score, crop_scale, long_side=256):
        if not predictor.multi_pose:
            raise UserError(f"detector: people=multi needs a MultiPose model file to find the people; this "
                            f"{predictor.kind} model is single-pose")
        self.predictor = predictor
        self.min_person_score = min_person_score
        self.crop_scale = crop_scale
        self.protocol = MultiPerson(long_side=long_side, num_keypoints=predictor.schema.num_keypoints)

    def __call__(self, images):
        """``[[Person, ...] per image]`` of a list of RGB images, best first."""
        prepared = [self.protocol.prepare(image, [])[0] for image in images]
        outputs = [None] * len(images)
        shapes = {}
        for index, (pixels, _) in enumerate(prepared):
            shapes.setdefault(pixels.shape, []).append(index)
        for indices in shapes.values():
            batch = np.asarray(self.predictor(np.stack([prepared[i][0] for i in indices])))
            for i, output in zip(indices, batch):
                outputs[i] = output
        return [self._people(output, frame, image.shape[:2])
                for output, (_, frame), image in zip(outputs, prepared, images)]

    def _people(self, output, frame, shape):
        people = unpack(output, self.predictor.schema.num_keypoints, multi_pose=True).above(self.min_person_score)
        found = []
        for keypoints, box, score in sorted(zip(people.keypoints, people.boxes, people.scores), key=lambda p: -p[2]):
            (ymin, xmin), (ymax, xmax) = frame.to_pixels(np.reshape(box, (2, 2)))
            xywh = (float(xmin), float(ymin), float(xmax - xmin), float(ymax - ymin))
            pixels = np.concatenate([frame.to_pixels(keypoints[:, :2]), keypoints[:, 2:]], axis=-1)
            found.append(Person(crops.person_square(xywh, self.crop_scale, *shape), xywh, float(score), pixels))
        return found


def remove_duplicates(poses, scores, areas, sigmas, min_keypoint_score, duplicate_oks):
    """Indices of the poses to keep, best score first: a pose whose OKS with a kept one (its joints scoring at
    least ``min_keypoint_score`` as the labelled ones, its ``areas`` entry as the scale) reaches
    ``duplicate_oks`` is the same person found twice."""
    kept = []
    for i in np.argsort(-np.asarray(scores), kind="stable"):
        duplicate = False
        for j in kept:
            labelled = poses[j][:, 2] >= min_keypoint_score
            if not labelled.any():
                continue
            reference = {"keypoints": np.c_[poses[j][:, 1], poses[j][:, 0], 2 * labelled].reshape(-1).tolist(),
                         "area": areas[j]}
            candidate = np.c_[poses[i][:, 1], poses[i][:, 0], poses[i][:, 2]].reshape(-1)
            if np.nanmean(keypoint_similarities(reference, candidate, sigmas)) >= duplicate_oks:
                duplicate = True
                break
        if not duplicate:
            kept.append(int(i))
    return kept

"""Eval protocols: which images count, what the model sees, and how its output becomes COCO results.

``single_person`` is the protocol of the reference figures in ``reference_models/README.md``: images with
exactly one person annotation (non-crowd, at least one labelled keypoint), the whole image letterboxed to the
model size (``crop=none``) or a square person crop (``crop=person``). ``every_person`` is the top-down
"ground-truth boxes" protocol for single-pose models: every non-crowd person with a labelled keypoint is cut as
the same square crop and its one pose is scored against all annotations of its image. ``multi_person`` runs the
multi-pose model on every image at long side 256 (padded to multiples of 32) and keeps every person above a score.

A protocol's ``prepare`` gives the views of one image (model input and the ``Frame`` that maps back): one for
single_person and multi_person, one per person for every_person.
"""

import dataclasses
import math

import numpy as np

from movenet_train.errors import UserError
from movenet_train.config import check_keys
from movenet_train.evaluation import crops
from movenet_train.modeling.outputs import unpack
from movenet_train.preprocessing import model_input, unletterbox

PROTOCOLS = ("single_person", "every_person", "multi_person")
CROPS = ("none", "person")


def protocol_for(protocol, multi_pose):
    """``protocol``, or without one (``eval.protocol: null``) the protocol the model is made for."""
    return protocol or ("multi_person" if multi_pose else "single_person")


def is_person_with_keypoints(annotation):
    """The annotations COCOeval scores keypoints against (crowd and keypoint-less ones are ignored)."""
    return not annotation.get("iscrowd", 0) and annotation.get("num_keypoints", 0) > 0


def coco_result(image_id, yx_pixels, scores, score):
    """One entry of ``keypoints_results.json``; keypoint scores go where COCO puts visibility (COCOeval ignores it)."""
    keypoints = np.stack([yx_pixels[:, 1], yx_pixels[:, 0], scores], axis=-1).reshape(-1)
    return {"image_id": image_id, "category_id": 1, "keypoints": [round(float(v), 3) for v in keypoints],
            "score": float(score)}


@dataclasses.dataclass(frozen=True)
class Frame:
    """The region of the original image that was letterboxed into the model input, to map predictions back."""

    height: int
    width: int
    input_height: int
    input_width: int
    top: int = 0
    left: int = 0

    def to_pixels(self, yx):
        """Normalised (y, x) over the model input ``[..., 2]`` -> (y, x) pixels of the original image."""
        yx = unletterbox(np.asarray(yx, np.float64), self.height, self.width, self.input_height, self.input_width)
        return yx + np.array([self.top, self.left], np.float64)


@dataclasses.dataclass(frozen=True)
class SinglePerson:
    input_size: int
    crop: str = "none"
    crop_scale: float = 1.25
    # Of the model's schema; keyword-only so that it is required yet stays last, where metrics.json lists it.
    num_keypoints: int = dataclasses.field(kw_only=True)

    name = "single_person"

    def __post_init__(self):
        if self.crop not in CROPS:
            raise UserError(f"crop={self.crop!r}: expected one of {', '.join(CROPS)}")
        if not self.crop_scale > 0:
            raise UserError(f"crop_scale={self.crop_scale}: must be > 0")

    def select(self, annotations):
        return len(annotations) == 1 and is_person_with_keypoints(annotations[0])

    def prepare(self, image, annotations):
        """[(uint8 model input, Frame)] of one selected image."""
        size = self.input_size
        if self.crop == "person":
            return [person_view(image, annotations[0], self.crop_scale, size)]
        return [(model_input(image, size, size), Frame(image.shape[0], image.shape[1], size, size))]

    def results(self, output, frame, image_id):
        return single_pose_results(output, frame, image_id, self.num_keypoints)


def single_pose_results(output, frame, image_id, num_keypoints):
    """The one pose of a single-pose output, scored by the model's pose score, as a COCO results list."""
    people = unpack(output, num_keypoints, multi_pose=False)
    keypoints = people.keypoints[0]
    return [coco_result(image_id, frame.to_pixels(keypoints[:, :2]), keypoints[:, 2], people.scores[0])]


def person_view(image, annotation, crop_scale, size):
    """(model input, Frame) of the square ``crops.person_square`` around ``annotation``'s box, letterboxed."""
    top, left, side = crops.person_square(annotation["bbox"], crop_scale, *image.shape[:2])
    return model_input(crops.crop_square(image, top, left, side), size, size), Frame(side, side, size, size, top, left)


@dataclasses.dataclass(frozen=True)
class EveryPerson:
    """Top-down with ground-truth boxes: one crop, one pose per scored person; COCOeval matches each pose against
    every annotation of its image (crowd regions and keypoint-less people are COCOeval's to ignore)."""

    input_size: int
    crop_scale: float = 1.25
    num_keypoints: int = dataclasses.field(kw_only=True)

    name = "every_person"
    crop = "person"  # what metrics.json records: every view is a person crop

    def __post_init__(self):
        if not self.crop_scale > 0:
            raise UserError(f"crop_scale={self.crop_scale}: must be > 0")

    def select(self, annotations):
        return any(map(is_person_with_keypoints, annotations))

    def prepare(self, image, annotations):
        """[(uint8 model input, Frame)], one per non-crowd person with a labelled keypoint, in annotation order."""
        return [person_view(image, ann, self.crop_scale, self.input_size)
                for ann in annotations if is_person_with_keypoints(ann)]

    def results(self, output, frame, image_id):
        return single_pose_results(output, frame, image_id, self.num_keypoints)


@dataclasses.dataclass(frozen=True)
class MultiPerson:
    long_side: int = 256
    multiple: int = 32  # MoveNet MultiPose takes any H, W that are multiples of 32
    # Low, because COCO AP never drops when lower-scored people are added (TF.js draws people from 0.25).
    score_threshold: float = 0.1
    num_keypoints: int = dataclasses.field(kw_only=True)  # of the model's schema, as SinglePerson's

    name = "multi_person"

    def __post_init__(self):
        if self.long_side < self.multiple or self.multiple < 1:
            raise UserError(f"long_side={self.long_side}, multiple={self.multiple}: need long_side >= multiple >= 1")

    def select(self, annotations):
        return True  # every image, as the official COCO keypoint eval

    def input_shape(self, height, width):
        scale = self.long_side / max(height, width)
        # The 1e-6 keeps a side of exactly k * multiple (up to float error) from rounding up to the next one.
        return tuple(self.multiple * max(1, math.ceil(side * scale / self.multiple - 1e-6)) for side in (height, width))

    def prepare(self, image, annotations):
        input_height, input_width = self.input_shape(*image.shape[:2])
        frame = Frame(image.shape[0], image.shape[1], input_height, input_width)
        return [(model_input(image, input_height, input_width), frame)]

    def results(self, output, frame, image_id):
        results = []
        people = unpack(output, self.num_keypoints, multi_pose=True).above(self.score_threshold)
        for keypoints, score in zip(people.keypoints, people.scores):
            results.append(coco_result(image_id, frame.to_pixels(keypoints[:, :2]), keypoints[:, 2], score))
        return results


MULTI_PERSON_OPTIONS = tuple(f.name for f in dataclasses.fields(MultiPerson) if f.name != "num_keypoints")


def build(protocol, model, crop="none", crop_scale=1.25, **options):
    """The protocol object for ``model``: a predictor or a ``MoveNetSpec`` (both say ``multi_pose``,
    ``input_size`` and ``schema``); ``options`` of the other protocol are ignored, unknown ones raise."""
    check_keys(options, MULTI_PERSON_OPTIONS, "eval")
    if protocol == "single_person":
        if model.multi_pose:
            raise UserError("protocol=single_person needs a single-pose model (Lightning, Thunder); this checkpoint "
                             "is multi-pose: use protocol=multi_person")
        return SinglePerson(model.input_size, crop, crop_scale, num_keypoints=model.schema.num_keypoints)
    if protocol == "every_person":
        if model.multi_pose:
            raise UserError("protocol=every_person needs a single-pose model (Lightning, Thunder); this checkpoint "
                             "is multi-pose: use protocol=multi_person")
        if crop not in CROPS:
            raise UserError(f"crop={crop!r}: expected one of {', '.join(CROPS)}")
        # every_person always crops: crop=none (the eval default) is accepted and means the same person crop
        return EveryPerson(model.input_size, crop_scale, num_keypoints=model.schema.num_keypoints)
    if protocol == "multi_person":
        if not model.multi_pose:
            raise UserError("protocol=multi_person needs a multi-pose model (+exp=multipose_lightning); this "
                             "checkpoint is single-pose: use protocol=single_person")
        if crop != "none":
            raise UserError(f"crop={crop!r} applies to protocol=single_person only; use crop=none")
        return MultiPerson(**options, num_keypoints=model.schema.num_keypoints)
    raise UserError(f"protocol={protocol!r}: expected one of {', '.join(PROTOCOLS)} "
                     "(the video protocol belongs to the tracker)")

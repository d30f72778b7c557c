"""COCO keypoint evaluation of any model file (checkpoint, released weights, SavedModel, TFLite)."""

from movenet_train.evaluation.evaluator import evaluate
from movenet_train.evaluation.job import run

__all__ = ["evaluate", "run"]

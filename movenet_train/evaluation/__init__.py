"""COCO keypoint evaluation of any model file (checkpoint, released weights, SavedModel, TFLite)."""

from movenet_train.evaluation.evaluator import evaluate

__all__ = ["evaluate"]

"""Export to SavedModel, TFLite FP32/FP16/INT8 and TF.js with the released MoveNet signatures."""

from movenet_train.export.exporter import DEFAULT_FORMATS, FORMATS, export_model

__all__ = ["DEFAULT_FORMATS", "FORMATS", "export_model"]

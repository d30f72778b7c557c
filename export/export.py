"""Export MoveNet to SavedModel, TFLite FP32/FP16/INT8, heads-only, ONNX and TF.js: ``python export/export.py
+exp=lightning checkpoint=PATH output=DIR`` (see configs/export.yaml and the README)."""

from movenet_train.jobs import export

if __name__ == "__main__":
    export.main()

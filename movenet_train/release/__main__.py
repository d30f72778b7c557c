"""``python -m movenet_train.release checkpoint=<run folder or model file> output=<dir>``.

Writes the drop-in files (SavedModel, TFLite FP16 / INT8, upright and ``orientation=any``, TF.js when its converter
is installed), MODEL_CARD.md and metrics.json; see configs/release.yaml for the options.
"""

from movenet_train.jobs import release

if __name__ == "__main__":
    release.main()

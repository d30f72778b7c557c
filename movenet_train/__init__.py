"""MoveNet training, evaluation and export in TensorFlow."""

import os

# tf_keras is the Keras of tf-models-official (Orbit, official.modeling); keep TF's own logs quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

"""``python -m movenet_train.predict checkpoint=<model> input=<image|folder|video|GIF> output=<dir>``.

Writes keypoints.json and the annotated media; see configs/predict.yaml for the options.
"""

from movenet_train import cli

if __name__ == "__main__":
    cli.predict()

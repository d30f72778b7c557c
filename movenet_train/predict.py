"""``python -m movenet_train.predict checkpoint=<model> input=<image|folder|video|GIF> output=<dir>``.

Writes keypoints.json and the annotated media; see configs/predict.yaml for the options.
"""

from movenet_train.jobs import predict

if __name__ == "__main__":
    predict.main()

"""Convert a COCO person-keypoint set to TFRecords.

    python data/prepare_coco.py annotations=<person_keypoints.json> images=<dir> output=<dir> [split=train]
"""

from movenet_train import cli

if __name__ == "__main__":
    cli.prepare_coco()

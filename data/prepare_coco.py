"""Convert a COCO person-keypoint set to TFRecords.

    python data/prepare_coco.py annotations=<person_keypoints.json> images=<dir> output=<dir> [split=train]
"""

from movenet_train.jobs import prepare_coco

if __name__ == "__main__":
    prepare_coco.main()

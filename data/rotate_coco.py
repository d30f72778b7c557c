"""Copies of a COCO person-keypoint set turned by 90 / 180 / 270 degrees, with keypoints and boxes moved exactly.

    python data/rotate_coco.py annotations=<person_keypoints.json> images=<dir> output=<dir> [angles=[90,180,270]]
"""

from movenet_train.jobs import rotate_coco

if __name__ == "__main__":
    rotate_coco.main()

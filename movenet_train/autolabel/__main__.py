"""``python -m movenet_train.autolabel checkpoint=<model> input=<folder|image|video|GIF> output=<dir>``.

Writes person_keypoints.json (COCO keypoints), contact sheets and autolabel_report.json; see
configs/autolabel.yaml for the options and docs/autolabel.md for the labelling loop.
"""

from movenet_train.jobs import autolabel

if __name__ == "__main__":
    autolabel.main()

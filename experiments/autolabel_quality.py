"""Label quality of autolabel: people=multi labels of the COCO sample scored against its hand labels.

    python experiments/autolabel_quality.py [output=DIR] [variants=...]

Prints each variant's multi-person AP and its change over the single pass with a paired bootstrap interval; see
configs/autolabel_quality.yaml and movenet_train/experiments/autolabel_quality.py.
"""

from movenet_train.jobs import autolabel_quality

if __name__ == "__main__":
    autolabel_quality.main()

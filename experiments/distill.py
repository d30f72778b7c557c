"""Distillation experiment: released Thunder teaches Lightning on the COCO sample's folds plus the shared videos.

    python experiments/distill.py [folds=5] [protocol=every_person] [output=DIR] [train_overrides='[...]']

Prints the pooled held-out AP of each model and the paired changes with their intervals; see configs/distill.yaml
and movenet_train/experiments/distill.py.
"""

from movenet_train.jobs import distill

if __name__ == "__main__":
    distill.main()

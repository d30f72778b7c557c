"""Fixed-point experiment: released Lightning vs fine-tuned on the upright COCO-sample training split.

    python experiments/fixed_point.py [output=DIR] [train_overrides='[exp=lightning,data=coco,...]']

Prints the single_person AP of both models on held-out and on training images; see configs/fixed_point.yaml and
movenet_train/experiments/fixed_point.py.
"""

from movenet_train.jobs import fixed_point

if __name__ == "__main__":
    fixed_point.main()

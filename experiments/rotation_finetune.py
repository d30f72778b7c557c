"""Rotation fine-tuning experiment: released Lightning vs fine-tuned on upright + quarter-turned images.

    python experiments/rotation_finetune.py [output=DIR] [train_overrides='[exp=rotation_finetune,train.steps=300]']

Prints the held-out single_person AP of both models, upright and turned; see configs/rotation_finetune.yaml and
movenet_train/experiments/rotation.py.
"""

from movenet_train.jobs import rotation_finetune

if __name__ == "__main__":
    rotation_finetune.main()

"""Render augmented training examples with their targets: ``python data/show_samples.py [exp=thunder] [data=coco]``."""

from movenet_train.jobs import show_samples

if __name__ == "__main__":
    show_samples.main()

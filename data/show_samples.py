"""Render augmented training examples with their targets: ``python data/show_samples.py [exp=thunder] [data=coco]``."""

from movenet_train import cli

if __name__ == "__main__":
    cli.show_samples()

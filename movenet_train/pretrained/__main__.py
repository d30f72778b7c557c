"""``python -m movenet_train.pretrained source=<released file> output=<dir>``: import into a checkpoint."""

from movenet_train import cli

if __name__ == "__main__":
    cli.import_weights()

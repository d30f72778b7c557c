"""Train MoveNet: ``python train.py +exp=thunder`` (see README)."""

from movenet_train import cli

if __name__ == "__main__":
    cli.train()

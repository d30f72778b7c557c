"""Train MoveNet: ``python train.py +exp=thunder`` (see README)."""

from movenet_train.jobs import train

if __name__ == "__main__":
    train.main()

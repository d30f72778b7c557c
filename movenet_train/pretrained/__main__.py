"""``python -m movenet_train.pretrained source=<released file> output=<dir>``: import into a checkpoint."""

from movenet_train.jobs import import_weights

if __name__ == "__main__":
    import_weights.main()

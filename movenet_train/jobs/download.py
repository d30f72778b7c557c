"""``movenet-download variant=lightning format=tflite_int8 [output=DIR]`` (or ``python -m movenet_train.jobs.download``)."""

from movenet_train.jobs import launch
from movenet_train.pretrained.download import DownloadError, download

CONFIG = "download"


def run(cfg):
    return download(cfg.variant, cfg.format, cfg.output)


def main():
    return launch(CONFIG, run, (DownloadError,))


if __name__ == "__main__":
    main()

from movenet_train.training.loop import train

__all__ = ["train"]

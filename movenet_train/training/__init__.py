from movenet_train.training.actions import TrainingDiverged
from movenet_train.training.loop import TrainingRun, build_training_run, train

__all__ = ["TrainingDiverged", "TrainingRun", "build_training_run", "train"]

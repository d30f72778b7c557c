from movenet_train.training.loop import TrainingDiverged, TrainingRun, build_training_run, train

__all__ = ["TrainingDiverged", "TrainingRun", "build_training_run", "train"]

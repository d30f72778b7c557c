from movenet_train.modeling.inference import MoveNetInference, decode_heads
from movenet_train.modeling.movenet import MoveNetSpec, build_model, folded_parameter_count

__all__ = ["MoveNetInference", "MoveNetSpec", "build_model", "decode_heads", "folded_parameter_count"]

"""``python -m movenet_train.modeling``: builds every variant of configs/model and prints its parameter counts."""

import glob
import os

from omegaconf import OmegaConf

from movenet_train.config import CONFIG_DIR
from movenet_train.jobs import launch

CONFIG = "model_sizes"


def decoder_constant_count(spec):
    """Values the released single-pose graphs store for decoding: centre prior + y and x grids, each S x S."""
    if spec.multi_pose:
        return 0  # computed from the dynamic shape
    grid = spec.input_size // 4
    return 3 * grid * grid


def run(cfg):
    """One line per ``configs/model/*.yaml``: folded weights (as Google's files count them), with the decoding
    constants, and trainable weights."""
    import numpy as np
    import tf_keras as keras

    from movenet_train.modeling.movenet import MoveNetSpec, build_model, folded_parameter_count

    print(f"{'variant':22s} {'alpha':>5s} {'input':>5s} {'folded weights':>15s} {'+ decoding consts':>18s} "
          f"{'trainable':>10s}")
    for path in sorted(glob.glob(os.path.join(CONFIG_DIR, "model", "*.yaml"))):
        spec = MoveNetSpec.from_config(OmegaConf.load(path))
        model = build_model(spec)
        folded = folded_parameter_count(model)
        with_consts = folded + decoder_constant_count(spec)
        trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
        print(f"{spec.name:22s} {spec.alpha:5.2f} {spec.input_size:5d} {folded:>15,d} "
              f"{with_consts:>12,d} ({with_consts / 1e6:.2f} M) {trainable:>10,d}")
        keras.backend.clear_session()


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

"""``python -m movenet_train.pretrained source=<released file> output=<dir>``: Google's released weights as a
trainable checkpoint (movenet_train/pretrained/importer.py)."""

import os

from movenet_train.jobs import launch
from movenet_train.model_files import check_compatible, config_schema, config_spec

CONFIG = "import_weights"


def run(cfg):
    """Imports ``cfg.source`` and writes a checkpoint to ``cfg.output``; prints what it wrote."""
    from movenet_train.checkpoints import save_model_checkpoint, sha256_of
    from movenet_train.modeling.movenet import folded_parameter_count
    from movenet_train.pretrained.importer import import_released

    model, spec = import_released(cfg.source, config_spec(cfg))
    check_compatible(cfg.source, spec, config_schema(cfg))
    metadata = {"source": os.path.abspath(cfg.source), "source_sha256": sha256_of(cfg.source)}
    out = save_model_checkpoint(model, spec, cfg.output, metadata, overwrite=cfg.overwrite)
    print(f"imported MoveNet {spec.name} ({folded_parameter_count(model):,} folded parameters) from {cfg.source}")
    print(f"checkpoint written to {out}")
    return out


def main():
    return launch(CONFIG, run)


if __name__ == "__main__":
    main()

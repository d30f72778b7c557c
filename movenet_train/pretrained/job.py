"""The ``python -m movenet_train.pretrained`` job: import a released file and write it as a checkpoint."""

import os

from movenet_train.checkpoints import save_model_checkpoint, sha256_of
from movenet_train.model_files import check_compatible, config_schema, config_spec
from movenet_train.modeling.movenet import folded_parameter_count
from movenet_train.pretrained.importer import import_released


def import_to_checkpoint(cfg):
    """Imports ``cfg.source`` and writes a checkpoint to ``cfg.output``; prints what it wrote."""
    model, spec = import_released(cfg.source, config_spec(cfg))
    check_compatible(cfg.source, spec, config_schema(cfg))
    metadata = {"source": os.path.abspath(cfg.source), "source_sha256": sha256_of(cfg.source)}
    out = save_model_checkpoint(model, spec, cfg.output, metadata, overwrite=cfg.overwrite)
    print(f"imported MoveNet {spec.name} ({folded_parameter_count(model):,} folded parameters) from {cfg.source}")
    print(f"checkpoint written to {out}")
    return out

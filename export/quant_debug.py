"""Per-layer INT8 quantisation error of one or two models, quantised as the INT8 export does: ``python
export/quant_debug.py checkpoint=A [compare=B] calibration.images=DIR output=DIR`` (see configs/quant_debug.yaml)."""

from movenet_train.jobs import quant_debug

if __name__ == "__main__":
    quant_debug.main()

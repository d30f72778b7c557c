"""The release bundle of a model: its drop-in files, ``MODEL_CARD.md`` and ``metrics.json``.

``python -m movenet_train.release checkpoint=<run> output=DIR`` (``movenet-release``; configs/release.yaml,
docs/export.md "Release bundle"). ``bundle.py`` writes the files through the exporter, checks each one through
``runtime.load_predictor``, evaluates and times them into ``metrics.json``; ``card.py`` renders the card from that
file alone, so the two cannot disagree. Importing the package loads no TensorFlow.
"""

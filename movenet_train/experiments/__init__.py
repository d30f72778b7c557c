"""Reproducible experiments built from the library (each one command: ``python experiments/<name>.py``)."""

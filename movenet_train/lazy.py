"""Packages that import light: a package lists ``_LAZY = {name: module}`` and sets
``__getattr__ = lazy_attributes(__name__, _LAZY)``; a name loads its module (and TensorFlow) on first use."""

import importlib


def lazy_attributes(package, table):
    """The module-level ``__getattr__`` of ``package`` that imports ``table[name]`` when ``name`` is first read."""

    def __getattr__(name):
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__

"""TF.js export: the released signature (int32 ``input`` -> ``output_0``) as a TF.js graph model.

The ``tensorflowjs`` converter (4.22) pins TensorFlow 2.19, tensorflow-decision-forests and JAX, which would
replace this project's TensorFlow 2.20; install it without them: ``pip install --no-deps tensorflowjs==4.22.0``
(its other imports, six, h5py, tf_keras, tensorflow_hub and packaging, come with this project). Two of its
modules import tensorflow_decision_forests and JAX at import time only to convert TF-DF and JAX models;
``converter`` stands in empty modules for them when they are absent, for the length of the import.
"""

import contextlib
import importlib.util
import sys
import types

from movenet_train.errors import UserError

INSTALL = "pip install --no-deps tensorflowjs==4.22.0"


@contextlib.contextmanager
def _without_tfdf_and_jax():
    stubs = {}
    if importlib.util.find_spec("tensorflow_decision_forests") is None:
        stubs["tensorflow_decision_forests"] = types.ModuleType("tensorflow_decision_forests")
    if importlib.util.find_spec("jax") is None:
        jax_conversion = types.ModuleType("tensorflowjs.converters.jax_conversion")

        def convert_jax(*args, **kwargs):
            raise NotImplementedError("JAX is not installed")

        jax_conversion.convert_jax = convert_jax
        stubs["tensorflowjs.converters.jax_conversion"] = jax_conversion
    for name, module in stubs.items():
        sys.modules.setdefault(name, module)
    try:
        yield
    finally:
        # The TF-DF stand-in must not outlive the import: other code probing for TF-DF would find it.
        if sys.modules.get("tensorflow_decision_forests") is stubs.get("tensorflow_decision_forests"):
            sys.modules.pop("tensorflow_decision_forests", None)


def converter():
    """``tensorflowjs.converters.convert_tf_saved_model``; ValueError naming the install command without it."""
    if importlib.util.find_spec("tensorflowjs") is None:
        raise UserError(f"formats=[...,tfjs] needs the optional tensorflowjs package: {INSTALL}")
    with _without_tfdf_and_jax():
        from tensorflowjs.converters import convert_tf_saved_model
    return convert_tf_saved_model


def convert(source, path):
    """Writes the TF.js graph model (``model.json`` and weight shards) of the SavedModel ``source`` to ``path``."""
    converter()(str(source), str(path))
    return path

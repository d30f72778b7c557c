"""The predictor protocol: what every runtime (``runtime.load_predictor``) and wrapper (``orientation``) is.

Its own module so that wrappers around predictors import the protocol without importing the runtimes.
"""

import abc

from movenet_train.keypoints import KeypointSchema

# What every predictor says about itself: eval picks the protocol and input size from them, the tracker its crop,
# decoding and drawing the joints.
PREDICTOR_ATTRIBUTES = ("kind", "multi_pose", "input_size", "schema")


def check_predictor(predictor):
    """TypeError unless ``predictor`` sets ``PREDICTOR_ATTRIBUTES`` (``schema`` a ``KeypointSchema``)."""
    missing = [name for name in PREDICTOR_ATTRIBUTES if not hasattr(predictor, name)]
    if missing:
        raise TypeError(f"{type(predictor).__name__} does not set {', '.join(missing)}: a predictor says its kind, "
                        "multi_pose, input_size and keypoint schema")
    if not isinstance(predictor.schema, KeypointSchema):
        raise TypeError(f"{type(predictor).__name__}.schema is {predictor.schema!r}, not a KeypointSchema")
    return predictor


class _CheckedOnCreation(abc.ABCMeta):
    """A predictor whose ``__init__`` leaves out one of ``PREDICTOR_ATTRIBUTES`` fails where it is made, not where
    eval or the tracker first reads the attribute."""

    def __call__(cls, *args, **kwargs):
        return check_predictor(super().__call__(*args, **kwargs))


class Predictor(metaclass=_CheckedOnCreation):
    """``predictor(images)``: uint8/int ``[B,H,W,3]`` RGB -> decoded float32 ``[B,1,N,3]`` or ``[B,6,3N+5]``.

    Every predictor sets ``kind`` (its runtime, for reports), ``multi_pose``, ``input_size`` (the square size a
    single-pose model expects; None where any multiple of 32 works) and ``schema`` (the ``KeypointSchema`` of its
    outputs; ``keypoints.DEFAULT_SCHEMA`` for Google's files, which carry none).
    """

    kind: str
    multi_pose: bool
    input_size: int
    schema: KeypointSchema

    @abc.abstractmethod
    def __call__(self, images):
        """Decoded keypoints of a batch of images."""

"""The keypoint filter of TF.js pose-detection's MoveNet: a One Euro filter with a soft (asinh) threshold.

One Euro (Casiez et al., CHI 2012) low-passes a signal with a cut-off frequency that rises with its speed:
still keypoints are smoothed hard, moving ones follow with little lag. TF.js adds a soft threshold to the
low-pass step, ``out = prev + alpha * t * asinh((v - prev) / t)``: close to the plain low-pass for small
changes, logarithmic for large ones, so one wrong detection cannot drag the keypoint across the image.

The filters work on numpy arrays elementwise, so one filter smooths all 17x2 coordinates of a pose.
"""

import dataclasses
import math
import typing

import numpy as np


@dataclasses.dataclass(frozen=True)
class OneEuroConfig:
    """TF.js ``KEYPOINT_FILTER_CONFIG`` (pose-detection/src/movenet/constants.ts), for normalised coordinates."""

    DEFAULTS: typing.ClassVar = ("predict.yaml", "tracking.keypoint_filter")  # the defaults' one home, under configs/

    frequency: float  # frames per second until timestamps give the real rate
    min_cutoff: float  # Hz; lower smooths still keypoints more
    beta: float  # how fast the cut-off rises with speed (normalised units per second)
    derivate_cutoff: float  # Hz; cut-off of the speed estimate
    threshold_cutoff: float | None  # soft threshold at rest; None gives the plain One Euro filter
    threshold_beta: float  # how fast the threshold rises with speed


class LowPassFilter:
    """Exponential smoothing ``out = prev + alpha * (v - prev)``, optionally with the asinh soft threshold."""

    def __init__(self, alpha):
        self.alpha = alpha
        self.raw = None  # last unfiltered input; One Euro differentiates it
        self.value = None

    def __call__(self, value, alpha=None, threshold=None):
        value = np.asarray(value, np.float64)
        if alpha is not None:
            self.alpha = alpha
        if self.value is None:
            result = value
        elif threshold is None:
            result = self.value + self.alpha * (value - self.value)
        else:
            result = self.value + self.alpha * threshold * np.arcsinh((value - self.value) / threshold)
        self.raw, self.value = value, result
        return result

    def reset(self):
        self.raw = self.value = None


class OneEuroFilter:
    """``filter(value, microseconds)``; the sampling rate is re-estimated from consecutive timestamps.

    Timestamps follow TF.js ``OneEuroFilter.apply`` (shared/filters/one_euro_filter.ts) exactly: truncated to
    whole microseconds, a filter that has seen nothing holds timestamp 0, and a sample not later than the last
    one passes through unfiltered without touching the state. So a clip's first frame at time 0 is reported
    raw and the filter starts at the second frame, as in Google's runtime.
    """

    def __init__(self, config):
        self.config = config
        self.reset()

    def reset(self):
        self.frequency = self.config.frequency
        self.last_timestamp = 0
        self.x = LowPassFilter(self._alpha(self.config.min_cutoff))
        self.dx = LowPassFilter(self._alpha(self.config.derivate_cutoff))

    def _alpha(self, cutoff):
        # Smoothing factor of a first-order low-pass at `cutoff` Hz sampled at `frequency` Hz.
        return 1.0 / (1.0 + self.frequency / (2.0 * math.pi * cutoff))

    def __call__(self, value, microseconds):
        value = np.asarray(value, np.float64)
        microseconds = math.trunc(microseconds)
        if self.last_timestamp >= microseconds:
            return value
        if self.last_timestamp != 0 and microseconds != 0:
            self.frequency = 1.0 / ((microseconds - self.last_timestamp) * 1e-6)
        self.last_timestamp = microseconds

        speed = (value - self.x.raw) * self.frequency if self.x.raw is not None else np.zeros_like(value)
        speed = np.abs(self.dx(speed, alpha=self._alpha(self.config.derivate_cutoff)))
        cutoff = self.config.min_cutoff + self.config.beta * speed
        threshold = None
        if self.config.threshold_cutoff is not None:
            threshold = self.config.threshold_cutoff + self.config.threshold_beta * speed
        return self.x(value, alpha=self._alpha(cutoff), threshold=threshold)

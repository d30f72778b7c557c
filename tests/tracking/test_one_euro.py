"""One Euro filter and its low-pass step, against hand-computed values."""

import math

import numpy as np
import pytest

from movenet_train.config import default_config
from movenet_train.tracking.one_euro import LowPassFilter, OneEuroConfig, OneEuroFilter

FPS = 30.0


def run(filter_, values, fps=FPS):
    # from the second frame: TF.js passes a sample at time 0 through (test_a_sample_at_time_zero_passes_through)
    return np.array([filter_(v, (i + 1) / fps * 1e6) for i, v in enumerate(values)])


def test_low_pass_step():
    f = LowPassFilter(0.25)
    assert f(4.0) == 4.0  # the first value initialises
    assert f(8.0) == pytest.approx(5.0)  # 4 + 0.25 * (8 - 4)


def test_low_pass_soft_threshold():
    f = LowPassFilter(0.5)
    f(0.0)
    # 0.5 * 1 * asinh(10 / 1), not 0.5 * 10
    assert f(10.0, threshold=1.0) == pytest.approx(0.5 * 2.99822295, rel=1e-6)


def test_constant_signal_stays_put():
    out = run(OneEuroFilter(default_config(OneEuroConfig)), np.full((90, 17, 2), 0.37))
    np.testing.assert_array_equal(out, 0.37)


def test_step_is_followed_without_overshoot():
    values = np.r_[np.zeros(10), np.ones(50)]
    out = run(OneEuroFilter(default_config(OneEuroConfig)), values)
    np.testing.assert_array_equal(out[:10], 0.0)
    assert 0.0 < out[10] < 1.0  # lags the step...
    assert np.all(np.diff(out) >= 0) and out.max() <= 1.0  # ...never goes past it...
    assert out[-1] == pytest.approx(1.0, abs=1e-3)  # ...and reaches it


def test_soft_threshold_limits_outliers():
    # Fixed cut-off and threshold (beta = threshold_beta = 0) isolate the asinh step.
    config = default_config(OneEuroConfig, min_cutoff=2.5, beta=0.0, threshold_cutoff=0.01, threshold_beta=0.0)
    plain = OneEuroFilter(default_config(OneEuroConfig, min_cutoff=2.5, beta=0.0, threshold_cutoff=None))
    robust = OneEuroFilter(config)
    values = [0.0] * 10 + [1.0]  # one outlier, 100 thresholds away
    rate = 1e6 / math.trunc(1e6 / FPS)  # from timestamps in whole microseconds: 33333 us apart
    alpha = 1.0 / (1.0 + rate / (2 * math.pi * 2.5))
    assert run(plain, values)[-1] == pytest.approx(alpha * 1.0)
    limited = run(robust, values)[-1]
    assert limited == pytest.approx(alpha * 0.01 * math.asinh(100.0))
    assert limited < 0.06 * alpha  # the outlier moves the output by ~5 thresholds, not 100


def test_frequency_comes_from_timestamps():
    # Two samples 0.1 s apart: 10 Hz, not the configured 30.
    f = OneEuroFilter(default_config(OneEuroConfig, min_cutoff=2.5, beta=0.0, threshold_cutoff=None))
    f(0.0, 5.0e6)
    alpha_10hz = 1.0 / (1.0 + 10.0 / (2 * math.pi * 2.5))
    assert f(1.0, 5.1e6) == pytest.approx(alpha_10hz)


def test_repeated_timestamp_passes_the_value_through():
    f = OneEuroFilter(default_config(OneEuroConfig))
    f(0.0, 1.0e6)
    assert f(0.8, 1.0e6) == 0.8
    assert f(0.8, 1.0e6 + 0.5) == 0.8  # whole microseconds, as TF.js truncates them
    assert f(0.0, 1.0e6 + 1e6 / FPS) == 0.0  # the state was kept at 0


def test_a_sample_at_time_zero_passes_through():
    # TF.js OneEuroFilter starts with lastTimestamp = 0 and returns any sample with lastTimestamp >= its time
    # unfiltered (shared/filters/one_euro_filter.ts, apply): a clip's first frame at 0 does not start the filter.
    f = OneEuroFilter(default_config(OneEuroConfig, min_cutoff=2.5, beta=0.0, threshold_cutoff=None))
    assert f(5.0, 0.0) == 5.0
    assert f(1.0, 1e6 / FPS) == 1.0  # the first filtered sample initialises: no pull toward 5
    rate = 1e6 / (math.trunc(2e6 / FPS) - math.trunc(1e6 / FPS))  # the time-0 sample set no rate either
    alpha = 1.0 / (1.0 + rate / (2 * math.pi * 2.5))
    assert f(2.0, 2e6 / FPS) == pytest.approx(1.0 + alpha * 1.0)


def test_speed_raises_the_cut_off():
    # A ramp is followed closer than a plain low-pass at min_cutoff would follow it.
    ramp = np.linspace(0.0, 0.5, 30)
    adaptive = run(OneEuroFilter(default_config(OneEuroConfig)), ramp)
    fixed = run(OneEuroFilter(default_config(OneEuroConfig, beta=0.0, threshold_cutoff=None)), ramp)
    assert abs(adaptive[-1] - ramp[-1]) < abs(fixed[-1] - ramp[-1]) / 5

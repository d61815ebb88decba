"""A/A and peeking studies: calibrated end-of-test, inflated naive peeking, valid mSPRT."""

import numpy as np
import pytest
from scipy.stats import ttest_ind

from persona_lib.experiments.calibration import (
    aa_study,
    peeking_study,
    welch_p_from_moments,
    wilson_interval,
)


def test_welch_from_moments_matches_scipy_at_large_n():
    rng = np.random.default_rng(0)
    c, t = rng.lognormal(0, 1, 800), rng.lognormal(0.05, 1, 900)
    p = welch_p_from_moments(c.size, c.sum(), (c**2).sum(), t.size, t.sum(), (t**2).sum())
    assert p == pytest.approx(ttest_ind(t, c, equal_var=False).pvalue, abs=2e-3)


def test_wilson_interval_by_hand():
    low, high = wilson_interval(50, 1000)
    # p = 0.05, z = 1.96, n = 1000: centre (p + z^2/2n) / (1 + z^2/n) = 0.05172,
    # half-width z sqrt(p q / n + z^2 / 4n^2) / (1 + z^2/n) = 0.01359
    assert low == pytest.approx(0.03813, abs=1e-5) and high == pytest.approx(0.06531, abs=1e-5)


def test_aa_false_positive_rate_is_near_alpha_on_skewed_data():
    values = np.random.default_rng(1).lognormal(0, 1.2, 2000)
    out = aa_study(values, n_tests=600, salt="unit")
    assert out["ci_low"] <= 0.05 <= out["ci_high"] or abs(out["false_positive_rate"] - 0.05) < 0.02
    assert out["p_values"].shape == (600,)
    assert 0.4 < np.mean(out["p_values"] < 0.5) < 0.6  # roughly uniform


def test_peeking_inflates_the_naive_test_but_not_msprt():
    rng = np.random.default_rng(2)
    cumulative = np.cumsum(rng.lognormal(-1, 1, (1500, 15)), axis=1)
    table = peeking_study(cumulative, n_tests=500, salt="unit")
    assert table["look"].tolist() == list(range(1, 16))
    assert table["naive"].is_monotonic_increasing and table["msprt"].is_monotonic_increasing
    assert table["naive"].iloc[-1] > 0.12
    assert table["msprt"].iloc[-1] < 0.07

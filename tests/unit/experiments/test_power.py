import math

import numpy as np
import pytest
from scipy import stats

from persona_lib.experiments import (
    mde_means,
    mde_proportions,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)


def test_proportions_textbook_value():
    # p 0.10 -> 0.12, alpha 0.05 two-sided, power 0.8: 7.849 * 0.1956 / 0.0004 = 3838.3
    assert sample_size_proportions(0.10, 0.02) == 3839
    # Fleiss' pooled-null form gives the often-quoted 3,841
    assert sample_size_proportions(0.10, 0.02, variance="pooled") == 3841
    assert sample_size_proportions(0.10, 0.20, relative=True) == 3839


def test_proportions_hand_formula_and_ratio():
    k2 = (stats.norm.ppf(0.975) + stats.norm.ppf(0.9)) ** 2
    n = k2 * (0.05 * 0.95 + 0.06 * 0.94 / 2) / 0.01**2
    assert sample_size_proportions(0.05, 0.01, power=0.9, ratio=2) == math.ceil(n)


def test_means_textbook_value():
    # two-sample z: 2 (1.96 + 0.8416)^2 / d^2 with d = 0.5 sd -> 62.8, so 63 per arm
    assert sample_size_means(0.5, 1.0) == 63
    assert sample_size_means(0.1, 1.0) == 1570


def test_power_and_mde_invert_sample_size():
    n = sample_size_proportions(0.10, 0.02)
    assert power_proportions(n, 0.10, 0.02) == pytest.approx(0.8, abs=0.002)
    assert mde_proportions(n, 0.10) == pytest.approx(0.02, rel=1e-3)
    assert power_proportions(n, 0.10, mde_proportions(n, 0.10)) == pytest.approx(0.8, abs=1e-3)
    assert mde_means(1570, 1.0) == pytest.approx(0.1, rel=1e-3)
    assert power_means(1570, 0.1, 1.0) == pytest.approx(0.8, abs=0.002)


def test_vectorized_and_monotone():
    n = np.array([100, 1000, 10_000])
    assert np.all(np.diff(power_means(n, 0.1, 1.0)) > 0)
    assert np.all(np.diff(mde_proportions(n, 0.1)) < 0)
    assert power_means(n, 0.0, 1.0) == pytest.approx(0.05)


def test_rejects_impossible_rates():
    with pytest.raises(ValueError, match="0 < p < 1"):
        sample_size_proportions(0.95, 0.10)
    with pytest.raises(ValueError, match="alpha and power"):
        sample_size_means(0.1, 1.0, power=1.2)


def test_proportions_power_by_monte_carlo():
    n = sample_size_proportions(0.10, 0.02)
    rng = np.random.default_rng(0)
    c, t = rng.binomial(n, 0.10, 2000), rng.binomial(n, 0.12, 2000)
    pooled = (c + t) / (2 * n)
    z = (t - c) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
    power = np.mean(np.abs(z) > stats.norm.ppf(0.975))
    assert power == pytest.approx(0.8, abs=0.03)


def test_means_power_by_monte_carlo():
    n = sample_size_means(0.1, 1.0)
    rng = np.random.default_rng(1)
    x_c, x_t = rng.normal(0, 1, (2000, n)), rng.normal(0.1, 1, (2000, n))
    p = stats.ttest_ind(x_t, x_c, axis=1, equal_var=False).pvalue
    assert np.mean(p < 0.05) == pytest.approx(0.8, abs=0.03)

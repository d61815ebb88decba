"""Checks against the truth: hand-computed cases, and a biased estimator that must fail them."""

import numpy as np
import pytest
from scipy import stats

from persona_lib.evaluation.truth_checks import Z95, interval_se, min_covering, z_to_truth
from persona_lib.experiments import difference_in_means


def test_z95_is_the_normal_quantile():
    assert Z95 == pytest.approx(1.959963984540054, abs=1e-15)


def test_interval_se_by_hand():
    # a 95 % interval 2 z wide has se 1; a 90 % one of width 2 * 1.644854 too
    assert interval_se(0.0, 2 * Z95) == pytest.approx(1.0, rel=1e-15)
    assert interval_se(-1.6448536269514722, 1.6448536269514722, level=0.90) == pytest.approx(1.0)
    np.testing.assert_allclose(interval_se([0.0, 1.0], [Z95, 1.0]), [0.5, 0.0], rtol=1e-15)


def test_interval_se_rejects_reversed_intervals_and_bad_levels():
    with pytest.raises(ValueError, match="high end lies below"):
        interval_se(3.06e9, -2.79e8)
    with pytest.raises(ValueError, match="level"):
        interval_se(0.0, 1.0, level=1.0)


def test_z_to_truth_by_hand():
    # estimate 3.77, interval (1.0, 3.52): se = 2.52 / 3.919928 = 0.642869; truth 3.00
    z = z_to_truth(3.77, 1.0, 3.52, 3.0)
    assert float(z) == pytest.approx(0.77 / (2.52 / (2 * Z95)), rel=1e-12)
    assert float(z_to_truth(1.0, 1.0, 1.0, 1.0)) == 0.0  # degenerate but right
    assert float(z_to_truth(1.0, 1.0, 1.0, 2.0)) == -np.inf  # degenerate and wrong


def test_min_covering_is_the_lower_binomial_quantile():
    for n in (1, 5, 20, 200):
        c = min_covering(n, 0.95, 1e-4)
        assert stats.binom.cdf(c - 1, n, 0.95) <= 1e-4  # falling below c is that rare
        if c < n:
            assert stats.binom.cdf(c, n, 0.95) > 1e-4  # and c is the largest such count
    assert min_covering(0) == 0


def _draws(bias_in_se: float, n_runs: int = 200, n: int = 400, effect: float = 0.3):
    """Estimates of a known difference in means over `n_runs` independent experiments, each
    from Welch's test, shifted by `bias_in_se` of its own standard error (0: a correct
    estimator)."""
    rng = np.random.default_rng(7)
    rows = []
    for _ in range(n_runs):
        control = rng.exponential(1.0, n)  # skewed outcomes, like hours watched
        treated = rng.exponential(1.0, n) + effect
        r = difference_in_means(control, treated)
        shift = bias_in_se * (r.ci_high - r.ci_low) / (2 * Z95)
        rows.append((r.estimate + shift, r.ci_low + shift, r.ci_high + shift))
    return np.array(rows).T, effect


def test_a_correct_estimator_passes_both_checks_on_every_draw():
    (est, low, high), truth = _draws(bias_in_se=0.0)
    assert np.all(np.abs(z_to_truth(est, low, high, truth)) < 4)
    covering = int(np.sum((low <= truth) & (truth <= high)))
    assert covering >= min_covering(len(est))


def test_a_biased_estimator_fails_both_checks():
    # biased by 5 standard errors: most single draws break |z| < 4, and the coverage count
    # (each interval shifted with its estimate) collapses far below the binomial bound
    (est, low, high), truth = _draws(bias_in_se=5.0)
    z = np.abs(z_to_truth(est, low, high, truth))
    assert np.mean(z >= 4) > 0.7
    covering = int(np.sum((low <= truth) & (truth <= high)))
    assert covering < min_covering(len(est))

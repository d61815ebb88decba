"""A quick calibration of the two-arm tests and of the mSPRT on simulated A/A experiments.

The full study, with coverage, CUPED and ratio metrics, is ``benchmarks/ab_calibration.py``.
Seeded, so the counts below are fixed; the bounds are still wide enough that any calibrated
implementation passes (an exact binomial test of the false-positive count against alpha).
"""

import numpy as np
from scipy import stats

from persona_lib.experiments import difference_in_means, difference_in_proportions, msprt_means

ALPHA = 0.05
N_TESTS = 400
N_PER_ARM = 1_000
N_LOOKS = 20
DAILY = 50  # new users per arm per look


def watch_hours(rng: np.random.Generator, shape) -> np.ndarray:
    """Heavy-tailed hours per user: 0 with probability 0.2, else lognormal(0.5, 1.5)."""
    return np.where(rng.random(shape) < 0.2, 0.0, rng.lognormal(0.5, 1.5, shape))


def assert_rate_is_alpha(rejections: int) -> None:
    """The count is consistent with Binomial(N_TESTS, ALPHA) at the 0.001 level."""
    p = stats.binomtest(rejections, N_TESTS, ALPHA).pvalue
    assert p > 0.001, f"{rejections} / {N_TESTS} false positives (binomial p {p:.2g})"


def test_the_proportions_test_rejects_alpha_of_aa_tests():
    rng = np.random.default_rng(1)
    wins = rng.binomial(N_PER_ARM, 0.3, (N_TESTS, 2))
    p = [difference_in_proportions(int(c), N_PER_ARM, int(t), N_PER_ARM, ALPHA).p_value
         for c, t in wins]  # fmt: skip
    assert_rate_is_alpha(int(np.sum(np.array(p) < ALPHA)))


def test_welch_rejects_alpha_of_aa_tests_on_heavy_tailed_hours():
    hours = watch_hours(np.random.default_rng(2), (N_TESTS, 2, N_PER_ARM))
    p = np.array([difference_in_means(h[0], h[1], ALPHA).p_value for h in hours])
    assert_rate_is_alpha(int(np.sum(p < ALPHA)))
    # p-values of a calibrated test are uniform: a quarter in each quartile, loosely
    quartiles = np.histogram(p, bins=[0, 0.25, 0.5, 0.75, 1])[0]
    assert stats.chisquare(quartiles).pvalue > 0.001


def test_peeking_inflates_the_naive_test_but_not_the_msprt():
    hours = watch_hours(np.random.default_rng(3), (N_TESTS, 2, N_LOOKS * DAILY))
    looks = DAILY * np.arange(1, N_LOOKS + 1)
    naive = np.array([
        min(difference_in_means(h[0, :m], h[1, :m], ALPHA).p_value for m in looks) < ALPHA
        for h in hours
    ])  # fmt: skip
    daily = hours.reshape(N_TESTS, 2, N_LOOKS, DAILY)
    sums, squares = daily.sum(-1).cumsum(-1), np.square(daily).sum(-1).cumsum(-1)
    n = np.broadcast_to(looks, (N_TESTS, N_LOOKS))
    out = msprt_means(n, sums[:, 0], squares[:, 0], n, sums[:, 1], squares[:, 1], alpha=ALPHA)
    always_valid = out["p_value"][:, -1] <= ALPHA  # the running minimum over all looks
    assert naive.mean() > 0.10  # about 0.2 with 20 looks
    assert always_valid.mean() <= ALPHA
    assert np.all(np.diff(out["p_value"], axis=1) <= 0)  # the always-valid p never goes up

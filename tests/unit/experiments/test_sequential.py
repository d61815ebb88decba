import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from tolerances import FLOAT64, approx64

from persona_lib.experiments import SequentialTest, msprt_cumulative, msprt_means, msprt_proportions

N_SIMS, N_LOOKS, PER_DAY = 2000, 20, 100


def daily_moments(rng, effect):
    """Cumulative n, sum and sum of squares per arm, shape (N_SIMS, N_LOOKS)."""
    out = []
    for mu in (0.0, effect):
        x = rng.normal(mu, 1.0, (N_SIMS, N_LOOKS, PER_DAY))
        n = np.broadcast_to(np.arange(1, N_LOOKS + 1) * PER_DAY, (N_SIMS, N_LOOKS))
        out += [n, x.sum(2).cumsum(1), (x**2).sum(2).cumsum(1)]
    return out


def naive_p_values(n_c, s_c, q_c, n_t, s_t, q_t):
    m_c, m_t = s_c / n_c, s_t / n_t
    v_c, v_t = (q_c - n_c * m_c**2) / (n_c - 1), (q_t - n_t * m_t**2) / (n_t - 1)
    return 2 * stats.norm.sf(np.abs(m_t - m_c) / np.sqrt(v_c / n_c + v_t / n_t))


def test_peeking_keeps_error_below_alpha_while_naive_test_inflates():
    moments = daily_moments(np.random.default_rng(0), effect=0.0)
    out = msprt_means(*moments)
    always_valid = np.mean(np.any(out["p_value"] <= 0.05, axis=1))
    naive = np.mean(np.any(naive_p_values(*moments) <= 0.05, axis=1))
    mc_error = 3 * math.sqrt(0.05 * 0.95 / N_SIMS)
    assert always_valid <= 0.05 + mc_error
    assert naive > 0.15  # about 4x alpha with 20 looks
    assert np.all(np.diff(out["p_value"], axis=1) <= 0)


def test_confidence_sequence_covers_the_truth_at_every_look():
    moments = daily_moments(np.random.default_rng(1), effect=0.2)
    out = msprt_means(*moments)
    covered = np.all((out["ci_low"] <= 0.2) & (0.2 <= out["ci_high"]), axis=1)
    assert covered.mean() >= 0.95 - 3 * math.sqrt(0.05 * 0.95 / N_SIMS)
    assert np.all(np.diff(out["ci_high"] - out["ci_low"], axis=1) <= FLOAT64["atol"])
    # a real effect of 0.2 sd is found by the last look in most experiments
    assert np.mean(out["p_value"][:, -1] <= 0.05) > 0.9


def test_statistic_matches_the_paired_formula():
    # equal arms: s2 = V / n, tau^2 = tau_std^2 V / 2, Lambda_n as in Johari et al.
    n, d, v, tau_std = 400, 0.15, 2.0, 0.1
    tau2 = tau_std**2 * v / 2
    lam = math.sqrt(v / (v + n * tau2)) * math.exp(n**2 * tau2 * d**2 / (2 * v * (v + n * tau2)))
    var = v / 2  # per arm
    sumsq = (n - 1) * var  # mean 0 in control
    out = msprt_means([n], [0.0], [sumsq], [n], [n * d], [(n - 1) * var + n * d**2], tau_std=0.1)
    assert out["p_value"].iloc[0] == approx64(min(1.0, 1 / lam))
    assert list(out.columns) == [
        "look", "n_control", "n_treatment", "estimate", "p_value", "ci_low", "ci_high", "reject",
    ]  # fmt: skip


def test_interval_ends_are_where_the_test_just_rejects():
    n, s_c, q_c, s_t, q_t = 500, 10.0, 520.0, 80.0, 560.0
    out = msprt_means([n], [s_c], [q_c], [n], [s_t], [q_t])
    for end in (out["ci_low"].iloc[0], out["ci_high"].iloc[0]):
        # test H0: theta = end by shifting the treatment arm's data by -end
        shifted = msprt_means(
            [n], [s_c], [q_c], [n], [s_t - n * end], [q_t - 2 * end * s_t + n * end**2]
        )
        assert shifted["p_value"].iloc[0] == pytest.approx(0.05, rel=1e-9)


def test_proportions_reject_under_h0_rarely():
    rng = np.random.default_rng(2)
    n = np.arange(1, N_LOOKS + 1) * 500
    c = rng.binomial(500, 0.1, (N_SIMS, N_LOOKS)).cumsum(1)
    t = rng.binomial(500, 0.1, (N_SIMS, N_LOOKS)).cumsum(1)
    out = msprt_proportions(n, c, n, t)
    assert np.mean(np.any(out["p_value"] <= 0.05, axis=1)) <= 0.05 + 0.015


def test_streaming_matches_the_array_function():
    rng = np.random.default_rng(3)
    days = rng.normal(0.1, 1.0, (2, 10, 200))
    test = SequentialTest()
    for day in range(10):
        test.update(days[0, day], days[1, day])
    n = np.arange(1, 11) * 200
    out = msprt_means(
        n, days[0].sum(1).cumsum(), (days[0] ** 2).sum(1).cumsum(),
        n, days[1].sum(1).cumsum(), (days[1] ** 2).sum(1).cumsum(),
    )  # fmt: skip
    assert test.p_value == approx64(out["p_value"].iloc[-1])  # other orders of summation
    assert test.interval == pytest.approx((out["ci_low"].iloc[-1], out["ci_high"].iloc[-1]))
    assert test.n_looks == 10


def test_msprt_cumulative_is_msprt_means_of_the_per_look_totals():
    rng = np.random.default_rng(0)
    c = np.cumsum(rng.exponential(1.0, (300, 5)), axis=1)
    t = np.cumsum(rng.exponential(1.2, (250, 5)), axis=1)
    out = msprt_cumulative(c, t, alpha=0.05)
    ref = msprt_means(np.full(5, 300), c.sum(0), (c**2).sum(0), np.full(5, 250), t.sum(0),
                      (t**2).sum(0), alpha=0.05)  # fmt: skip
    pd.testing.assert_frame_equal(out, ref)
    assert out["estimate"].iloc[-1] == pytest.approx(t[:, -1].mean() - c[:, -1].mean(), rel=1e-12)
    with pytest.raises(ValueError, match="looks"):
        msprt_cumulative(c, t[:, :4])
    with pytest.raises(ValueError, match="at least 2"):
        msprt_cumulative(c[:1], t)


def test_an_empty_running_intersection_is_nan_from_then_on():
    # look 1: both arms mean 0 (interval about 0 +- 0.66); look 2: treatment mean 10 with a
    # small variance (about 10 +- 0.37): the intersection is empty; look 3 is back near 0
    n = np.array([100, 200, 300])
    c_sum, c_sumsq = [0.0, 0.0, 0.0], [99.0, 199.0, 299.0]
    t_sum, t_sumsq = [0.0, 2000.0, 2000.0], [99.0, 20199.0, 20299.0]
    out = msprt_means(n, c_sum, c_sumsq, n, t_sum, t_sumsq)
    assert out["ci_low"].iloc[0] < 0 < out["ci_high"].iloc[0]
    assert out[["ci_low", "ci_high"]].iloc[1:].isna().all().all()
    assert (out["ci_low"].isna() == out["ci_high"].isna()).all()
    test = SequentialTest()
    rng = np.random.default_rng(0)
    test.update(rng.normal(0, 0.01, 50), rng.normal(0, 0.01, 50))
    assert test.interval[0] < test.interval[1]
    test.update(np.zeros(2000), np.full(2000, 5.0) + rng.normal(0, 0.01, 2000))
    assert np.isnan(test.interval[0]) and np.isnan(test.interval[1])
    test.update(rng.normal(0, 1, 50), rng.normal(0, 1, 50))
    assert np.isnan(test.interval[0])  # empty for good

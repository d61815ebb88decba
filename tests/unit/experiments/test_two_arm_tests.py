import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from persona_lib.evaluation.truth_checks import z_to_truth
from persona_lib.experiments import (
    benjamini_hochberg,
    bootstrap_quantile_difference,
    cuped,
    cuped_difference,
    difference_in_means,
    difference_in_proportions,
    effects_by_segment,
    holm,
    ratio_metric,
)


def test_proportions_match_a_hand_z_test():
    r = difference_in_proportions(100, 1000, 130, 1000)
    pooled = 230 / 2000
    z = 0.03 / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert r.p_value == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(z / math.sqrt(2)))), rel=1e-9)
    se = math.sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000)
    q = stats.norm.ppf(0.975)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.03 - q * se, 0.03 + q * se), rel=1e-12)
    assert (r.control_mean, r.treatment_mean, r.relative_lift) == pytest.approx((0.1, 0.13, 0.3))
    assert r.relative_ci_low < 0.3 < r.relative_ci_high


def test_proportions_reject_impossible_counts():
    with pytest.raises(ValueError, match="successes <= n"):
        difference_in_proportions(11, 10, 5, 10)


def test_welch_matches_scipy():
    rng = np.random.default_rng(0)
    x_c, x_t = rng.normal(0, 1, 80), rng.normal(0.3, 2.5, 130)
    r = difference_in_means(x_c, x_t, alpha=0.1)
    ref = stats.ttest_ind(x_t, x_c, equal_var=False)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12, abs=1e-15)
    ci = ref.confidence_interval(0.9)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert r.estimate == pytest.approx(x_t.mean() - x_c.mean(), rel=1e-12)


def test_means_reject_nan():
    with pytest.raises(ValueError, match="NaN or infinite"):
        difference_in_means([1.0, np.nan, 2.0], [1.0, 2.0, 3.0])


def simulate_sessions(rng, n_users, play_rate):
    """Per-user sessions and plays with user-level heterogeneity (clustered within user)."""
    sessions = rng.poisson(rng.gamma(2.0, 2.5, n_users)) + 1
    propensity = rng.beta(2.0, 2.0 * (1 - play_rate) / play_rate, n_users)
    return rng.binomial(sessions, propensity).astype(float), sessions.astype(float)


def test_delta_method_matches_user_bootstrap():
    rng = np.random.default_rng(1)
    num_c, den_c = simulate_sessions(rng, 2000, 0.30)
    num_t, den_t = simulate_sessions(rng, 2000, 0.33)
    r = ratio_metric(num_c, den_c, num_t, den_t)
    delta_se = (r.ci_high - r.ci_low) / (2 * stats.norm.ppf(0.975))
    assert r.estimate == pytest.approx(num_t.sum() / den_t.sum() - num_c.sum() / den_c.sum())

    b = 2000
    ic, it = rng.integers(0, 2000, (b, 2000)), rng.integers(0, 2000, (b, 2000))
    boot = num_t[it].sum(1) / den_t[it].sum(1) - num_c[ic].sum(1) / den_c[ic].sum(1)
    assert delta_se == pytest.approx(boot.std(ddof=1), rel=0.08)
    # treating sessions as independent trials understates the noise of a clustered metric
    p_c, p_t = num_c.sum() / den_c.sum(), num_t.sum() / den_t.sum()
    naive = math.sqrt(p_c * (1 - p_c) / den_c.sum() + p_t * (1 - p_t) / den_t.sum())
    assert naive < 0.8 * delta_se


def test_ratio_metric_hand_case():
    # constant denominators: the ratio is a scaled mean and the delta variance is exact
    num_c, num_t = np.array([1.0, 2.0, 3.0, 6.0]), np.array([2.0, 3.0, 5.0, 6.0])
    den = np.full(4, 2.0)
    r = ratio_metric(num_c, den, num_t, den)
    se = math.sqrt(num_c.var(ddof=1) / 4 / 4 + num_t.var(ddof=1) / 4 / 4)
    assert r.estimate == pytest.approx(0.5)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(0.5 / se), rel=1e-12)


def correlated(rng, n, rho, effect):
    x = rng.normal(10, 2, n)
    noise = rng.normal(0, 2, n)
    treatment = rng.integers(0, 2, n)
    y = 5 + rho * (x - 10) + math.sqrt(1 - rho**2) * noise + effect * treatment
    return y, x, treatment


def test_cuped_reduces_variance_by_rho_squared():
    rng = np.random.default_rng(2)
    y, x, t = correlated(rng, 40_000, 0.7, 0.1)
    adj = cuped(y, x, t)
    assert adj.variance_reduction == pytest.approx(0.49, abs=0.02)
    assert adj.theta == pytest.approx(0.7 * 2 / 2, abs=0.02)
    assert adj.adjusted.mean() == pytest.approx(y.mean(), abs=1e-9)


def test_cuped_is_unbiased_and_tighter():
    rng = np.random.default_rng(3)
    raw, adjusted = [], []
    for _ in range(300):
        y, x, t = correlated(rng, 1000, 0.8, 0.2)
        raw.append(difference_in_means(y[t == 0], y[t == 1]).estimate)
        adjusted.append(cuped_difference(y, x, t).estimate)
    raw, adjusted = np.array(raw), np.array(adjusted)
    assert adjusted.mean() == pytest.approx(0.2, abs=3 * adjusted.std() / math.sqrt(300))
    assert adjusted.std() / raw.std() == pytest.approx(math.sqrt(1 - 0.64), abs=0.06)


def test_cuped_difference_method_and_input_checks():
    rng = np.random.default_rng(4)
    y, x, t = correlated(rng, 500, 0.5, 0.0)
    assert cuped_difference(y, x, t).method == "cuped_welch"
    with pytest.raises(ValueError, match="both arms"):
        cuped(y, x, np.ones(500))


def test_bootstrap_median_difference():
    rng = np.random.default_rng(5)
    x_c, x_t = rng.lognormal(3.0, 1.0, 3000), rng.lognormal(3.2, 1.0, 3000)
    r = bootstrap_quantile_difference(x_c, x_t, q=0.5, n_boot=1000, random_state=7)
    assert r.estimate == pytest.approx(np.median(x_t) - np.median(x_c))
    true = math.exp(3.2) - math.exp(3.0)
    # within 4 standard errors of the true median difference (never "this interval covers")
    assert abs(float(z_to_truth(r.estimate, r.ci_low, r.ci_high, true))) < 4 and r.significant
    again = bootstrap_quantile_difference(x_c, x_t, q=0.5, n_boot=1000, random_state=7)
    assert again == r


def test_bootstrap_interval_matches_normal_theory_for_a_mean_like_quantile():
    # the median of a normal sample has sd ~ sqrt(pi / 2) sigma / sqrt(n)
    rng = np.random.default_rng(6)
    x_c, x_t = rng.normal(0, 1, 4000), rng.normal(0, 1, 4000)
    r = bootstrap_quantile_difference(x_c, x_t, n_boot=1000, random_state=0)
    width = 2 * stats.norm.ppf(0.975) * math.sqrt(math.pi / 2 * 2 / 4000)
    assert r.ci_high - r.ci_low == pytest.approx(width, rel=0.15)


def test_effects_by_segment_matches_per_segment_tests():
    rng = np.random.default_rng(7)
    n = 6000
    frame = pd.DataFrame(
        {
            "device": rng.choice(["tv", "mobile", "web"], n),
            "arm": rng.choice(["control", "treatment"], n),
            "minutes": rng.gamma(2.0, 30.0, n),
        }
    )
    frame.loc[(frame.device == "tv") & (frame.arm == "treatment"), "minutes"] += 8.0
    out = effects_by_segment(frame, "minutes", "arm", "device")
    assert out["device"].tolist() == ["mobile", "tv", "web"]
    tv = frame[frame.device == "tv"]
    ref = difference_in_means(
        tv.loc[tv.arm == "control", "minutes"], tv.loc[tv.arm == "treatment", "minutes"]
    )
    row = out.set_index("device").loc["tv"]
    assert row["p_value"] == pytest.approx(ref.p_value) and row["estimate"] == ref.estimate
    np.testing.assert_allclose(out["p_value_holm"], holm(out["p_value"]))
    np.testing.assert_allclose(out["p_value_bh"], benjamini_hochberg(out["p_value"]))
    assert row["p_value_holm"] < 0.05


def test_effects_by_segment_proportions_with_boolean_arm():
    frame = pd.DataFrame(
        {
            "treated": [False, True] * 50,
            "plan": ["ads"] * 60 + ["premium"] * 40,
            "played": ([0, 1] * 30) + ([1, 1] * 20),
        }
    )
    out = effects_by_segment(frame, "played", "treated", "plan", kind="proportions")
    ref = difference_in_proportions(0, 30, 30, 30, metric="played")
    assert out.loc[0, "estimate"] == ref.estimate and out.loc[0, "method"] == "z_pooled"
    with pytest.raises(KeyError, match="not in the frame"):
        effects_by_segment(frame, "missing", "treated", "plan")


def test_a_a_false_positive_rate_is_near_alpha():
    rng = np.random.default_rng(8)
    welch = np.array(
        [difference_in_means(*rng.exponential(1.0, (2, 400))).significant for _ in range(500)]
    )
    c, t = rng.binomial(2000, 0.1, (2, 500))
    props = np.array(
        [difference_in_proportions(a, 2000, b, 2000).significant for a, b in zip(c, t, strict=True)]
    )
    band = 3 * math.sqrt(0.05 * 0.95 / 500)
    assert abs(welch.mean() - 0.05) < band
    assert abs(props.mean() - 0.05) < band

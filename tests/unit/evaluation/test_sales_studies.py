"""Sales-lever policies evaluated against the truth on one small world (module scope).

The world is the smoke preset with 8,000 members over 90 days (about 480 lapsed members, 6,000
members eligible for an upgrade offer); the assertions are the decisions a notebook would report.
"""

import numpy as np
import pandas as pd
import pytest

from persona_lib.evaluation import ad_load_study, ad_targeting_study, ads_tier_arpu_study
from persona_lib.evaluation.sales import (
    STUDY_COLUMNS,
    bootstrap_means,
    cross_sell_study,
    policy_table,
    upsell_study,
    winback_study,
)
from persona_lib.evaluation.truth_checks import z_to_truth
from persona_lib.signals.sales_features import sales_features
from persona_lib.sim import load_preset, simulate
from persona_lib.sim.sales import simulate_sales

N_BOOT = 200


@pytest.fixture(scope="module")
def world():
    return simulate(load_preset("smoke").replace(n_users=8000, n_days=90))


@pytest.fixture(scope="module")
def sales(world):
    return simulate_sales(world)


@pytest.fixture(scope="module")
def features(world, sales):
    return sales_features(world.tables, sales.tables, sales.campaign_date)


def row(frame: pd.DataFrame, policy: str, metric: str | None = None) -> pd.Series:
    pick = frame["policy"].eq(policy)
    if metric is not None:
        pick &= frame["metric"].eq(metric)
    assert pick.sum() == 1, (policy, metric)
    return frame[pick].iloc[0]


def assert_near_truth(r: pd.Series, z_max: float = 4.0) -> None:
    """The row's estimate from the logs lies within `z_max` standard errors (read off its 95 %
    interval) of its truth: a check that a correct estimator fails with probability 6e-5, where
    "the interval covers" fails one draw in twenty (tests/unit/evaluation/test_truth_checks.py)."""
    z = float(z_to_truth(r["estimate"], r["estimate_ci_low"], r["estimate_ci_high"], r["truth"]))
    assert abs(z) < z_max, (r["policy"], r["metric"], r["estimate"], r["truth"], z)


def test_bootstrap_means_is_seeded_and_paired():
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    values = np.c_[x, x + 1.0, np.ones(500)]
    mean, low, high = bootstrap_means(values, n_boot=300, random_state=3)
    np.testing.assert_allclose(mean, [x.mean(), x.mean() + 1, 1.0])
    np.testing.assert_allclose(high[1] - high[0], 1.0)  # same resamples for every column
    assert low[2] == high[2] == 1.0
    se = x.std() / np.sqrt(500)
    assert high[0] - low[0] == pytest.approx(2 * 1.96 * se, rel=0.2)
    again = bootstrap_means(values, n_boot=300, random_state=3)
    np.testing.assert_array_equal(again[1], low)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_means(values, n_boot=5)
    with pytest.raises(ValueError, match="values"):
        bootstrap_means(np.ones(1))


def test_policy_table_layout_and_errors():
    out = policy_table("lever", "m", {"a": np.zeros(4), "b": np.ones(4)},
                       revenue={"b": np.full(4, 2.0)}, compare_to={"b": "a"})  # fmt: skip
    assert list(out.columns) == STUDY_COLUMNS
    b = row(out, "b")
    assert (b["truth"], b["diff"], b["revenue_per_1000"]) == (1000.0, 1000.0, 2000.0)
    assert np.isnan(row(out, "a")["diff"])
    with pytest.raises(ValueError, match="compare_to"):
        policy_table("lever", "m", {"a": np.zeros(4)}, compare_to={"a": "zzz"})
    with pytest.raises(ValueError, match="same members"):
        policy_table("lever", "m", {"a": np.zeros(4), "b": np.zeros(3)})


def test_upsell_targeting_beats_random_in_truth(world, sales, features):
    out = upsell_study(world, sales, q=0.3, n_boot=N_BOOT, features=features)
    assert list(out.columns) == STUDY_COLUMNS
    top, rand = row(out, "uplift_top_0.3"), row(out, "random_0.3")
    # truth differences (paired over members) lie 9-100 standard errors above 0 on this world,
    # so "the interval excludes 0" holds on any draw, not by luck
    assert top["diff"] > 0 and top["diff_ci_low"] > 0  # against random 30 %
    assert row(out, "everyone")["truth"] >= top["truth"] > rand["truth"] > row(out, "none")["truth"]
    assert top["revenue_per_1000"] > rand["revenue_per_1000"] > 0
    # the logs' own estimate sees the same ordering and lies near the truth
    assert top["estimate"] > rand["estimate"]
    assert_near_truth(top)
    again = upsell_study(world, sales, q=0.3, n_boot=N_BOOT, features=features)
    pd.testing.assert_frame_equal(out, again)
    with pytest.raises(ValueError, match="q must be"):
        upsell_study(world, sales, q=0.0, features=features)


def test_personalized_winback_title_beats_the_popular_title(world, sales, features):
    out = winback_study(world, sales, n_boot=N_BOOT, features=features)
    personal = row(out, "featured_personalized")
    assert personal["compare_to"] == "featured_popular"
    assert personal["diff_ci_low"] > 0
    assert row(out, "generic")["diff_ci_low"] > 0  # any message beats none
    for policy in ("none", "generic", "featured_random"):  # logged arms estimate their truth
        assert_near_truth(row(out, policy))
    assert personal["revenue_per_1000"] > row(out, "featured_popular")["revenue_per_1000"]


def test_cross_sell_model_beats_popularity(world, sales, features):
    out = cross_sell_study(world, sales, k=3, n_boot=N_BOOT, features=features)
    model = row(out, "taste_model")
    assert model["compare_to"] == "popularity" and model["diff_ci_low"] > 0
    assert row(out, "popularity")["truth"] > row(out, "random")["truth"] > 0
    assert model["revenue_per_1000"] > row(out, "popularity")["revenue_per_1000"] > 0


def test_targeted_ad_category_beats_uniform(world, sales, features):
    out = ad_targeting_study(world, sales, n_boot=N_BOOT, features=features)
    targeted = row(out, "targeted")
    assert targeted["diff_ci_low"] > 0
    assert_near_truth(row(out, "uniform"))
    with pytest.raises(ValueError, match="n_folds"):
        ad_targeting_study(world, sales, n_folds=1, features=features)


def test_ad_load_estimates_cover_the_truth(world, sales):
    out = ad_load_study(world, sales, n_boot=N_BOOT)
    churn = out[out["metric"].isin(["monthly_churn", "churned_within_6m_per_1000"])]
    assert len(churn) == 6
    for _, r in churn.iterrows():
        assert_near_truth(r)
    # more ads: more churn and fewer hours in truth
    monthly = out[out["metric"].eq("monthly_churn")].sort_values("policy")
    assert monthly["truth"].is_monotonic_increasing
    hours = out[out["metric"].eq("hours_per_month")].sort_values("policy")
    assert hours["truth"].is_monotonic_decreasing


def test_ads_tier_arpu_and_break_even_cpm(world, sales):
    out = ads_tier_arpu_study(world, sales, cpm_usd=40.0)
    basic = row(out, "basic_plan")["truth"]
    arpu = row(out, "ad_load_4", "arpu_usd_per_member_month")
    cpm = row(out, "ad_load_4", "break_even_cpm_usd")
    # at the break-even CPM the ads tier earns the basic price; at 40 USD it earns less here
    at_break_even = ads_tier_arpu_study(world, sales, cpm_usd=float(cpm["truth"]))
    assert row(at_break_even, "ad_load_4", "arpu_usd_per_member_month")["truth"] == pytest.approx(
        basic
    )
    assert (arpu["truth"] < basic) == (cpm["truth"] > 40.0)
    assert cpm["estimate_ci_low"] <= cpm["estimate"] <= cpm["estimate_ci_high"]

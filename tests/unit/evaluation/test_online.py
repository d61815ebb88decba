"""Online comparison: per-member outcomes counted once, their metric view, the interval."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT64, approx64

from persona_lib.data import PopularityGenrePolicy
from persona_lib.data.constants import Z95
from persona_lib.evaluation.online import (
    OUTCOMES,
    RATIOS,
    compare_policies,
    linearized_interval,
    member_metrics,
    member_outcomes,
)
from persona_lib.experiments import simulated
from persona_lib.signals import renewal_loss_probability
from persona_lib.sim import load_preset


def test_linearized_interval_by_hand():
    # sd(ddof=1) of (-1, 1, -1, 1) is sqrt(4/3); se = sqrt(4/3) / 2
    low, high = linearized_interval(0.5, np.array([-1.0, 1.0, -1.0, 1.0]))
    half = Z95 * np.sqrt(4 / 3) / 2
    assert (low, high) == pytest.approx((0.5 - half, 0.5 + half), rel=1e-15)
    series = linearized_interval(0.5, pd.Series([-1.0, 1.0, -1.0, 1.0]))
    np.testing.assert_allclose(series, (low, high), rtol=1e-15)
    assert all(np.isnan(linearized_interval(0.5, np.array([1.0]))))


def test_member_outcomes_count_the_logs_by_hand(smoke_world):
    out = member_outcomes(smoke_world, start_day=None)
    assert list(out.columns) == list(OUTCOMES)
    users = range(smoke_world.config.n_users)
    ev = smoke_world.events
    etype = ev["event_type"].astype(str)
    plays = ev[etype == "play_start"]
    by_user = {
        "sessions": ev.groupby("user_id")["session_id"].nunique(),
        "play_sessions": plays.groupby("user_id")["session_id"].nunique(),
        "plays": plays.groupby("user_id").size(),
        "rec_plays": plays[plays["row_id"].astype(str) != "search"].groupby("user_id").size(),
    }
    for column, counts in by_user.items():
        np.testing.assert_array_equal(out[column], counts.reindex(users, fill_value=0), column)
    stops = ev[etype == "play_stop"]
    hours = stops["watch_s"].astype(float).fillna(0).groupby(stops["user_id"]).sum() / 3600
    np.testing.assert_allclose(out["hours"], hours.reindex(users, fill_value=0), **FLOAT64)
    assert (out["pre_hours"] == 0).all()
    hazard = smoke_world.truth.tables["churn_hazard"]
    lose = renewal_loss_probability(hazard["hazard"], hazard["payment_failure_prob"])
    assert out["truth_lost"].sum() == approx64(lose.sum())
    assert out["truth_renewals"].sum() == len(hazard)


def test_member_metrics_is_the_ratio_view_of_member_outcomes(smoke_world):
    out = member_outcomes(smoke_world, start_day=None)
    metrics = member_metrics(smoke_world)
    assert list(metrics) == list(RATIOS)
    for metric, (num, den) in RATIOS.items():
        y, x = metrics[metric]
        assert np.array_equal(y, out[num].to_numpy())
        assert np.array_equal(x, np.ones(len(out)) if den is None else out[den].to_numpy())


def test_whole_log_counts_billing_periods_that_start_before_the_window(smoke_world):
    billing = smoke_world.billing.copy()
    renewal = np.flatnonzero(billing["status"].astype(str) == "renewed")[0]
    before_log = pd.Timestamp(smoke_world.config.start) - pd.Timedelta(days=3)
    billing.loc[renewal, "period_start"] = before_log  # a member who renewed before the log
    world = SimpleNamespace(config=smoke_world.config, events=smoke_world.events,
                            billing=billing, truth=smoke_world.truth)  # fmt: skip
    everything = member_outcomes(world, start_day=None)["renewals"].sum()
    from_day_0 = member_outcomes(world, start_day=0)["renewals"].sum()
    renewals = billing["status"].astype(str).isin(["renewed", "churned", "payment_failed"])
    assert everything == renewals.sum()
    assert from_day_0 == everything - 1


def test_member_outcomes_is_shared_with_the_simulated_experiment():
    assert simulated.member_outcomes is member_outcomes


def test_a_policy_against_an_identical_one_differs_by_exactly_zero():
    config = load_preset("smoke").replace(n_users=200, n_days=3)
    table = compare_policies(config, {"a": PopularityGenrePolicy(), "b": PopularityGenrePolicy()})
    other = table[table["policy"] == "b"]
    assert other["metric"].tolist() == list(RATIOS)
    assert (other["diff"] == 0).all()
    assert (other[["diff_ci_low", "diff_ci_high"]].to_numpy() == 0).all()
    assert (table["ci_low"] <= table["value"]).all() and (table["value"] <= table["ci_high"]).all()

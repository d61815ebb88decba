"""The readout of an experiment from what its tables hold (experiments.readout): a three-arm
experiment with a yes/no and a numeric outcome and no events, computed by hand."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from persona_lib.experiments import analyze_arms, compute_logged_outcomes
from persona_lib.experiments.power import mde_means, mde_proportions
from persona_lib.experiments.readout import (
    analyze_readout,
    detectable_effects,
    metric_kind,
    outcome_figures,
    readout_units,
)

Z = stats.norm.ppf(0.975)
# four members per arm, ids not in arm order; A is the control
ASSIGNMENTS = pd.DataFrame(
    {
        "user_id": [10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33],
        "experiment": "gate",
        "variant": ["A"] * 4 + ["B"] * 4 + ["C"] * 4,
        "assigned_ts": pd.Timestamp("2018-01-01"),
    }
).sample(frac=1.0, random_state=1)
OUTCOMES = pd.DataFrame(
    {
        "user_id": [10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33],
        "kept": [True, False, False, True, True, True, True, False, False, False, False, True],
        "rounds": [1, 2, 3, 6, 2, 4, 6, 8, 1, 1, 4, 2],
    }
)  # kept: A 2/4, B 3/4, C 1/4; rounds: A mean 3 (var 14/3), B 5 (20/3), C 2 (2)


def three_arms() -> pd.DataFrame:
    frame = compute_logged_outcomes(None, ASSIGNMENTS, outcomes=OUTCOMES)
    return frame.set_index("user_id")


def test_an_experiment_without_events_tests_its_outcome_columns():
    frame = three_arms()
    assert list(frame.columns) == ["variant", "assigned_ts", "kept", "rounds"]
    result = analyze_readout(frame, control="A", outcomes=["kept", "rounds"],
                             expected_weights={"A": 0.5, "B": 0.25, "C": 0.25})  # fmt: skip
    table = result.table.set_index(["outcome", "arm"])
    assert list(table.index) == [("kept", "B"), ("kept", "C"), ("rounds", "B"), ("rounds", "C")]
    assert table["method"].tolist() == ["z_pooled", "z_pooled", "welch", "welch"]
    # kept, B against A: 0.75 - 0.5, Wald interval, pooled z-test at (2 + 3) / 8
    b = table.loc[("kept", "B")]
    se = math.sqrt(0.5 * 0.5 / 4 + 0.75 * 0.25 / 4)
    assert b["diff"] == pytest.approx(0.25)
    assert (b["ci_low"], b["ci_high"]) == pytest.approx((0.25 - Z * se, 0.25 + Z * se))
    z0 = 0.25 / math.sqrt(0.625 * 0.375 * 0.5)
    assert b["p_value"] == pytest.approx(2 * stats.norm.sf(z0))
    # rounds, C against A: 2 - 3, Welch
    c = table.loc[("rounds", "C")]
    welch = stats.ttest_ind([1, 1, 4, 2], [1, 2, 3, 6], equal_var=False)
    assert c["diff"] == pytest.approx(-1.0) and c["p_value"] == pytest.approx(welch.pvalue)
    # the sample-ratio check: 4 / 4 / 4 against 6 / 3 / 3 expected -> X^2 = 4/6 + 1/3 + 1/3
    assert result.counts == {"A": 4, "B": 4, "C": 4}
    assert result.srm.statistic == pytest.approx(4 / 3)


def test_units_and_figures_of_outcome_columns():
    frame = three_arms()
    result = analyze_readout(frame, control="A", outcomes=["kept", "rounds"])
    assert readout_units(result) == {"kept": "%", "rounds": ""}
    figures = outcome_figures(result, ["kept", "rounds"])
    table = result.table.set_index(["outcome", "arm"])
    assert figures["kept_control_pct"] == pytest.approx(50.0)
    assert figures["kept_arm_pct_B"] == pytest.approx(75.0)
    assert figures["kept_arm_pct_C"] == pytest.approx(25.0)
    assert figures["kept_diff_pp_C"] == pytest.approx(-25.0)
    assert figures["kept_ci_low_pp_B"] == pytest.approx(100 * table.loc[("kept", "B"), "ci_low"])
    assert figures["kept_p_value_B"] == table.loc[("kept", "B"), "p_value"]  # not adjusted
    assert figures["rounds_control"] == pytest.approx(3.0)
    assert figures["rounds_arm_B"] == pytest.approx(5.0)
    assert figures["rounds_diff_C"] == pytest.approx(-1.0)
    assert figures["rounds_ci_high_C"] == pytest.approx(table.loc[("rounds", "C"), "ci_high"])
    assert len(figures) == 2 * (1 + 2 * 5)
    only_b = outcome_figures(result, ["kept"], suffix={"B": "", "C": "_gate_c"})
    assert only_b["kept_diff_pp"] == pytest.approx(25.0) and "kept_diff_pp_gate_c" in only_b
    with pytest.raises(ValueError, match=r"outcome figures \['kept_control_pct'\] are already"):
        outcome_figures(result, ["kept"], taken={"kept_control_pct": 1.0})
    with pytest.raises(ValueError, match=r"outcomes \['hours'\] were not tested"):
        outcome_figures(result, ["hours"])


def test_two_arms_have_no_suffix():
    frame = three_arms()
    two = frame[frame["variant"] != "C"]
    figures = outcome_figures(analyze_readout(two, control="A", outcomes=["kept"]), ["kept"])
    assert sorted(figures) == ["kept_arm_pct", "kept_ci_high_pp", "kept_ci_low_pp",
                               "kept_control_pct", "kept_diff_pp", "kept_p_value"]  # fmt: skip


def test_detectable_effects_at_the_smallest_arm():
    frame = three_arms().iloc[1:]  # one member fewer: the smallest arm has 3
    result = analyze_readout(frame, control="A", outcomes=["kept", "rounds"])
    table = detectable_effects(frame, result, ["kept", "rounds"], alpha=0.05)
    n = int(min(result.counts.values()))
    assert n == 3 and table["units_per_arm"].tolist() == [3, 3]
    kept, rounds = frame["kept"].mean(), frame["rounds"].astype(float)
    assert table.loc["kept", "baseline"] == pytest.approx(kept)
    assert table.loc["kept", "mde_at_this_size"] == pytest.approx(float(mde_proportions(3, kept)))
    assert table.loc["rounds", "mde_at_this_size"] == pytest.approx(
        float(mde_means(3, rounds.std()))
    )
    assert table["kind"].tolist() == ["proportion", "mean"]
    with pytest.raises(ValueError, match="metric 'hours' is not an outcome"):
        detectable_effects(frame, result, ["hours"])


def logged_frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """compute_logged_outcomes' event and billing columns for two arms."""
    rng = np.random.default_rng(seed)
    sessions = rng.integers(1, 6, n).astype(float)
    return pd.DataFrame({
        "variant": np.where(np.arange(n) % 2 == 0, "control", "treatment"),
        "hours": rng.gamma(2.0, 1.0, n), "pre_hours": rng.gamma(2.0, 1.0, n),
        "sessions": sessions, "play_sessions": np.minimum(sessions, rng.integers(0, 4, n)),
        "renewals": rng.integers(1, 3, n).astype(float), "lost": (rng.random(n) < 0.2) * 1.0,
        "revenue_usd": rng.uniform(0, 20, n),
    })  # fmt: skip


def test_event_and_billing_metrics_match_the_direct_analysis():
    frame = logged_frame()
    result = analyze_readout(
        frame, control="control", expected_weights={"control": 0.5, "treatment": 0.5}
    )
    direct = analyze_arms(
        frame.assign(hours_per_member=frame["hours"], hours_per_member_cuped=frame["hours"],
                     revenue_per_member=frame["revenue_usd"]),
        "variant", ["hours_per_member", "hours_per_member_cuped", "revenue_per_member"],
        control="control", covariates={"hours_per_member_cuped": "pre_hours"},
        ratios={"play_rate": ("play_sessions", "sessions"), "monthly_churn": ("lost", "renewals")},
        expected_weights={"control": 0.5, "treatment": 0.5},
    )  # fmt: skip
    pd.testing.assert_frame_equal(result.table, direct.table)
    assert readout_units(result) == {
        "hours_per_member": "hours", "hours_per_member_cuped": "hours",
        "revenue_per_member": "USD", "play_rate": "%", "monthly_churn": "%",
    }  # fmt: skip
    table = detectable_effects(frame, result, ["play_rate", "hours_per_member", "monthly_churn"])
    n = 20
    assert table.loc["hours_per_member", "mde_at_this_size"] == pytest.approx(
        float(mde_means(n, frame["hours"].std()))
    )
    churn = frame["lost"].sum() / frame["renewals"].sum()
    assert table.loc["monthly_churn", "baseline"] == pytest.approx(churn)
    assert table.loc["monthly_churn", "units_per_arm"] == int(n * frame["renewals"].mean())
    assert table.loc["monthly_churn", "mde_at_this_size"] == pytest.approx(
        float(mde_proportions(int(n * frame["renewals"].mean()), churn))
    )


def test_only_what_the_tables_give():
    frame = logged_frame()
    billing_only = frame.drop(columns=["hours", "pre_hours", "sessions", "play_sessions"])
    outcomes = analyze_readout(billing_only, control="control").table["outcome"].tolist()
    assert outcomes == ["revenue_per_member", "monthly_churn"]
    events_only = frame.drop(columns=["renewals", "lost", "revenue_usd"])
    outcomes = analyze_readout(events_only, control="control").table["outcome"].tolist()
    assert outcomes == ["hours_per_member", "hours_per_member_cuped", "play_rate"]
    with pytest.raises(ValueError, match="nothing to compare: the experiment's members have no"):
        analyze_readout(frame[["variant"]], control="control")


def test_metric_kinds():
    assert [metric_kind(m) for m in ("z_pooled", "welch", "cuped_welch", "delta_method")] == [
        "proportion", "mean", "mean", "ratio",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown test method 'bayes'"):
        metric_kind("bayes")

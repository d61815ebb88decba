"""The simulated experiment: the split serves each arm its policy, and the truth is paired."""

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT64

from persona_lib.data import PopularityGenrePolicy
from persona_lib.evaluation import linearized_interval
from persona_lib.evaluation.artwork_online import FixedArtworkPolicy
from persona_lib.experiments import compute_logged_outcomes
from persona_lib.experiments.simulated import (
    METRICS,
    analyze_experiment,
    member_outcomes,
    run_simulated_experiment,
    true_logged_effects,
)
from persona_lib.models.artwork import ArtworkPolicy
from persona_lib.signals.engagement import pair_plays
from persona_lib.sim import SimulationConfig

START_DAY = 3


def _first_artwork_policy(n_artworks, first):
    def make():
        mask = np.zeros(n_artworks, bool)
        mask[first] = True
        return ArtworkPolicy(FixedArtworkPolicy(mask))

    return make


@pytest.fixture(scope="module")
def run():
    config = SimulationConfig(n_users=300, n_titles=60, n_days=8, random_state=5)
    from persona_lib.sim.population import make_population

    pop = make_population(config)
    first = pop.artworks.groupby("title_id")["artwork_id"].min().to_numpy()
    treatment = _first_artwork_policy(len(pop.artworks), first)
    return run_simulated_experiment(config, PopularityGenrePolicy, treatment, salt="t",
                                    start_day=START_DAY), first  # fmt: skip


def test_each_arm_is_served_by_its_policy_from_the_start_day(run):
    run, first = run
    world = run.worlds["experiment"]
    imp = world.events[world.events["event_type"].astype(str) == "impression"]
    day = (imp["ts"].to_numpy().astype("datetime64[D]") - world.config.start).astype(int)
    shows_first = imp["artwork_id"].to_numpy() == first[imp["title_id"].to_numpy()]
    treated = run.treated[imp["user_id"].to_numpy()]
    after = day >= START_DAY
    assert shows_first[treated & after].all()
    # control members and everybody before the start see random artwork (first one ~1/k)
    assert shows_first[~treated & after].mean() < 0.5
    assert shows_first[treated & ~after].mean() < 0.5
    assert 0.4 < run.treated.mean() < 0.6


def test_counterfactual_runs_give_every_member_both_outcomes(run):
    run, first = run
    for name in ("all_control", "all_treatment"):
        out = run.outcomes[name]
        assert out["user_id"].tolist() == list(range(run.config.n_users))
    # before the start day all three runs serve the same control policy to everybody:
    # pre-period hours agree closely (the policies' own random draws differ across runs)
    pre = [run.outcomes[k]["pre_hours"].sum() for k in ("experiment", "all_control")]
    assert pre[0] == pytest.approx(pre[1], rel=0.1)


def test_member_outcomes_count_post_period_rows():
    config = SimulationConfig(n_users=50, n_titles=40, n_days=4, random_state=1)
    from persona_lib.sim import simulate

    world = simulate(config)
    out = member_outcomes(world, start_day=2)
    start = np.datetime64(config.start, "ms") + np.timedelta64(2, "D")
    ev = world.events
    # a session belongs to the period it starts in (a sitting can run past midnight)
    first = ev.groupby("session_id")["ts"].transform("min").to_numpy().astype("datetime64[ms]")
    sessions = ev[first >= start].groupby("user_id")["session_id"].nunique()
    np.testing.assert_array_equal(out["sessions"], sessions.reindex(range(50), fill_value=0))
    bill = world.billing[world.billing["period_start"].to_numpy().astype("datetime64[ms]") >= start]
    paid = bill[bill["status"].astype(str).isin(["new", "renewed", "reactivated"])]
    assert out["revenue"].sum() == pytest.approx(paid["price"].astype(float).sum())
    # the whole log (start_day=None) splits into the pre-period and the experiment period
    whole = member_outcomes(world, start_day=None)
    np.testing.assert_allclose(whole["hours"], out["pre_hours"] + out["hours"], **FLOAT64)
    assert (whole["sessions"] >= out["sessions"]).all()


def test_analysis_has_every_metric_with_the_truth_beside_it(run):
    run, _ = run
    table = analyze_experiment(run)
    assert table["metric"].tolist() == [*METRICS, "hours_per_member_cuped"]
    assert table[["estimate", "ci_low", "ci_high", "truth"]].notna().all().all()
    assert (table["ci_low"] <= table["estimate"]).all() and (
        table["estimate"] <= table["ci_high"]
    ).all()
    assert isinstance(table, pd.DataFrame) and table["covers_truth"].dtype == bool


def test_true_effect_is_the_paired_difference_with_the_linearized_interval(run):
    run, _ = run
    table = analyze_experiment(run).set_index("metric")
    paired = run.outcomes["all_treatment"]["hours"] - run.outcomes["all_control"]["hours"]
    d = paired.to_numpy()
    truth = table.loc["hours_per_member", ["truth", "truth_ci_low", "truth_ci_high"]]
    assert truth.tolist() == [d.mean(), *linearized_interval(d.mean(), d)]


def test_bad_arguments_are_rejected():
    config = SimulationConfig(n_users=20, n_titles=40, n_days=2)
    with pytest.raises(ValueError, match="treatment_share"):
        run_simulated_experiment(config, PopularityGenrePolicy, PopularityGenrePolicy,
                                 treatment_share=1.0)  # fmt: skip
    with pytest.raises(ValueError, match="start_day"):
        run_simulated_experiment(config, PopularityGenrePolicy, PopularityGenrePolicy, start_day=5)


def test_cumulative_daily_hours_end_at_the_members_total(run):
    from persona_lib.experiments.simulated import cumulative_daily

    run, _ = run
    world = run.worlds["experiment"]
    hours = cumulative_daily(world, "hours", START_DAY)
    assert hours.shape == (run.config.n_users, run.config.n_days - START_DAY)
    np.testing.assert_allclose(hours[:, -1], run.outcomes["experiment"]["hours"], **FLOAT64)
    assert np.all(np.diff(hours, axis=1) >= 0)
    sessions = cumulative_daily(world, "sessions", START_DAY)
    np.testing.assert_array_equal(sessions[:, -1], run.outcomes["experiment"]["sessions"])


def test_the_experiment_as_logged_assignments(run):
    run, _ = run
    table = run.assignments("exp")
    assert table.columns.tolist() == ["user_id", "experiment", "variant", "assigned_ts"]
    assert table["user_id"].tolist() == list(range(run.config.n_users))
    assert (table["variant"].to_numpy() == run.arm).all() and (table["experiment"] == "exp").all()
    start = np.datetime64(run.config.start, "ms") + np.timedelta64(START_DAY, "D")
    assert (table["assigned_ts"].to_numpy() == start).all()
    # logged outcomes over the whole log after the start equal the simulator's member outcomes
    world = run.worlds["experiment"]
    logged = compute_logged_outcomes(world.events, table, window=None, billing=world.billing)
    out = run.outcomes["experiment"]
    same = {"sessions": "sessions", "play_sessions": "play_sessions", "lost": "lost",
            "renewals": "renewals", "revenue_usd": "revenue"}  # fmt: skip
    for mine, theirs in same.items():
        np.testing.assert_array_equal(logged[mine], out[theirs], err_msg=mine)
    # hours count by a play's start there (logged), by its stop here (simulated): the totals
    # differ by the plays that start before the start day and stop after it
    plays = pair_plays(world.events)
    began = plays["ts"].to_numpy().astype("datetime64[ms]")
    ended = began + (plays["watch_s"].to_numpy(np.float64) * 1000).astype("timedelta64[ms]")
    spill = plays["watch_s"].to_numpy(np.float64)[(began < start) & (ended >= start)].sum()
    assert logged["hours"].sum() == pytest.approx(out["hours"].sum() - spill / 3600, rel=1e-6)


def test_true_logged_effects_are_paired_over_the_counterfactual_worlds(run):
    run, _ = run
    table = run.assignments("exp")
    metrics = {"hours": ("hours", None), "play_rate": ("play_sessions", "sessions")}
    truth = true_logged_effects(run, table, metrics)
    assert truth.index.tolist() == ["hours", "play_rate"]
    outs = {k: compute_logged_outcomes(run.worlds[k].events, table, window=None)
            for k in ("all_treatment", "all_control")}  # fmt: skip
    d = (outs["all_treatment"]["hours"] - outs["all_control"]["hours"]).to_numpy()
    expected = [d.mean(), *linearized_interval(d.mean(), d)]
    np.testing.assert_allclose(truth.loc["hours"].to_numpy(), expected, **FLOAT64)
    t, c = outs["all_treatment"], outs["all_control"]
    rate = t["play_sessions"].sum() / t["sessions"].sum()
    rate -= c["play_sessions"].sum() / c["sessions"].sum()
    assert truth.loc["play_rate", "truth"] == pytest.approx(rate, rel=1e-12)
    low, high = truth.loc["play_rate", ["truth_ci_low", "truth_ci_high"]]
    assert low < rate < high

"""Artwork policies online: comparison table, regret, truth values and helpers, on a tiny world."""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import FLOAT64, approx32

from persona_lib.evaluation.artwork_online import (
    FixedArtworkPolicy,
    fit_artwork_reward_model,
    impression_truth,
    lift_by_heterogeneity,
    per_title_best_artwork,
    regret_curve,
    run_artwork_policies,
    segment_preferences,
    split_rounds,
    true_policy_value,
)
from persona_lib.models.artwork import LinUCBPolicy, UniformRandomPolicy, artwork_rounds
from persona_lib.sim import load_preset, simulate


def tiny():
    return load_preset("smoke").replace(n_users=300, n_days=4)


@pytest.fixture(scope="module")
def run():
    return run_artwork_policies(tiny(), {"linucb": LinUCBPolicy(alpha=0.1)})


@pytest.fixture(scope="module")
def logged():
    world = simulate(tiny())
    return world, artwork_rounds(world)


def test_fixed_policy_puts_mass_on_the_marked_artwork():
    policy = FixedArtworkPolicy(np.array([0, 1, 0, 0, 0], bool)).bind_actions(np.eye(5))
    probs = policy.action_probabilities(np.ones((2, 1)), np.array([[0, 1, 2], [3, 4, -1]]))
    np.testing.assert_allclose(probs, [[0, 1, 0], [0.5, 0.5, 0]])


def test_table_has_every_policy_with_paired_lifts(run):
    worlds, table = run
    assert list(table["policy"]) == ["uniform", "linucb", "per_title_best"]
    assert set(worlds) == set(table["policy"])
    base = table.iloc[0]
    assert np.isnan(base["take_fraction_lift_pct"])
    assert abs(base["true_click_lift_pct"]) < 3  # uniform artwork is the title average
    for _, row in table.iterrows():
        assert row["take_fraction_ci_low"] <= row["take_fraction"] <= row["take_fraction_ci_high"]
        assert row["play_rate_ci_low"] <= row["play_rate"] <= row["play_rate_ci_high"]
        assert row["regret_per_1k_impressions"] >= 0
        assert 0 < row["seen_share"] < 1
    assert table.iloc[2]["true_click_lift_pct"] > 5  # the per-title best is better than random


def test_regret_curve_adds_up(run):
    worlds, table = run
    world = worlds["linucb"]
    truth = impression_truth(world)
    curve = regret_curve(world, truth)
    assert list(curve["day"]) == list(range(world.config.n_days))
    assert curve["impressions"].sum() == len(truth)
    assert np.all(np.diff(curve["cumulative_regret"]) >= 0)
    per_1k = table.set_index("policy").loc["linucb", "regret_per_1k_impressions"]
    assert curve["cumulative_regret"].iloc[-1] == pytest.approx(per_1k * len(truth) / 1000)


def test_interacted_before_matches_the_first_click_or_play(run):
    """At a member's first homepage impression of a title: only an earlier (search) act counts."""
    world = run[0]["uniform"]
    truth = impression_truth(world)
    events = world.events
    acts = events[events["event_type"].isin(["click", "play_start"])]
    first_act = acts.groupby(["user_id", "title_id"])["ts"].min()
    imp = events[(events["event_type"] == "impression") & (events["row_id"] != "search")]
    first_imp = imp.groupby(["user_id", "title_id"])["ts"].min()
    expected = (first_act.reindex(first_imp.index) < first_imp).to_numpy()
    first = ~truth.duplicated(["user_id", "title_id"])
    got = truth[first].set_index(["user_id", "title_id"])["interacted_before"]
    np.testing.assert_array_equal(got.reindex(first_imp.index).to_numpy(), expected)
    assert truth["interacted_before"].any()


def test_true_value_of_the_logged_actions_is_the_truths_click_rate(logged):
    world, rounds = logged
    onehot = np.zeros(rounds.candidates.shape)
    onehot[np.arange(len(rounds)), rounds.action_index] = 1.0
    imp = world.truth.tables["impressions"].set_index("event_id").loc[rounds.event_id]
    expected = imp["p_click"].to_numpy(np.float64).mean()
    assert true_policy_value(world, rounds, onehot) == approx32(expected)  # p_click is float32
    uniform = UniformRandomPolicy().bind_actions(rounds.action_features)
    value = true_policy_value(
        world, rounds, uniform.action_probabilities(rounds.context, rounds.candidates)
    )
    assert value == pytest.approx(rounds.click.mean(), rel=0.15)


def test_split_rounds_and_reward_model(logged):
    _, rounds = logged
    first, rest = split_rounds(rounds, 0.25)
    assert len(first) + len(rest) == len(rounds)
    assert first.event_id.max() < rest.event_id.min()
    q_hat = fit_artwork_reward_model(rest)
    assert q_hat.shape == rest.candidates.shape
    assert np.all((q_hat >= 0) & (q_hat <= 1))
    assert np.all(q_hat[rest.candidates < 0] == 0)
    with pytest.raises(ValueError, match="fraction must be in"):
        split_rounds(rounds, 1.0)


def test_per_title_best_marks_one_artwork_per_shown_title(logged):
    world, rounds = logged
    mask = per_title_best_artwork(rounds, len(world.artworks))
    owner = world.artworks.set_index("artwork_id").loc[np.flatnonzero(mask), "title_id"]
    assert owner.is_unique
    assert set(owner) == set(np.unique(rounds.title_id))


def test_lift_by_heterogeneity_ceiling_grows_with_the_weight():
    config = load_preset("smoke").replace(n_users=200, n_days=3)
    table = lift_by_heterogeneity(config, lambda: LinUCBPolicy(alpha=0.1), weights=(0.5, 2.0))
    assert list(table["artwork_weight"]) == [0.5, 2.0]
    assert {"take_fraction_lift_pct", "play_rate_lift_pct", "true_click_lift_pct"} <= set(table)
    assert table["truth_best_click_lift_pct"].is_monotonic_increasing


def test_segment_preferences_follow_the_true_tastes(run):
    worlds, _ = run
    uniform = segment_preferences(worlds["uniform"])
    assert len(uniform) == 7 * uniform["segment"].nunique() <= 56
    shares = uniform[["shown_share", "best_share", "uniform_share"]].to_numpy()
    assert np.all((shares >= 0) & (shares <= 1))
    assert uniform["shown_minus_uniform_pp"].abs().max() < 10  # random artwork is the title mean
    # the truth's best artwork leans towards what the segment's taste rewards
    assert uniform[uniform["loading"] >= 1]["best_minus_uniform_pp"].min() > 10
    assert uniform[uniform["loading"] <= -0.6]["best_minus_uniform_pp"].max() < 0
    assert np.corrcoef(uniform["loading"], uniform["best_minus_uniform_pp"])[0, 1] > 0.5
    learned = segment_preferences(worlds["linucb"])
    pooled = segment_preferences(worlds["linucb"], truth_segments=False)
    assert len(pooled) == 7 and pooled["segment_name"].eq("all members").all()
    assert pooled["loading"].isna().all()
    assert pooled["impressions"].iloc[0] == len(impression_truth(worlds["linucb"]))
    weighted = (learned["shown_share"] * learned["impressions"]).groupby(learned["attribute"]).sum()
    total = learned.groupby("attribute")["impressions"].sum()
    np.testing.assert_allclose(
        (weighted / total).loc[pooled["attribute"]].to_numpy(),
        pooled["shown_share"].to_numpy(),
        **FLOAT64,
    )

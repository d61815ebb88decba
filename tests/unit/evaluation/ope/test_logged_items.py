"""Item-at-slot rounds from logs and the off-policy value of an item policy: a hand-made log with
its rounds worked out by hand, hand-computed values, and the errors users see."""

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT64, approx64, approx_closed_form

from persona_lib.data import schema
from persona_lib.evaluation.ope import logged_items as module
from persona_lib.evaluation.ope import standard_estimators
from persona_lib.evaluation.ope.logged_items import (
    ItemRounds,
    against_reference,
    build_item_rounds,
    evaluate_item_policy,
    item_estimator_inputs,
    logged_item_rounds,
    logged_probabilities,
    on_policy_value,
    uniform_item_policy,
)

EVENT_COLUMNS = ["s", "user_id", "event_type", "title_id", "artwork_id", "row_id", "col_position"]
# (seconds, member, event, title, artwork, row, slot); one session per member
LOG = [
    (0, 0, "impression", 5, -1, "w", 1),  # round 0: title 5 in slot 1, clicked at t=1
    (1, 0, "click", 5, -1, "w", 1),
    (2, 1, "impression", 3, -1, "w", 0),  # round 1: title 3 in slot 0, clicked at t=7
    (3, 2, "impression", 9, 7, "w", 0),  # shows an artwork: a round of the artwork choice
    (4, 3, "impression", 9, -1, "w", 2),  # no propensity logged: no round
    (5, 3, "impression", 3, -1, "w", 1),  # round 2: title 3 in slot 1, not clicked
    (6, 3, "click", 9, -1, "w", 2),  # clicks the tile of t=4 (title 9), not title 3's
    (7, 1, "click", 3, -1, "w", 0),
    (8, 2, "impression", 3, -1, "search", 0),  # a search result, not a slot
]
PSCORE = {0: 0.00125, 2: 0.5, 3: 0.25, 5: 0.125, 8: 0.3}  # event_id -> pscore


def events_of(rows=LOG) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    n = len(frame)
    return pd.DataFrame({
        "event_id": np.arange(n, dtype=np.int32),
        "ts": pd.Timestamp("2025-01-01") + pd.to_timedelta(frame["s"], unit="s"),
        "user_id": frame["user_id"].astype(np.int32),
        "session_id": frame["user_id"].astype(np.int32),
        "device": pd.Categorical(["web"] * n, categories=list(schema.DEVICES)),
        "event_type": pd.Categorical(frame["event_type"], categories=list(schema.EVENT_TYPES)),
        "title_id": frame["title_id"].astype(np.int32),
        "artwork_id": frame["artwork_id"].astype(np.int32),
        "row_id": pd.Categorical(frame["row_id"]), "row_position": np.zeros(n, np.int8),
        "col_position": frame["col_position"].astype(np.int8),
    })  # fmt: skip


def propensities_of(pscore=PSCORE) -> pd.DataFrame:
    return pd.DataFrame({"event_id": np.array(list(pscore), dtype=np.int32),
                         "pscore": np.array(list(pscore.values()), dtype=np.float32)})  # fmt: skip


TITLES = pd.DataFrame({"title_id": np.array([9, 3, 5], dtype=np.int32)})
USERS = pd.DataFrame({
    "user_id": np.array([3, 2, 1, 0], dtype=np.int32),
    "country": ["JP"] * 4,  # a column of persona's schema: not a feature
    "segment": ["c", "b", "a", "b"],  # a team's own column: one-hot
})  # fmt: skip


def tiny_rounds(reward=(1.0, 0.0, 0.0, 1.0), pscore=0.5) -> ItemRounds:
    """Four rounds of two items in one slot, logged uniformly (pscore 1/2), no member feature."""
    n = len(reward)
    return ItemRounds(action=np.array([0, 1, 0, 1]), position=np.zeros(n, dtype=np.int64),
                      reward=np.asarray(reward, float), pscore=np.full(n, pscore),
                      context=np.zeros((n, 0)), context_names=(), item_ids=np.array([10, 11]),
                      n_positions=1)  # fmt: skip


def test_rounds_by_hand():
    rounds = build_item_rounds(events_of(), propensities_of(), TITLES, USERS)
    assert len(rounds) == 3 and rounds.n_actions == 3 and rounds.n_positions == 2
    np.testing.assert_array_equal(rounds.item_ids, [3, 5, 9])  # actions index the sorted ids
    np.testing.assert_array_equal(rounds.action, [1, 0, 0])
    np.testing.assert_array_equal(rounds.position, [1, 0, 1])
    np.testing.assert_array_equal(rounds.reward, [1.0, 1.0, 0.0])
    # the float32 propensities come back as the decimals that were logged
    np.testing.assert_array_equal(rounds.pscore, [0.00125, 0.5, 0.125])
    assert rounds.context_names == ("segment=a", "segment=b", "segment=c")
    np.testing.assert_array_equal(rounds.context, [[0, 1, 0], [1, 0, 0], [0, 0, 1]])


def test_every_impression_shows_an_artwork_no_round():
    rows = [(s, u, e, t, 4, r, c) for s, u, e, t, _, r, c in LOG]
    rounds = build_item_rounds(events_of(rows), propensities_of(), TITLES, USERS)
    assert len(rounds) == 0 and rounds.context.shape == (0, 0)
    assert len(build_item_rounds(events_of(), None, TITLES, USERS)) == 0  # no propensities


def test_member_columns_without_users_or_with_too_many_values(monkeypatch):
    rounds = build_item_rounds(events_of(), propensities_of(), TITLES)
    assert rounds.context.shape == (3, 0) and rounds.context_names == ()
    monkeypatch.setattr(module, "MAX_LEVELS", 2)  # "segment" has 3 values among the rounds
    rounds = build_item_rounds(events_of(), propensities_of(), TITLES, USERS)
    assert rounds.context.shape == (3, 0)


def test_logged_item_rounds_reads_the_tables_and_keeps_the_first_rounds():
    class Logs:  # the attributes a World and a Logs share
        events, propensities, titles, users = events_of(), propensities_of(), TITLES, USERS

    first = logged_item_rounds(Logs(), max_rounds=2)
    np.testing.assert_array_equal(first.action, [1, 0])
    assert first.context.shape == (2, 3) and len(logged_item_rounds(Logs())) == 3


def test_a_title_not_in_titles_is_named():
    with pytest.raises(ValueError, match="a title_id that titles does not list"):
        build_item_rounds(events_of(), propensities_of(), TITLES[TITLES["title_id"] != 5], USERS)


def test_logged_probabilities():
    stored = np.array([0.00125, 1 / 80, 0.019430000000000003], dtype=np.float32)
    np.testing.assert_array_equal(logged_probabilities(stored), [0.00125, 0.0125, 0.01943])
    # 1/80 / 0.00125 is 10 again: a weight on the threshold stays on it
    assert 0.0125 / logged_probabilities(stored)[0] == 10.0
    exact = np.array([1 / 3])
    assert logged_probabilities(exact)[0] == 1 / 3  # float64 as it is
    np.testing.assert_allclose(logged_probabilities(np.float32([1 / 3])), [1 / 3], rtol=1.2e-7)


def test_uniform_item_policy():
    rounds = build_item_rounds(events_of(), propensities_of(), TITLES, USERS)
    dist = uniform_item_policy(rounds)
    assert dist.shape == (3, 3, 2)
    np.testing.assert_allclose(dist.sum(axis=1), 1.0, **FLOAT64)


def test_on_policy_value_exact_interval_by_hand():
    # Clopper-Pearson with no click: [0, 1 - (alpha/2)^(1/n)]; with every round clicked:
    # [(alpha/2)^(1/n), 1]
    none = on_policy_value([0, 0, 0, 0])
    assert (none.clicks, none.n_rounds, none.value, none.low) == (0, 4, 0.0, 0.0)
    assert none.high == approx_closed_form(1 - 0.025 ** (1 / 4))
    every = on_policy_value(np.ones(4))
    assert every.low == approx_closed_form(0.025 ** (1 / 4)) and every.high == 1.0
    assert on_policy_value([0, 1, 0, 0]).to_dict()["value"] == 0.25


@pytest.mark.parametrize("reward", [[], [0.5, 1.0], [[0, 1]]])
def test_on_policy_value_refuses_what_is_not_clicks(reward):
    with pytest.raises(ValueError, match="reward must be a non-empty 1-D array of 0 / 1"):
        on_policy_value(reward)


def test_uniform_policy_on_uniform_logs_by_hand():
    rounds = tiny_rounds()
    value = evaluate_item_policy(rounds, uniform_item_policy(rounds), standard_estimators(10.0),
                                 tau=10.0, n_bootstrap=50)  # fmt: skip
    # every weight is (1/2) / (1/2) = 1: IPS and SNIPS are the logged click rate, 2 / 4
    assert value.estimate("ipw")[0] == value.estimate("snipw")[0] == 0.5
    assert value.logged.value == 0.5 and value.logged.clicks == 2
    assert value.weights == {"ess": 4.0, "ess_fraction": 1.0, "max": 1.0, "share_above_tau": 0.0}
    assert (value.n_rounds, value.n_items, value.n_positions) == (4, 2, 1)
    assert list(value.table["estimator"]) == list(standard_estimators(10.0))
    table = value.table.set_index("estimator")
    assert (table["ci_low"] <= table["estimate"]).all()
    assert (table["estimate"] <= table["ci_high"]).all()
    assert table.loc["dm", "estimate"] == pytest.approx(0.5, abs=0.5)  # a click rate


def test_given_inputs_are_used_and_the_result_is_seeded():
    rounds = tiny_rounds()
    dist = uniform_item_policy(rounds)
    inputs = item_estimator_inputs(rounds, dist, n_folds=2, random_state=3)
    assert set(inputs) == {"reward", "action", "pscore", "position", "action_dist", "q_hat"}
    estimators = standard_estimators(10.0)
    a = evaluate_item_policy(rounds, dist, estimators, tau=10.0, n_bootstrap=20, inputs=inputs)
    b = evaluate_item_policy(rounds, dist, estimators, tau=10.0, n_bootstrap=20, inputs=inputs)
    pd.testing.assert_frame_equal(a.table, b.table)
    q_pi = inputs["q_hat"].mean(axis=1)[:, 0]  # uniform: the mean of the two items' q_hat
    assert a.estimate("dm")[0] == approx64(q_pi.mean())
    fixed = inputs | {"q_hat": np.full_like(inputs["q_hat"], 0.25)}
    assert evaluate_item_policy(rounds, dist, estimators, tau=10.0, n_bootstrap=20,
                                inputs=fixed).estimate("dm") == (0.25, 0.25, 0.25)  # fmt: skip


def test_evaluate_needs_a_round():
    empty = build_item_rounds(events_of(), None, TITLES, USERS)
    with pytest.raises(ValueError, match="needs at least one logged round"):
        evaluate_item_policy(empty, uniform_item_policy(empty), standard_estimators(), tau=10.0)


def test_against_reference_by_hand():
    table = pd.DataFrame({"estimator": ["a", "b"], "estimate": [0.003, 0.006],
                          "ci_low": [0.001, 0.0055], "ci_high": [0.005, 0.007]})  # fmt: skip
    out = against_reference(table, 0.004)
    np.testing.assert_allclose(out["relative_error_pct"], [-25.0, 50.0], **FLOAT64)
    assert out["holds_reference"].tolist() == [True, False]
    with pytest.raises(ValueError, match="reference must be a positive value"):
        against_reference(table, 0.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"action": np.array([0, 2, 0, 1])}, r"action must be in 0 \.\. 1"),
        ({"position": np.array([0, 0, 1, 0])}, r"position must be in 0 \.\. 0"),
        ({"pscore": np.full(3, 0.5)}, "pscore has 3 rounds, action has 4"),
        ({"context": np.zeros((4, 1))}, r"context must have shape \(4, 0\)"),
    ],
)
def test_item_rounds_refuse_inconsistent_arrays(change, message):
    fields = {k: getattr(tiny_rounds(), k) for k in ItemRounds.__dataclass_fields__}
    with pytest.raises(ValueError, match=message):
        ItemRounds(**(fields | change))

"""Completion examples (history strictly before each play), the model and the truth ceiling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_lib.data.schema import DEVICES, EVENT_TYPES, KINDS, LANGUAGES
from persona_lib.evaluation.classification import calibration_table, classification_report
from persona_lib.evaluation.completion_truth import true_completion_prob
from persona_lib.models.completion import (
    COMPLETION_FEATURES,
    ID_COLUMNS,
    CompletionModel,
    completion_examples,
)

BASE = pd.Timestamp("2025-01-06 20:00")


def _plays(rows: list[tuple]) -> pd.DataFrame:
    """Events for (start_s, user, session, title, row, watch_s or None) plays: start + stop."""
    out = []
    for start, user, session, title, row, watch in rows:
        out.append((start, user, session, "play_start", title, row, np.nan))
        if watch is not None:
            out.append((start + watch, user, session, "play_stop", title, row, watch))
    raw = pd.DataFrame(out, columns=["t", "user", "session", "type", "title", "row", "watch"])
    raw = raw.sort_values("t", kind="stable", ignore_index=True)
    n = len(raw)
    return pd.DataFrame(
        {
            "event_id": np.arange(n, dtype="int32"),
            "ts": (BASE + pd.to_timedelta(raw["t"], unit="s")).astype("datetime64[ms]"),
            "user_id": raw["user"].astype("int32"),
            "session_id": raw["session"].astype("int32"),
            "device": pd.Categorical(["tv"] * n, categories=DEVICES),
            "event_type": pd.Categorical(raw["type"], categories=EVENT_TYPES),
            "title_id": raw["title"].astype("int32"),
            "artwork_id": np.full(n, -1, dtype="int32"),
            "row_id": pd.Categorical(raw["row"], categories=["genre:Drama", "popular", "search"]),
            "row_position": np.zeros(n, dtype="int8"),
            "col_position": np.zeros(n, dtype="int8"),
            "dwell_ms": np.zeros(n, dtype="uint16"),
            "watch_s": raw["watch"].astype("float32"),
        }
    )


@pytest.fixture
def titles() -> pd.DataFrame:
    """T0 movie 100 min Drama|Comedy (en), T1 series 50 min Action (es), T2 movie 10 min Drama."""
    return pd.DataFrame(
        {
            "title_id": np.arange(3, dtype="int32"),
            "kind": pd.Categorical(["movie", "series", "movie"], categories=KINDS),
            "genres": pd.array(["Drama|Comedy", "Action", "Drama"], dtype="str"),
            "language": pd.Categorical(["en", "es", "en"], categories=LANGUAGES),
            "runtime_min": np.array([100, 50, 10], dtype="int16"),
            "n_episodes": np.array([1, 10, 1], dtype="int16"),
        }
    )


def test_examples_use_only_earlier_starts_and_earlier_stops(titles):
    events = _plays(
        [
            (0, 0, 1, 0, "popular", 5400.0),  # T0 completed, stops at 5400
            (100, 1, 2, 0, "search", 600.0),  # another member: T0 not completed, stops at 700
            (1000, 0, 3, 1, "genre:Drama", 1000.0),  # starts before the first play stopped
            (6000, 0, 4, 2, "popular", None),  # no stop: history only, no example
            (7000, 0, 5, 0, "popular", 6000.0),  # sees both earlier outcomes of member 0
        ]
    )
    language = pd.Categorical(["en", "en"], categories=LANGUAGES)
    users = pd.DataFrame({"user_id": np.array([0, 1], "int32"), "language": language})
    ex = completion_examples(events, titles, users)
    assert list(ex.columns) == [*ID_COLUMNS, *COMPLETION_FEATURES, "watch_fraction", "completed"]
    assert list(ex["title_id"]) == [0, 0, 1, 0] and list(ex["user_id"]) == [0, 1, 0, 0]
    first, other, third, last = (ex.iloc[i] for i in range(4))
    assert first["user_prior_plays"] == 0 and np.isnan(first["user_prior_completion_rate"])
    assert np.isnan(first["genre_match"]) and first["title_prior_plays"] == 0
    assert other["title_prior_plays"] == 0  # member 0's play of T0 has not stopped yet
    assert third["user_prior_plays"] == 1 and np.isnan(third["user_prior_completion_rate"])
    assert third["genre_match"] == 0.0  # T1 is Action, the member only started Drama|Comedy
    assert third["row_kind"] == "genre" and not third["same_language"]
    # last: starts T0, T1, T2 before; outcomes of plays 1 (done) and 3 (not) are known
    assert last["user_prior_plays"] == 3
    assert last["user_prior_completion_rate"] == 0.5
    assert last["user_prior_mean_fraction"] == pytest.approx((0.9 + 1000 / 3000) / 2)
    # member mix: Drama .5 + 0 + 1, Comedy .5, Action 1 over 3 plays; T0 = .5 Drama + .5 Comedy
    assert last["genre_match"] == pytest.approx((0.5 * 1.5 + 0.5 * 0.5) / 3)
    # stopped plays in T0's genres: play 1 only (Drama .5, Comedy .5 of it), completed at 0.9
    assert last["genre_completion_rate"] == 1.0
    assert last["genre_watch_fraction"] == pytest.approx(0.9)
    assert np.isnan(third["genre_completion_rate"])  # nothing of member 0 had stopped
    assert last["same_title_prior_plays"] == 1
    assert last["title_prior_plays"] == 2 and last["title_prior_completion_rate"] == 0.5
    assert list(ex["completed"]) == [True, False, False, True]
    assert list(ex["from_search"]) == [False, True, False, False]


@pytest.fixture(scope="module")
def smoke():
    from persona_lib.data.simulate import simulate
    from persona_lib.data.simulate_config import load_preset

    world = simulate(load_preset("smoke"))
    return world, completion_examples(world.events, world.titles, world.users)


def test_features_do_not_change_when_later_events_are_removed(smoke):
    world, ex = smoke
    cutoff = ex["ts"].quantile(0.5)
    early = completion_examples(world.events[world.events["ts"] < cutoff], world.titles,
                                world.users)  # fmt: skip
    full = ex.set_index("event_id").loc[early["event_id"]]
    history = [c for c in COMPLETION_FEATURES if c.startswith(("user_", "title_", "genre",
                                                                "same_title"))]  # fmt: skip
    pd.testing.assert_frame_equal(
        early.set_index("event_id")[history], full[history], check_dtype=False
    )


def test_truth_probabilities_match_the_empirical_completion_rate(smoke):
    world, ex = smoke
    p = true_completion_prob(world, ex)
    assert p.mean() == pytest.approx(ex["completed"].mean(), abs=0.02)
    table = calibration_table(ex["completed"], p, n_bins=5)
    assert np.all(np.abs(table["mean_predicted"] - table["observed_rate"]) < 4 * table["se"])


def test_model_beats_chance_but_not_the_truth(smoke):
    world, ex = smoke
    later = ex["ts"] >= ex["ts"].quantile(0.7)
    train, test = ex[~later], ex[later]
    model = CompletionModel(n_estimators=150).fit(train[COMPLETION_FEATURES], train["completed"])
    p = model.predict_proba(test[COMPLETION_FEATURES])[:, 1]
    report = classification_report(test["completed"], p)
    truth = classification_report(test["completed"], true_completion_prob(world, test))
    assert 0.6 < report["roc_auc"] < truth["roc_auc"]
    assert report["mean_predicted"] == pytest.approx(report["base_rate"], abs=0.05)
    again = CompletionModel(n_estimators=150).fit(train[COMPLETION_FEATURES], train["completed"])
    np.testing.assert_array_equal(again.predict_proba(test[COMPLETION_FEATURES])[:, 1], p)

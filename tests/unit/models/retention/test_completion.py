"""Completion examples (history strictly before each play), the model and the truth ceiling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_lib.data.schema import DEVICES, EVENT_TYPES, KINDS, LANGUAGES
from persona_lib.evaluation import calibration_table, classification_report, true_completion_prob
from persona_lib.models.retention.completion import (
    COMPLETION_FEATURES,
    ID_COLUMNS,
    CompletionModel,
    completion_examples,
    completion_pair_features,
    expected_completion,
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


def _with_rewatch(events: pd.DataFrame, starts: np.ndarray) -> pd.DataFrame:
    """``events`` plus a ``rewatch`` event beside each ``play_start`` row in ``starts``."""
    rewatch = events[starts].copy()
    rewatch["event_type"] = pd.Categorical(["rewatch"] * len(rewatch), categories=EVENT_TYPES)
    rewatch["event_id"] = np.arange(len(events), len(events) + len(rewatch), dtype="int32")
    return pd.concat([events, rewatch], ignore_index=True)


def test_pair_features_equal_the_examples_of_plays_right_after_the_history(titles):
    history = [
        (0, 0, 1, 0, "popular", 1500.0),  # member 0: T0 not completed
        (10, 1, 2, 2, "search", 590.0),  # member 1: T2 completed
        (700, 0, 3, 2, "genre:Drama", 600.0),  # member 0: T2 completed
        (1400, 0, 5, 1, "popular", None),  # member 0: T1 started, never stopped
        (1500, 1, 4, 0, "popular", 100.0),  # member 1: T0, stops at 1600, the log's end
    ]
    # (member, title, the member's last session): all started at one instant after the end,
    # so none sees another; served from the "popular" row at positions 0, like a pair
    pairs = [(0, 0, 5), (0, 2, 5), (1, 1, 4), (1, 0, 4), (1, 2, 4)]
    after = [(1700, u, s, t, "popular", 60.0) for u, t, s in pairs]
    extended = _plays(history + after)
    again = (extended["ts"] == BASE + pd.Timedelta(seconds=1700)) & extended["title_id"].eq(2)
    extended = _with_rewatch(extended, (again & extended["event_type"].eq("play_start")).to_numpy())
    language = pd.Categorical(["en", "es"], categories=LANGUAGES)
    users = pd.DataFrame({"user_id": np.array([0, 1], "int32"), "language": language})
    ex = completion_examples(extended, titles, users).iloc[-len(pairs) :].reset_index(drop=True)
    assert list(zip(ex["user_id"], ex["title_id"], strict=True)) == [p[:2] for p in pairs]

    u, t, _ = np.array(pairs).T
    X = completion_pair_features(_plays(history), titles, users, u, t)
    assert list(X.columns) == COMPLETION_FEATURES
    pd.testing.assert_frame_equal(
        X, ex[COMPLETION_FEATURES], check_dtype=False, check_categorical=False
    )
    first = X.iloc[1]  # member 0, T2: three starts, two stopped plays (T0 no, T2 yes)
    assert first["user_prior_plays"] == 3 and first["user_prior_completion_rate"] == 0.5
    assert first["same_title_prior_plays"] == 1 and first["rewatch"]
    assert first["title_prior_plays"] == 2 and first["title_prior_completion_rate"] == 1.0
    assert list(X["rewatch"]) == [False, True, False, False, True]
    assert list(X["same_language"]) == [True, True, True, False, False]


def test_pair_features_of_a_member_without_events(titles):
    events = _plays([(0, 0, 1, 0, "popular", 1500.0)])
    X = completion_pair_features(events, titles, None, [7, 0], [0, 0])
    assert X["user_prior_plays"].tolist() == [0, 1] and np.isnan(X["genre_match"][0])
    assert X["title_prior_plays"].tolist() == [1, 1]  # the title's history is everyone's
    assert pd.isna(X["device"][0]) and np.isnan(X["hour"][0]) and X["device"][1] == "tv"
    assert not X["same_language"].any() and not X["from_search"].any()
    with pytest.raises(ValueError, match="title_ids not in the titles table"):
        completion_pair_features(events, titles, None, [0], [9])


@pytest.fixture(scope="module")
def smoke():
    from persona_lib.sim import load_preset, simulate

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


def test_pair_features_match_the_last_play_of_members_in_the_smoke_world(smoke):
    """A member's last play, against pair features of the log cut just before it."""
    world, ex = smoke
    last = ex.drop_duplicates("user_id", keep="last").sort_values("ts").iloc[-6:]
    history = [c for c in COMPLETION_FEATURES if c.startswith(("user_", "title_", "genre",
                                                                "same_"))]  # fmt: skip
    static = ["runtime_min", "kind", "n_episodes"]
    for _, play in last.iterrows():
        before = world.events[world.events["ts"] < play["ts"]]
        X = completion_pair_features(
            before, world.titles, world.users, [play["user_id"]], [play["title_id"]]
        )
        expected = play[history + static].to_frame().T.reset_index(drop=True)
        pd.testing.assert_frame_equal(
            X[history + static], expected, check_dtype=False, check_exact=False
        )


def test_expected_completion_scores_the_pair_features(smoke):
    world, ex = smoke
    model = CompletionModel(n_estimators=50).fit(ex[COMPLETION_FEATURES], ex["completed"])
    users, titles = np.arange(0, 40, 2), np.arange(20)
    p = expected_completion(model, world.events, world.titles, world.users, users, titles)
    X = completion_pair_features(world.events, world.titles, world.users, users, titles)
    assert p.shape == (20,) and np.all((p > 0) & (p < 1))
    np.testing.assert_array_equal(p, model.predict_proba(X)[:, 1])

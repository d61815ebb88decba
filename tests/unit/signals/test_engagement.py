"""Engagement signals against hand counts on the standard log (see conftest)."""

import numpy as np
import pandas as pd

from persona_lib.signals import (
    completion_and_rewatch,
    hours_by_source,
    play_outcomes,
    session_summary,
    time_of_day_profile,
)


def test_play_outcomes_one_row_per_play(standard_events, titles):
    plays = play_outcomes(standard_events, titles).set_index(["session_id", "title_id"])
    assert len(plays) == 4
    np.testing.assert_allclose(
        plays["watch_fraction"].loc[[(10, 0), (11, 1), (11, 2), (12, 1)]],
        [5500 / 6000, 1000 / 3000, 5000 / 5400, 1.0],
    )
    assert plays["completed"].loc[[(10, 0), (11, 1), (11, 2), (12, 1)]].tolist() == [
        True, False, True, True,
    ]  # fmt: skip
    assert plays["rewatch"].sum() == 1 and plays.loc[(11, 2), "rewatch"]
    assert plays["from_search"].sum() == 1 and plays.loc[(11, 2), "from_search"]
    assert plays.loc[(11, 2), "device"] == "mobile"


def test_completion_threshold_is_inclusive(titles, ev, make_events):
    kw = dict(user=0, session=1, title=0)
    rows = [ev(0, kind="play_start", **kw), ev(1, kind="play_stop", watch=5400, **kw),
            ev(2, kind="play_start", **kw), ev(3, kind="play_stop", watch=5399, **kw),
            ev(4, kind="play_start", **kw)]  # fmt: skip
    plays = play_outcomes(make_events(rows), titles)
    assert plays["completed"].tolist() == [True, False, False]  # 0.9 x 100 min = 5400 s
    assert np.isnan(plays["watch_s"].iloc[2])  # no play_stop yet


def test_completion_and_rewatch_by_kind(standard_events, titles):
    out = completion_and_rewatch(standard_events, titles).set_index("kind")
    assert out.loc["all", ["plays", "completions", "rewatches"]].tolist() == [4, 3, 1]
    assert out.loc["movie", ["plays", "completions", "rewatches"]].tolist() == [2, 2, 1]
    assert out.loc["series", ["plays", "completions", "rewatches"]].tolist() == [2, 1, 0]
    np.testing.assert_allclose(out.loc["all", ["completion_rate", "rewatch_rate"]], [0.75, 0.25])
    np.testing.assert_allclose(out.loc["series", "mean_watch_fraction"], (1 / 3 + 1) / 2)
    np.testing.assert_allclose(
        out.loc["movie", "mean_watch_fraction"], (5500 / 6000 + 5000 / 5400) / 2
    )


def test_session_summary(standard_events):
    out = session_summary(standard_events).set_index("session_id")
    s11 = out.loc[11]
    counts = ["events", "impressions", "scroll_pasts", "searches", "plays", "rewatches"]
    assert s11[counts].tolist() == [9, 2, 1, 1, 2, 1]
    assert s11["watch_s"] == 6000 and s11["duration_s"] == 7001 and s11["device"] == "mobile"
    assert out.loc[10, ["hovers", "clicks"]].tolist() == [2, 1]
    assert out["had_play"].tolist() == [True, True, True, False]
    assert out["events"].sum() == len(standard_events)


def test_hours_by_source(standard_events):
    out = hours_by_source(standard_events).set_index("source")
    assert out["plays"].tolist() == [3, 1]
    np.testing.assert_allclose(out["hours"], [9500 / 3600, 5000 / 3600])
    np.testing.assert_allclose(out["hours_share"], [9500 / 14500, 5000 / 14500])
    np.testing.assert_allclose(out["plays_share"], [0.75, 0.25])


def test_time_of_day_profile(standard_events):
    out = time_of_day_profile(standard_events).set_index(["device", "hour"])
    assert len(out) == 5 * 24
    assert out.loc[("tv", 20), ["sessions", "plays"]].tolist() == [1, 1]
    assert out.loc[("tv", 20), "session_share"] == 0.5
    assert out.loc[("mobile", 22), ["sessions", "plays"]].tolist() == [1, 1]
    assert out.loc[("mobile", 23), ["sessions", "plays"]].tolist() == [0, 1]
    everyone = out.loc["all"]
    assert everyone["sessions"].sum() == 4 and everyone["plays"].sum() == 4
    assert everyone.loc[[1, 4, 20, 22], "sessions"].tolist() == [1, 1, 1, 1]
    assert isinstance(out.reset_index()["device"].dtype, pd.CategoricalDtype)

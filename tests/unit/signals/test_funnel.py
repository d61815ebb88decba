"""compute_funnel, funnel_steps and tile_outcomes against hand counts on the standard log."""

import numpy as np
import pandas as pd
import pytest

from persona_lib.signals import compute_funnel, funnel_steps, tile_outcomes

COUNTS = ["impressions", "hovers", "clicks", "plays", "completions", "search_plays"]
RATES = ["hover_rate", "click_rate", "play_rate", "completion_rate", "hover_to_click",
         "click_to_play"]  # fmt: skip


def test_overall_funnel_matches_hand_counts(standard_events, titles):
    row = compute_funnel(standard_events, titles=titles).iloc[0]
    assert row[COUNTS].tolist() == [9, 4, 3, 3, 2, 1]
    expected = [4 / 9, 3 / 9, 3 / 9, 2 / 3, 3 / 4, 1.0]
    np.testing.assert_allclose(row[RATES].to_numpy(dtype=float), expected)


def test_funnel_by_device(standard_events, titles):
    out = compute_funnel(standard_events, by="device", titles=titles).set_index("device")
    assert out.loc["tv", COUNTS].tolist() == [5, 2, 1, 1, 1, 0]
    assert out.loc["mobile", COUNTS].tolist() == [2, 1, 1, 1, 0, 1]
    assert out.loc["web", COUNTS].tolist() == [2, 1, 1, 1, 1, 0]
    assert out.loc["mobile", "completion_rate"] == 0.0


def test_funnel_by_col_position_attributes_plays_to_their_tile(standard_events, titles):
    out = compute_funnel(standard_events, by="col_position", titles=titles)
    out = out.set_index("col_position")
    assert out.loc[0, COUNTS].tolist() == [5, 3, 3, 3, 2, 1]
    assert out.loc[1, COUNTS].tolist() == [3, 0, 0, 0, 0, 0]
    assert out.loc[2, COUNTS].tolist() == [1, 1, 0, 0, 0, 0]
    assert out.loc[2, "hover_to_click"] == 0.0 and np.isnan(out.loc[2, "click_to_play"])


def test_funnel_by_member_language_and_two_keys(standard_events, users, titles):
    out = compute_funnel(standard_events, by="language", users=users, titles=titles)
    out = out.set_index("language")
    assert out.loc["en", COUNTS].tolist() == [6, 3, 2, 2, 2, 0]
    assert out.loc["es", COUNTS].tolist() == [3, 1, 1, 1, 0, 1]
    two = compute_funnel(standard_events, by=["device", "hour"], titles=titles)
    assert two.set_index(["device", "hour"]).loc[("tv", 20), "impressions"] == 4


def test_counts_sum_to_total_across_groups(random_events, users, titles):
    total = compute_funnel(random_events, titles=titles)[COUNTS].iloc[0]
    for by in ["device", "hour", "day", "weekday", "row_position", "col_position", "row_id"]:
        grouped = compute_funnel(random_events, by=by, titles=titles)
        assert grouped[COUNTS].sum().tolist() == total.tolist(), by


def test_rates_are_bounded_and_funnel_is_monotone(random_events, titles):
    out = compute_funnel(random_events, by=["device", "row_position"], titles=titles)
    rates = out[RATES].to_numpy(dtype=float)
    assert np.all((rates[~np.isnan(rates)] >= 0) & (rates[~np.isnan(rates)] <= 1))
    stages = out[COUNTS[:5]].to_numpy()
    assert np.all(np.diff(stages, axis=1) <= 0)


def test_repeated_tile_attributes_to_latest_impression_and_drops_orphans(ev, make_events):
    kw = dict(user=0, session=1)
    events = make_events(
        [
            ev(0, kind="hover", title=0, **kw),  # before any impression: not attributed
            ev(1, kind="impression", title=0, r=0, c=0, **kw),
            ev(2, kind="impression", title=0, row="top", r=2, c=3, **kw),
            ev(3, kind="impression", title=0, r=0, c=0, **kw),
            ev(4, kind="play_start", title=0, row="top", r=2, c=3, **kw),
            ev(5, kind="click", title=0, r=0, c=0, **kw),
        ]
    )
    tiles = tile_outcomes(events).set_index("event_id")
    assert tiles["hovered"].tolist() == [False, False, False]
    assert tiles["played"].tolist() == [False, True, False]
    assert tiles["clicked"].tolist() == [False, False, True]  # the latest (0, 0) impression
    by_row = compute_funnel(events, by="row_position").set_index("row_position")
    assert by_row.loc[2, "plays"] == 1 and by_row.loc[0, "plays"] == 0
    assert np.isnan(by_row.loc[0, "completions"])  # no titles: no completions


def test_funnel_steps_long_frame(standard_events, titles):
    steps = funnel_steps(standard_events, titles=titles)
    assert steps["stage"].tolist() == ["impression", "hover", "click", "play", "completion"]
    assert steps["count"].tolist() == [9, 4, 3, 3, 2]
    np.testing.assert_allclose(steps["rate_from_start"], [1, 4 / 9, 3 / 9, 3 / 9, 2 / 9])
    np.testing.assert_allclose(steps["rate_from_previous"], [1, 4 / 9, 3 / 4, 1, 2 / 3])
    assert len(funnel_steps(standard_events)) == 4


def test_bad_keys_raise(standard_events):
    with pytest.raises(ValueError, match="unknown funnel group keys"):
        compute_funnel(standard_events, by="planet")
    with pytest.raises(ValueError, match="needs users"):
        compute_funnel(standard_events, by="language")


def test_tile_outcomes_one_row_per_impression(random_events, titles):
    tiles = tile_outcomes(random_events, titles)
    n_impressions = int(random_events["event_type"].eq("impression").sum())
    assert len(tiles) == n_impressions and tiles["event_id"].is_unique
    assert not (tiles["completed"] & ~tiles["played"]).any()
    assert isinstance(tiles, pd.DataFrame)

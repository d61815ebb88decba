"""impression_table features (hand-checked, no leakage)."""

import numpy as np
import pandas as pd
import pytest

from persona_lib.signals import IMPRESSION_FEATURES, impression_table


@pytest.fixture
def table(standard_events, users, titles, artworks):
    return impression_table(standard_events, users, titles, artworks)


def test_one_row_per_impression_with_labels(table, standard_events):
    assert len(table) == 9 and table["event_id"].is_unique
    assert table["played"].sum() == 3 and table["hovered"].sum() == 2
    assert table["clicked"].sum() == 1  # labels are as logged, not cumulative stages
    assert set(IMPRESSION_FEATURES) <= set(table.columns)


def test_history_features_by_hand(table):
    t = table.set_index(["session_id", "title_id"])
    s10 = t.loc[10]
    assert (s10["user_past_plays"] == 0).all()
    assert s10["genre_match"].isna().all() and s10["user_mean_dwell_ms"].isna().all()
    assert t.loc[(12, 1), "user_past_plays"] == 1  # T0 in session 10
    assert t.loc[(12, 1), "genre_match"] == 0.0  # Action vs Drama|Comedy
    assert t.loc[(12, 3), "genre_match"] == 1.0  # Comedy|Family shares Comedy
    assert t.loc[(12, 1), "user_mean_dwell_ms"] == 7000 / 4
    assert t.loc[(13, 3), "user_past_plays"] == 2  # T1 and T2 in session 11
    assert t.loc[(13, 3), "user_mean_dwell_ms"] == 500 / 2


def test_context_popularity_language_and_artwork(table):
    t = table.set_index(["session_id", "title_id"])
    assert t.loc[(12, 1), "title_past_plays"] == 1  # T1 played on day 1 (s11); s12 is day 2
    assert t.loc[(11, 1), "title_past_plays"] == 0  # same day does not count
    assert t.loc[(13, 3), "title_past_plays"] == 0
    assert t["same_language"].tolist() == [True, False, True, False, True, False, False,
                                           False, False]  # fmt: skip
    assert t.loc[(10, 0), "artwork_face"] and not t.loc[(10, 1), "artwork_face"]
    assert t.loc[(10, 0), ["hour", "weekday"]].tolist() == [20, 0]
    assert t.loc[(12, 1), ["hour", "weekday"]].tolist() == [1, 1]


def _features(make_events, rows, users, titles, artworks):
    """Features keyed by the impression's identity (event ids change when rows are altered)."""
    table = impression_table(make_events(rows), users, titles, artworks)
    table["row_id"] = table["row_id"].astype("str")  # categories differ between logs
    keys = ["user_id", "session_id", "ts", "title_id", "row_id", "row_position", "col_position"]
    return table.set_index(keys, drop=False)[IMPRESSION_FEATURES].sort_index()


@pytest.mark.parametrize("cut", [0, 10000, 20000, 30000])
def test_no_leakage_altering_the_future_keeps_past_features(
    users, titles, artworks, cut, ev, make_events, standard_rows, base_ts
):
    rows = standard_rows()
    before = _features(make_events, rows, users, titles, artworks)
    altered = [r for r in rows if r["t"] <= cut]
    for r in altered:
        if r["t"] == cut:
            r["dwell_ms"] = 60000
    altered += [ev(cut, 0, 99, "play_start", 1), ev(cut, 1, 98, "play_start", 3),
                ev(cut + 1, 0, 99, "play_stop", 1, watch=9000)]  # fmt: skip
    after = _features(make_events, altered, users, titles, artworks)
    kept = before.index.get_level_values("ts") <= base_ts + pd.Timedelta(seconds=cut)
    pd.testing.assert_frame_equal(after.sort_index(), before[kept].sort_index())


def test_no_leakage_on_a_random_log(users, titles, artworks, make_events, random_rows, base_ts):
    rows = [r | {"user_id": r["user_id"] % 2} for r in random_rows(seed=3)]
    cut = float(np.median([r["t"] for r in rows]))
    before = _features(make_events, rows, users, titles, artworks)
    future = [r | {"t": r["t"] + 5, "title_id": 1} for r in rows if r["t"] > cut]
    after = _features(
        make_events, [r for r in rows if r["t"] <= cut] + future, users, titles, artworks
    )
    kept = before.index.get_level_values("ts") <= base_ts + pd.Timedelta(seconds=cut)
    kept_after = after.index.get_level_values("ts") <= base_ts + pd.Timedelta(seconds=cut)
    pd.testing.assert_frame_equal(after[kept_after].sort_index(), before[kept].sort_index())

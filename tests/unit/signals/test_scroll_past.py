"""scroll_past_signal: repeat impressions classed by the pair's history, by hand."""

import numpy as np
import pandas as pd

from persona_lib.signals import scroll_past_signal, tile_outcomes
from persona_lib.signals.scroll_past import HISTORIES, impression_history


def history_rows(ev) -> list:
    """Impressions with their expected class in comments; plays attributed as in the funnel."""
    u0, u1, u2 = dict(user=0), dict(user=1), dict(user=2)
    return [
        # member 0, title 0
        ev(0, kind="impression", session=1, title=0, **u0),  # first
        ev(1, kind="scroll_past", session=1, title=0, **u0),
        ev(100, kind="impression", session=2, title=0, **u0),  # scrolled_past
        ev(200, kind="impression", session=3, title=0, **u0),  # scrolled_past
        ev(201, kind="hover", session=3, title=0, **u0),
        ev(300, kind="impression", session=4, title=0, **u0),  # hovered (scroll, then hover)
        ev(301, kind="click", session=4, title=0, **u0),
        ev(302, kind="play_start", session=4, title=0, **u0),  # played from that impression
        ev(400, kind="impression", session=5, title=0, **u0),  # played_before
        # member 0, title 1 (column 1 of the same pages)
        ev(0, kind="impression", session=1, title=1, c=1, **u0),  # first
        ev(100, kind="impression", session=2, title=1, c=1, **u0),  # seen_only
        ev(105, kind="play_start", session=2, title=1, c=1, **u0),
        # member 1, title 0: two tiles of one page are both first; an examination at the
        # impression's own instant is not history
        ev(500, kind="impression", session=6, title=0, r=0, **u1),  # first
        ev(500, kind="impression", session=6, title=0, r=1, row="top", **u1),  # first
        ev(501, kind="scroll_past", session=6, title=0, r=0, **u1),
        ev(600, kind="impression", session=7, title=0, **u1),  # scrolled_past
        ev(600, kind="hover", session=7, title=0, **u1),
        # member 1, title 2: played from search first
        ev(700, kind="search", session=8, title=2, row="search", **u1),
        ev(701, kind="play_start", session=8, title=2, row="search", **u1),
        ev(800, kind="impression", session=9, title=2, **u1),  # first (never shown before)
        ev(900, kind="impression", session=10, title=2, **u1),  # played_before
        # member 2, title 3: shown twice without examination, played on the second showing
        ev(0, kind="impression", session=11, title=3, **u2),  # first
        ev(100, kind="impression", session=12, title=3, **u2),  # seen_only
        ev(200, kind="impression", session=13, title=3, **u2),  # seen_only
        ev(201, kind="play_start", session=13, title=3, **u2),
    ]


def test_history_classes_by_hand(ev, make_events):
    out = scroll_past_signal(make_events(history_rows(ev))).set_index("history")
    assert list(out.index) == list(HISTORIES)
    expected = {"first": (6, 0), "seen_only": (3, 2), "scrolled_past": (3, 0),
                "hovered": (1, 1), "played_before": (2, 0)}  # fmt: skip
    for name, (impressions, plays) in expected.items():
        assert out.loc[name, ["impressions", "plays"]].tolist() == [impressions, plays], name
    np.testing.assert_allclose(out.loc["seen_only", "play_rate"], 2 / 3)
    np.testing.assert_allclose(out.loc["seen_only", "play_rate_se"], np.sqrt(2 / 9 / 3))
    assert out.loc["scrolled_past", "play_rate_se"] == 0


def test_classes_partition_impressions(random_events):
    out = scroll_past_signal(random_events)
    assert out["impressions"].sum() == random_events["event_type"].eq("impression").sum()
    assert out["plays"].sum() == tile_outcomes(random_events)["played"].sum()
    assert isinstance(out["history"].dtype, pd.CategoricalDtype)
    rates = out["play_rate"].dropna()
    assert rates.between(0, 1).all()


def test_history_ignores_the_future(ev, make_events):
    rows = history_rows(ev)
    early = [r for r in rows if r["t"] < 300]
    later = scroll_past_signal(make_events(rows)).set_index("history")
    alone = scroll_past_signal(make_events(early)).set_index("history")
    # the impressions before t=300 keep their classes when later events are added
    assert alone.loc["scrolled_past", "impressions"] == 2
    assert later.loc["scrolled_past", "impressions"] == 3  # + member 1 at t=600


def test_dense_and_sorted_histories_agree(random_events, ev, make_events):
    for events in (random_events, make_events(history_rows(ev))):
        shuffled = events.sample(frac=1.0, random_state=1)
        dense = impression_history(shuffled, dense=True)
        np.testing.assert_array_equal(impression_history(shuffled, dense=False), dense)
        ids = shuffled["event_id"].to_numpy()[shuffled["event_type"].eq("impression").to_numpy()]
        by_id = dict(zip(ids, dense, strict=True))
        in_order = impression_history(events)
        expected = events.loc[events["event_type"].eq("impression"), "event_id"].map(by_id)
        np.testing.assert_array_equal(in_order, expected.to_numpy())

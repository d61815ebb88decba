"""Browsing speed per session (reverse-causal) and per member, against hand counts."""

import numpy as np
import pytest

from persona_lib.signals import (
    browsing_speed,
    member_browsing_speed,
    play_rate_by_browsing_speed,
)
from persona_lib.signals.engagement import browsing_speed as moved_browsing_speed


def test_browsing_speed_per_session(standard_events):
    out = browsing_speed(standard_events).set_index("session_id")
    assert out["impressions"].tolist() == [4, 2, 2, 1]
    np.testing.assert_allclose(out["browse_s"], [7.0, 0.5, 10.0, 6.0])
    np.testing.assert_allclose(out["mean_dwell_ms"], [1750, 250, 5000, 6000])
    assert out["had_play"].tolist() == [True, True, True, False]
    np.testing.assert_allclose(out["time_to_play_s"], [5, 1, 10, np.nan])
    assert moved_browsing_speed is browsing_speed  # still importable from its old module


def test_play_rate_by_browsing_speed_per_session(standard_events):
    out = play_rate_by_browsing_speed(standard_events, n_bins=2, level="session")
    assert out["sessions"].tolist() == [2, 2]
    np.testing.assert_allclose(out["play_rate"], [1.0, 0.5])
    np.testing.assert_allclose(out["mean_dwell_ms"], [1000, 5500])
    assert out["dwell_ms_low"].iloc[0] == 250 and out["dwell_ms_high"].iloc[-1] == 6000


def test_member_browsing_speed(standard_events):
    out = member_browsing_speed(standard_events).set_index("user_id")
    # user 0: scroll_past 100 + hover 400 + hover 0 + click 0 over 4 examined tiles (s10);
    # 6 impressions (s10, s12), plays from T0 (s10) and T1 (s12)
    # user 1: one scroll_past with dwell 0 (s11); 3 impressions, one play from a tile (s11),
    # the search play has no impression and is not counted
    assert out["examined"].tolist() == [4, 1]
    assert out["dwell_ms"].tolist() == [500, 0]
    np.testing.assert_allclose(out["mean_dwell_ms"], [125, 0])
    assert out["impressions"].tolist() == [6, 3] and out["plays"].tolist() == [2, 1]
    np.testing.assert_allclose(out["play_rate"], [1 / 3, 1 / 3])


def test_play_rate_by_member_speed(ev, make_events):
    """Three members: fast (dwell 100) plays 1 of 2, mid (500) 0 of 1, slow (900) 1 of 4."""
    rows = []
    for user, dwell, n_imp, played in [(0, 100, 2, 1), (1, 500, 1, 0), (2, 900, 4, 1)]:
        kw = dict(user=user, session=user)
        for c in range(n_imp):
            rows.append(ev(10 * user, kind="impression", title=c, c=c, **kw))
        rows.append(ev(10 * user + 1, kind="scroll_past", title=0, c=0, dwell=dwell, **kw))
        if played:
            rows.append(ev(10 * user + 2, kind="play_start", title=1, c=1, **kw))
    out = play_rate_by_browsing_speed(make_events(rows), n_bins=3)
    assert out["speed_bin"].tolist() == [0, 1, 2]
    assert out["members"].tolist() == [1, 1, 1]
    assert out["impressions"].tolist() == [2, 1, 4] and out["plays"].tolist() == [1, 0, 1]
    np.testing.assert_allclose(out["play_rate"], [0.5, 0, 0.25])
    np.testing.assert_allclose(out["member_play_rate"], [0.5, 0, 0.25])
    np.testing.assert_allclose(out["mean_dwell_ms"], [100, 500, 900])
    two = play_rate_by_browsing_speed(make_events(rows), n_bins=2)
    assert two["members"].tolist() == [2, 1]
    np.testing.assert_allclose(two["play_rate"], [1 / 3, 0.25])  # pooled over impressions
    np.testing.assert_allclose(two["member_play_rate"], [0.25, 0.25])  # mean of members
    np.testing.assert_allclose(
        two["member_play_rate_se"].iloc[0], np.std([0.5, 0], ddof=1) / 2**0.5
    )


def test_bad_level_raises(standard_events):
    with pytest.raises(ValueError, match="level must be one of"):
        play_rate_by_browsing_speed(standard_events, level="device")

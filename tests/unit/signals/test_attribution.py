"""Reusing the attribution (``tiles=``) gives identical results; the sort helpers are exact."""

import numpy as np
import pandas as pd
import pytest

from persona_lib.signals import (
    compute_funnel,
    funnel_steps,
    impression_table,
    member_browsing_speed,
    play_rate_by_browsing_speed,
    position_bias_curve,
    position_heatmap,
    scroll_past_signal,
    tile_outcomes,
)
from persona_lib.signals.attribution import stable_argsort


@pytest.fixture(params=["standard", "random"])
def log(request, standard_events, random_events):
    return standard_events if request.param == "standard" else random_events


def test_tiles_give_identical_results(log, users, titles, artworks):
    tiles = tile_outcomes(log, titles)
    calls = {
        "funnel": lambda **kw: compute_funnel(log, titles=titles, **kw),
        "funnel_by": lambda **kw: compute_funnel(
            log, by=["device", "hour", "language"], users=users, titles=titles, **kw
        ),
        "funnel_no_titles": lambda **kw: compute_funnel(log, by="row_id", **kw),
        "steps": lambda **kw: funnel_steps(log, titles, **kw),
        "curve": lambda **kw: position_bias_curve(log, axis="row_position", **kw),
        "heatmap": lambda **kw: position_heatmap(log, outcome="click", max_rows=2, **kw),
        "scroll_past": lambda **kw: scroll_past_signal(log, **kw),
        "member_speed": lambda **kw: member_browsing_speed(log, **kw),
        "speed_bins": lambda **kw: play_rate_by_browsing_speed(log, n_bins=2, **kw),
        "impressions": lambda **kw: impression_table(log, users, titles, artworks, **kw),
    }
    for name, call in calls.items():
        pd.testing.assert_frame_equal(call(), call(tiles=tiles), obj=name)


def test_mismatched_tiles_raise(standard_events, random_events, titles, users, artworks):
    with pytest.raises(ValueError, match="computed without titles"):
        compute_funnel(standard_events, titles=titles, tiles=tile_outcomes(standard_events))
    with pytest.raises(ValueError, match="threshold 0.5"):
        compute_funnel(
            standard_events, titles=titles, tiles=tile_outcomes(standard_events, titles, 0.5)
        )
    with pytest.raises(ValueError, match="tiles lacks columns"):
        position_heatmap(standard_events, tiles=pd.DataFrame({"event_id": [0]}))
    other = tile_outcomes(random_events)
    with pytest.raises(ValueError, match="tiles do not match events"):
        scroll_past_signal(standard_events, tiles=other)
    with pytest.raises(ValueError, match="tiles do not match events"):
        impression_table(standard_events, users, titles, artworks, tiles=other)


def test_attribution_does_not_depend_on_row_order(random_events, titles):
    shuffled = random_events.sample(frac=1.0, random_state=3)
    expected = tile_outcomes(random_events, titles).sort_values("event_id", ignore_index=True)
    got = tile_outcomes(shuffled, titles).sort_values("event_id", ignore_index=True)
    pd.testing.assert_frame_equal(got, expected, check_index_type=False)
    flat = scroll_past_signal(random_events)
    pd.testing.assert_frame_equal(scroll_past_signal(shuffled), flat)


def test_impression_first_at_equal_ts(ev, make_events):
    """An outcome logged before its impression at the same instant still counts."""
    kw = dict(user=0, session=1, title=0)
    events = make_events([ev(0, kind="hover", **kw), ev(0, kind="impression", **kw)])
    assert tile_outcomes(events)["hovered"].tolist() == [True]


@pytest.mark.parametrize("high", [2, 2**16 + 5, 2**32 + 7])
def test_stable_argsort_matches_numpy(high):
    rng = np.random.default_rng(high)
    key = rng.integers(0, high, 5000)
    np.testing.assert_array_equal(stable_argsort(key), np.argsort(key, kind="stable"))
    key = key - high // 2  # negative keys take numpy's own stable sort
    np.testing.assert_array_equal(stable_argsort(key), np.argsort(key, kind="stable"))

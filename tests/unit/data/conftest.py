"""Shared by the data tests: a tiny raw world, as the `raw_world` fixture."""

from collections.abc import Callable

import pandas as pd
import pytest

from persona_lib.data.schema import NO_ARTWORK


def make_raw_world() -> dict[str, pd.DataFrame]:
    """A tiny consistent world, every cell a string as a CSV reader would give it."""
    titles = pd.DataFrame(
        {
            "title_id": ["0", "1", "2"],
            "name": ["Night Shift", "NA", "Blue Coast"],
            "kind": ["movie", "series", "movie"],
            "genres": ["Drama|Thriller", "Comedy", "Documentary"],
            "language": ["en", "es", "fr"],
            "release_year": ["2019", "2021", "2008"],
            "runtime_min": ["104", "42", "88"],
            "n_episodes": ["1", "16", "1"],
            "maturity": ["16+", "13+", "all"],
            "synopsis": ["A nurse.", "Two cooks.", "The sea."],
        }
    )
    artworks = pd.DataFrame(
        {"artwork_id": ["0", "1", "2"], "title_id": ["0", "0", "1"]}
        | {a: ["true", "FALSE", "1"] for a in ("face", "smile", "dark_tone", "action")}
        | {a: ["0", "0", "False"] for a in ("romance", "ensemble", "text")}
    )
    users = pd.DataFrame(
        {
            "user_id": ["0", "1"],
            "signup_ts": ["2023-05-01 08:00:00", "2023-11-20T21:30:00"],
            "country": ["US", "BR"],
            "language": ["en", "pt"],
            "plan": ["basic", "premium"],
            "price": ["9.99", "22.99"],
            "preferred_device": ["tv", "mobile"],
        }
    )
    events = pd.DataFrame(
        {
            "event_id": ["0", "1", "2", "3"],
            "ts": [f"2024-01-01 10:0{i}:00" for i in range(4)],
            "user_id": ["0", "0", "1", "1"],
            "session_id": ["0", "0", "1", "1"],
            "device": ["tv", "tv", "mobile", "mobile"],
            "event_type": ["impression", "play_start", "impression", "play_stop"],
            "title_id": ["0", "0", "1", "2"],
            "artwork_id": ["0", "1", "2", str(NO_ARTWORK)],
            "row_id": ["popular", "popular", "search", "genre:Drama"],
            "row_position": ["0", "0", "2", "1"],
            "col_position": ["3", "3", "0", "5"],
            "dwell_ms": ["1200", "0", "65535", "800"],
            "watch_s": [None, None, None, "1834.5"],
        }
    )
    billing = pd.DataFrame(
        {
            "user_id": ["0", "1"],
            "period_start": ["2024-01-01", "2024-01-01"],
            "plan": ["basic", "premium"],
            "price": ["9.99", "22.99"],
            "status": ["renewed", "new"],
        }
    )
    notifications = pd.DataFrame(
        {
            "user_id": ["0", "1"],
            "ts": ["2024-01-02 18:00:00", "2024-01-02 18:00:00"],
            "hour": ["18", "18"],
            "opened": ["true", "false"],
        }
    )
    return {
        "titles": titles,
        "artworks": artworks,
        "users": users,
        "events": events,
        "billing": billing,
        "notifications": notifications,
    }


@pytest.fixture
def raw_world() -> Callable[[], dict[str, pd.DataFrame]]:
    """`make_raw_world` itself: each call builds fresh frames that a test may change."""
    return make_raw_world

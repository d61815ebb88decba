"""Tiny schema-typed tables for the signals tests, and a factory for hand-written event logs.

The ``standard_events`` log (times in seconds after Monday 2024-01-01 20:00, dwell on tiles):

session 10, user 0, tv      T0..T2 on row "popular" (0,0..2), T3 on "genre:Drama" (1,0);
                            scroll past T1; hover T0, T2; click T0; play T0 (5500 s, completed)
session 11, user 1, mobile  T1 (0,0), T0 (0,1); play T1 straight from the tile (1000 s);
                            scroll past T0; search -> play T2 from "search" (rewatch, 5000 s)
session 12, user 0, web     T1 (0,0), T3 (0,1) on the next day; play T1 (3000 s, completed)
session 13, user 1, tv      T3 (0,0); no play
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_lib.data.schema import ARTWORK_ATTRIBUTES, DEVICES, EVENT_TYPES, KINDS, LANGUAGES

BASE = pd.Timestamp("2024-01-01 20:00:00")


def ev(t, user, session, kind, title, row="popular", r=0, c=0, dwell=0, watch=None,
       device="tv", artwork=-1):  # fmt: skip
    """One event as a dict; ``t`` in seconds after ``BASE``."""
    return dict(t=t, user_id=user, session_id=session, event_type=kind, title_id=title,
                row_id=row, row_position=r, col_position=c, dwell_ms=dwell, watch_s=watch,
                device=device, artwork_id=artwork)  # fmt: skip


def make_events(rows: list[dict]) -> pd.DataFrame:
    """Schema-typed events from ``ev`` dicts, sorted by time, ``event_id`` in that order."""
    raw = pd.DataFrame(rows).sort_values("t", kind="stable", ignore_index=True)
    rows_ids = sorted(set(raw["row_id"]) | {"search"})
    return pd.DataFrame(
        {
            "event_id": np.arange(len(raw), dtype="int32"),
            "ts": (BASE + pd.to_timedelta(raw["t"], unit="s")).astype("datetime64[ms]"),
            "user_id": raw["user_id"].astype("int32"),
            "session_id": raw["session_id"].astype("int32"),
            "device": pd.Categorical(raw["device"], categories=DEVICES),
            "event_type": pd.Categorical(raw["event_type"], categories=EVENT_TYPES),
            "title_id": raw["title_id"].astype("int32"),
            "artwork_id": raw["artwork_id"].astype("int32"),
            "row_id": pd.Categorical(raw["row_id"], categories=rows_ids),
            "row_position": raw["row_position"].astype("int8"),
            "col_position": raw["col_position"].astype("int8"),
            "dwell_ms": raw["dwell_ms"].astype("uint16"),
            "watch_s": raw["watch_s"].astype("float32"),
        }
    )


def standard_rows() -> list[dict]:
    s10 = dict(user=0, session=10, device="tv")
    s11 = dict(user=1, session=11, device="mobile")
    s12 = dict(user=0, session=12, device="web")
    return [
        ev(0, kind="impression", title=0, r=0, c=0, dwell=1000, artwork=0, **s10),
        ev(0, kind="impression", title=1, r=0, c=1, dwell=2000, **s10),
        ev(0, kind="impression", title=2, r=0, c=2, dwell=3000, **s10),
        ev(0, kind="impression", title=3, row="genre:Drama", r=1, c=0, dwell=500, **s10),
        ev(1, kind="scroll_past", title=1, r=0, c=1, dwell=100, **s10),
        ev(2, kind="hover", title=0, r=0, c=0, dwell=400, **s10),
        ev(2, kind="hover", title=2, r=0, c=2, **s10),
        ev(3, kind="click", title=0, r=0, c=0, **s10),
        ev(5, kind="play_start", title=0, r=0, c=0, **s10),
        ev(5505, kind="play_stop", title=0, r=0, c=0, watch=5500, **s10),
        ev(10000, kind="impression", title=1, r=0, c=0, dwell=200, **s11),
        ev(10000, kind="impression", title=0, r=0, c=1, dwell=300, **s11),
        ev(10000.5, kind="scroll_past", title=0, r=0, c=1, **s11),
        ev(10001, kind="play_start", title=1, r=0, c=0, **s11),
        ev(11001, kind="play_stop", title=1, r=0, c=0, watch=1000, **s11),
        ev(12000, kind="search", title=2, row="search", **s11),
        ev(12001, kind="play_start", title=2, row="search", **s11),
        ev(12001, kind="rewatch", title=2, row="search", **s11),
        ev(17001, kind="play_stop", title=2, row="search", watch=5000, **s11),
        ev(20000, kind="impression", title=1, r=0, c=0, dwell=5000, **s12),
        ev(20000, kind="impression", title=3, r=0, c=1, dwell=5000, **s12),
        ev(20010, kind="play_start", title=1, r=0, c=0, **s12),
        ev(23010, kind="play_stop", title=1, r=0, c=0, watch=3000, **s12),
        ev(30000, 1, 13, "impression", 3, dwell=6000, device="tv"),
    ]


@pytest.fixture
def standard_events() -> pd.DataFrame:
    return make_events(standard_rows())


@pytest.fixture
def titles() -> pd.DataFrame:
    """T0 movie 100 min en, T1 series 50 min es, T2 movie 90 min en, T3 series 30 min fr."""
    return pd.DataFrame(
        {
            "title_id": np.arange(4, dtype="int32"),
            "name": pd.array(["T0", "T1", "T2", "T3"], dtype="str"),
            "kind": pd.Categorical(["movie", "series", "movie", "series"], categories=KINDS),
            "genres": pd.array(["Drama|Comedy", "Action", "Drama", "Comedy|Family"], dtype="str"),
            "language": pd.Categorical(["en", "es", "en", "fr"], categories=LANGUAGES),
            "release_year": np.array([2020, 2021, 2019, 2022], dtype="int16"),
            "runtime_min": np.array([100, 50, 90, 30], dtype="int16"),
            "n_episodes": np.array([1, 10, 1, 8], dtype="int16"),
        }
    )


@pytest.fixture
def users() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": np.arange(2, dtype="int32"),
            "language": pd.Categorical(["en", "es"], categories=LANGUAGES),
            "preferred_device": pd.Categorical(["tv", "mobile"], categories=DEVICES),
        }
    )


@pytest.fixture
def artworks() -> pd.DataFrame:
    """Artwork 0 (of T0) shows a face; artwork 1 (of T1) is dark."""
    frame = pd.DataFrame({"artwork_id": np.arange(2, dtype="int32"),
                          "title_id": np.arange(2, dtype="int32")})  # fmt: skip
    for a in ARTWORK_ATTRIBUTES:
        frame[a] = np.array([a == "face", a == "dark_tone"])
    return frame


def random_rows(seed: int, n_sessions: int = 80, n_users: int = 6, n_titles: int = 4) -> list:
    """A random log that follows the event semantics, for invariants (not hand counts)."""
    rng = np.random.default_rng(seed)
    rows, t = [], 0.0
    for session in range(n_sessions):
        user = int(rng.integers(n_users))
        device = str(rng.choice(DEVICES))
        kw = dict(user=user, session=session, device=device)
        t += float(rng.integers(600, 40_000))
        for r in range(3):
            for c in range(4):
                title = int(rng.integers(n_titles))
                tile = dict(title=title, row=f"row{r}", r=r, c=c, **kw)
                rows.append(ev(t, kind="impression", dwell=int(rng.integers(0, 3000)), **tile))
                u = rng.random()
                if u < 0.3:
                    rows.append(ev(t + 1, kind="scroll_past", **tile))
                elif u < 0.6:
                    rows.append(ev(t + 1, kind="hover", dwell=int(rng.integers(0, 900)), **tile))
                    if rng.random() < 0.5:
                        rows.append(ev(t + 2, kind="click", **tile))
                    if rng.random() < 0.5:
                        rows += _play(rng, t + 3, tile)
                elif u < 0.65:
                    rows += _play(rng, t + 3, tile)
        if rng.random() < 0.3:
            tile = dict(title=int(rng.integers(n_titles)), row="search", **kw)
            rows += [ev(t + 4, kind="search", **tile), *_play(rng, t + 5, tile)]
    return rows


def _play(rng, t, tile) -> list:
    rows = [ev(t, kind="play_start", **tile)]
    if rng.random() < 0.2:
        rows.append(ev(t, kind="rewatch", **tile))
    return rows + [ev(t + 1, kind="play_stop", watch=float(rng.uniform(0, 7000)), **tile)]


@pytest.fixture
def random_events() -> pd.DataFrame:
    return make_events(random_rows(seed=7))


# The helpers as fixtures: under --import-mode=importlib a test module cannot import conftest.
@pytest.fixture(name="ev")
def ev_fixture():
    return ev


@pytest.fixture(name="make_events")
def make_events_fixture():
    return make_events


@pytest.fixture(name="standard_rows")
def standard_rows_fixture():
    return standard_rows


@pytest.fixture(name="random_rows")
def random_rows_fixture():
    return random_rows


@pytest.fixture
def base_ts() -> pd.Timestamp:
    return BASE

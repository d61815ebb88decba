"""Engagement signals from event logs: plays, completion, rewatch, sources and sessions.

A *play* is one ``play_start`` event. It is closed by a ``play_stop`` of the same session and
title (the k-th stop closes the k-th start), which carries ``watch_s``; a play without a stop
has ``watch_s`` NaN. A play is a *rewatch* when a ``rewatch`` event was logged beside it (the
``play_start`` of the same session and title nearest in time). A play comes *from search* when
its ``row_id`` is ``"search"``. A play is *completed* when
``watch_s >= threshold * runtime_min * 60`` (``runtime_min``: the movie's or one episode's).
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd

from persona_lib.data.schema import DEVICES

SEARCH_ROW = "search"
BROWSE_EVENTS = ("impression", "hover", "click", "scroll_past")
COMPLETION_THRESHOLD = 0.9
PLAY_KEYS = ["session_id", "title_id"]
PLAY_COLUMNS = [
    "event_id", "user_id", "session_id", "title_id", "ts", "device", "row_id",
    "row_position", "col_position", "artwork_id", "watch_s", "rewatch", "from_search",
]  # fmt: skip


# moved to their own modules; still importable from here
_MOVED = {
    "scroll_past_signal": "persona_lib.signals.scroll_past",
    "browsing_speed": "persona_lib.signals.browsing",
    "play_rate_by_browsing_speed": "persona_lib.signals.browsing",
}


def __getattr__(name: str):
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ratio(num, den) -> np.ndarray:
    """Elementwise ``num / den`` as float64, NaN where ``den == 0``."""
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def _rank_within_pair(events: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Per row: its 0-based rank by (ts, event_id) among ``rows`` of the same session and title."""
    cols = [events[c].to_numpy()[rows] for c in ["event_id", "ts", "title_id", "session_id"]]
    order = np.lexsort(cols)
    session, title = cols[3][order], cols[2][order]
    idx = np.arange(len(rows))
    start = np.ones(len(rows), dtype=bool)
    start[1:] = (session[1:] != session[:-1]) | (title[1:] != title[:-1])
    group_start = np.maximum.accumulate(np.where(start, idx, 0)) if len(idx) else idx
    rank = np.empty(len(rows), dtype="int64")
    rank[order] = idx - group_start
    return rank


def start_watch_s(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the ``play_start`` events in ``events`` and the ``watch_s`` closing each.

    The k-th start of a (session, title), by ``ts`` then ``event_id``, is closed by the k-th
    ``play_stop``; a start without its stop gets NaN.
    """
    codes = events["event_type"].cat.codes.to_numpy()
    names = list(events["event_type"].cat.categories)
    found = {n: np.flatnonzero(codes == names.index(n)) if n in names else np.zeros(0, "int64")
             for n in ("play_start", "play_stop")}  # fmt: skip
    frames = {}
    for name, rows in found.items():
        frames[name] = pd.DataFrame(
            {
                "session_id": events["session_id"].to_numpy()[rows],
                "title_id": events["title_id"].to_numpy()[rows],
                "k": _rank_within_pair(events, rows),
            }
        )
    stops = frames["play_stop"].assign(watch_s=events["watch_s"].to_numpy()[found["play_stop"]])
    paired = frames["play_start"].merge(stops, on=[*PLAY_KEYS, "k"], how="left")
    return found["play_start"], paired["watch_s"].to_numpy(dtype="float64")


def pair_plays(events: pd.DataFrame) -> pd.DataFrame:
    """One row per ``play_start`` with its ``watch_s``, rewatch and search flags (no titles needed).

    Returns
    -------
    DataFrame
        Columns ``PLAY_COLUMNS``, sorted by ``ts`` then ``event_id``.
    """
    et = events["event_type"]
    rows, watch = start_watch_s(events)
    plays = events.iloc[rows].drop(columns="watch_s").reset_index(drop=True)
    plays["watch_s"] = watch.astype(events["watch_s"].dtype)
    rewatch = events.loc[et.eq("rewatch"), ["ts", *PLAY_KEYS]].sort_values("ts", kind="stable")
    plays["rewatch"] = False
    if len(rewatch) and len(plays):
        right = plays[["ts", *PLAY_KEYS, "event_id"]].sort_values("ts", kind="stable")
        hit = pd.merge_asof(rewatch, right, on="ts", by=PLAY_KEYS, direction="nearest")
        plays["rewatch"] = plays["event_id"].isin(hit["event_id"].dropna())
    plays["from_search"] = plays["row_id"].eq(SEARCH_ROW).to_numpy(dtype=bool)
    plays = plays.sort_values(["ts", "event_id"], kind="stable", ignore_index=True)
    return plays[PLAY_COLUMNS]


def play_outcomes(
    events: pd.DataFrame, titles: pd.DataFrame, threshold: float = COMPLETION_THRESHOLD
) -> pd.DataFrame:
    """One row per play with its watch fraction, completion, rewatch and search flags.

    ``watch_fraction = min(watch_s / (runtime_min * 60), 1)`` (NaN without a ``play_stop``);
    ``completed = watch_s >= threshold * runtime_min * 60``.

    Parameters
    ----------
    events : DataFrame
        Canonical events table.
    titles : DataFrame
        Canonical titles table (``title_id``, ``runtime_min``).
    threshold : float
        Share of the runtime a play must reach to count as completed.

    Returns
    -------
    DataFrame
        ``PLAY_COLUMNS`` plus ``watch_fraction`` and ``completed``, one row per ``play_start``.

    Examples
    --------
    >>> play_outcomes(events, titles)["completed"].mean()  # doctest: +SKIP
    """
    plays = pair_plays(events)
    runtime_s = plays["title_id"].map(titles.set_index("title_id")["runtime_min"]) * 60.0
    watch = plays["watch_s"].astype("float64")
    plays["watch_fraction"] = (watch / runtime_s.astype("float64")).clip(upper=1.0)
    plays["completed"] = (watch >= threshold * runtime_s).to_numpy(dtype=bool)
    return plays


def completion_and_rewatch(
    events: pd.DataFrame, titles: pd.DataFrame, threshold: float = COMPLETION_THRESHOLD
) -> pd.DataFrame:
    """Completion and rewatch rates per title kind and overall.

    ``completion_rate = completed plays / plays``; ``rewatch_rate = rewatch plays / plays``;
    ``mean_watch_fraction`` is the mean of ``watch_fraction`` over plays with a ``play_stop``.

    Returns
    -------
    DataFrame
        ``kind`` ("movie", "series", "all"), ``plays``, ``completions``, ``rewatches``,
        ``completion_rate``, ``rewatch_rate``, ``mean_watch_fraction``.
    """
    plays = play_outcomes(events, titles, threshold)
    kind = plays["title_id"].map(titles.set_index("title_id")["kind"]).astype("str")
    both = pd.concat([plays.assign(kind=kind), plays.assign(kind="all")], ignore_index=True)
    out = both.groupby("kind", sort=False).agg(
        plays=("completed", "size"),
        completions=("completed", "sum"),
        rewatches=("rewatch", "sum"),
        mean_watch_fraction=("watch_fraction", "mean"),
    )
    out["completion_rate"] = ratio(out["completions"], out["plays"])
    out["rewatch_rate"] = ratio(out["rewatches"], out["plays"])
    cols = ["plays", "completions", "rewatches", "completion_rate", "rewatch_rate"]
    return out[[*cols, "mean_watch_fraction"]].sort_index().reset_index()


def session_summary(events: pd.DataFrame) -> pd.DataFrame:
    """One row per session: who, when, how long, event counts and time watched.

    Returns
    -------
    DataFrame
        ``session_id``, ``user_id``, ``device``, ``start``, ``end``, ``duration_s``,
        ``events``, ``impressions``, ``hovers``, ``clicks``, ``scroll_pasts``, ``searches``,
        ``plays``, ``rewatches``, ``watch_s`` (sum over ``play_stop``), ``had_play``.
    """
    names = {
        "impression": "impressions", "hover": "hovers", "click": "clicks",
        "scroll_past": "scroll_pasts", "search": "searches", "play_start": "plays",
        "rewatch": "rewatches",
    }  # fmt: skip
    base = events.groupby("session_id").agg(
        user_id=("user_id", "first"),
        device=("device", "first"),
        start=("ts", "min"),
        end=("ts", "max"),
        events=("event_id", "size"),
        watch_s=("watch_s", "sum"),
    )
    counts = events.groupby(["session_id", "event_type"], observed=True).size()
    counts = counts.unstack(fill_value=0).reindex(columns=list(names), fill_value=0)
    out = base.join(counts.rename(columns=names), how="left")
    out[list(names.values())] = out[list(names.values())].fillna(0).astype("int64")
    out["duration_s"] = (out["end"] - out["start"]).dt.total_seconds()
    out["had_play"] = out["plays"] > 0
    cols = ["user_id", "device", "start", "end", "duration_s", "events", *names.values()]
    return out[[*cols, "watch_s", "had_play"]].reset_index()


def hours_by_source(events: pd.DataFrame) -> pd.DataFrame:
    """Plays and hours watched from recommendation rows versus search.

    ``hours = sum(watch_s) / 3600`` over plays of the source; shares are of the total.

    Returns
    -------
    DataFrame
        ``source`` ("recommendation", "search"), ``plays``, ``hours``, ``plays_share``,
        ``hours_share``.
    """
    plays = pair_plays(events)
    frame = pd.DataFrame(
        {
            "source": np.where(plays["from_search"], "search", "recommendation"),
            "hours": plays["watch_s"].fillna(0).astype("float64") / 3600.0,
        }
    )
    out = frame.groupby("source").agg(plays=("hours", "size"), hours=("hours", "sum"))
    out = out.reindex(["recommendation", "search"], fill_value=0)
    out["plays_share"] = ratio(out["plays"], out["plays"].sum())
    out["hours_share"] = ratio(out["hours"], out["hours"].sum())
    return out.rename_axis("source").reset_index()


def time_of_day_profile(events: pd.DataFrame) -> pd.DataFrame:
    """Sessions (by start hour) and plays (by ``play_start`` hour) per device and overall.

    ``session_share`` is the hour's share of the device's sessions; ``plays_per_session`` is
    plays / sessions in the hour (NaN without sessions).

    Returns
    -------
    DataFrame
        ``device`` (the schema's devices plus "all"), ``hour`` (0-23), ``sessions``,
        ``plays``, ``session_share``, ``plays_per_session``; 24 rows per device.
    """
    devices = list(events["device"].cat.categories)
    starts = events.groupby("session_id").agg(ts=("ts", "min"), device=("device", "first"))
    plays = events.loc[events["event_type"].eq("play_start"), ["ts", "device"]]
    sessions = _hour_counts(starts, len(devices))
    play_counts = _hour_counts(plays, len(devices))
    labels = [*devices, "all"]
    out = pd.DataFrame(
        {
            "device": pd.Categorical(np.repeat(labels, 24), categories=labels),
            "hour": np.tile(np.arange(24, dtype="int8"), len(labels)),
            "sessions": sessions.ravel(),
            "plays": play_counts.ravel(),
        }
    )
    per_device = out.groupby("device", observed=True)["sessions"].transform("sum")
    out["session_share"] = ratio(out["sessions"], per_device)
    out["plays_per_session"] = ratio(out["plays"], out["sessions"])
    return out


def _hour_counts(frame: pd.DataFrame, n_devices: int) -> np.ndarray:
    """Counts per (device, hour) as an (n_devices + 1, 24) array; the last row sums devices."""
    codes = frame["device"].cat.codes.to_numpy().astype("int64")
    hours = frame["ts"].dt.hour.to_numpy().astype("int64")
    keep = codes >= 0
    flat = np.bincount(codes[keep] * 24 + hours[keep], minlength=n_devices * 24)
    grid = flat.reshape(n_devices, 24)
    return np.vstack([grid, grid.sum(axis=0)])


def last_session(events: pd.DataFrame, n_users: int) -> dict[str, np.ndarray]:
    """Device code (`schema.DEVICES` order) and start hour of each member's most recent session.

    Members ``0..n_users-1``; -1 for a member without events. The last session is the one of the
    member's last event (by ``ts``, then ``event_id``); its hour is that session's first event's.
    """
    device = np.full(n_users, -1, dtype=np.int64)
    hour = np.full(n_users, -1, dtype=np.int64)
    if events.empty:
        return dict(device=device, hour=hour)
    last = events.sort_values(["ts", "event_id"]).drop_duplicates("user_id", keep="last")
    sessions = events[events["session_id"].isin(last["session_id"])]
    start = sessions.groupby("session_id", observed=True)["ts"].min()
    users = last["user_id"].to_numpy(np.int64)
    device[users] = last["device"].astype(pd.CategoricalDtype(list(DEVICES))).cat.codes.to_numpy()
    hour[users] = start.loc[last["session_id"]].dt.hour.to_numpy()
    return dict(device=device, hour=hour)

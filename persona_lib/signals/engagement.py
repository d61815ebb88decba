"""Engagement signals from event logs: plays, completion, rewatch, browsing speed and sessions.

A *play* is one ``play_start`` event. It is closed by a ``play_stop`` of the same session and
title (the k-th stop closes the k-th start), which carries ``watch_s``; a play without a stop
has ``watch_s`` NaN. A play is a *rewatch* when a ``rewatch`` event was logged beside it (the
``play_start`` of the same session and title nearest in time). A play comes *from search* when
its ``row_id`` is ``"search"``. A play is *completed* when
``watch_s >= threshold * runtime_min * 60`` (``runtime_min``: the movie's or one episode's).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEARCH_ROW = "search"
BROWSE_EVENTS = ("impression", "hover", "click", "scroll_past")
COMPLETION_THRESHOLD = 0.9
PLAY_KEYS = ["session_id", "title_id"]
PLAY_COLUMNS = [
    "event_id", "user_id", "session_id", "title_id", "ts", "device", "row_id",
    "row_position", "col_position", "artwork_id", "watch_s", "rewatch", "from_search",
]  # fmt: skip


def ratio(num, den) -> np.ndarray:
    """Elementwise ``num / den`` as float64, NaN where ``den == 0``."""
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort by session, title and time and number the rows within each (session, title)."""
    frame = frame.sort_values([*PLAY_KEYS, "ts", "event_id"], kind="stable")
    return frame.assign(k=frame.groupby(PLAY_KEYS, sort=False).cumcount())


def pair_plays(events: pd.DataFrame) -> pd.DataFrame:
    """One row per ``play_start`` with its ``watch_s``, rewatch and search flags (no titles needed).

    Returns
    -------
    DataFrame
        Columns ``PLAY_COLUMNS``, sorted by ``ts`` then ``event_id``.
    """
    et = events["event_type"]
    starts = _ranked(events.loc[et.eq("play_start")].drop(columns="watch_s"))
    stops = _ranked(events.loc[et.eq("play_stop"), [*PLAY_KEYS, "ts", "event_id", "watch_s"]])
    plays = starts.merge(stops[[*PLAY_KEYS, "k", "watch_s"]], on=[*PLAY_KEYS, "k"], how="left")
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


def scroll_past_signal(events: pd.DataFrame) -> pd.DataFrame:
    """Play rate of (user, title) pairs after a scroll-past versus after a plain impression.

    A pair is *scrolled past* when the member logged ``scroll_past`` on the title; its reference
    time is the first ``scroll_past`` and ``played_later`` means a ``play_start`` strictly after
    it. Other pairs (impressed, never scrolled past) use their first impression and count plays
    at or after it. ``play_rate = played_later / pairs``; a lower rate for scrolled-past pairs
    is the negative signal.

    Returns
    -------
    DataFrame
        ``scrolled_past`` (bool), ``pairs``, ``played_later``, ``play_rate``.
    """
    pair = ["user_id", "title_id"]
    et = events["event_type"]

    def first_or_last(kind: str, how: str) -> pd.Series:
        return events.loc[et.eq(kind), [*pair, "ts"]].groupby(pair)["ts"].agg(how)

    pairs = pd.concat(
        {
            "seen": first_or_last("impression", "min"),
            "scroll": first_or_last("scroll_past", "min"),
            "last_play": first_or_last("play_start", "max"),
        },
        axis=1,
    )
    pairs = pairs[pairs["seen"].notna() | pairs["scroll"].notna()]
    scrolled = pairs["scroll"].notna().to_numpy()
    ref = pairs["scroll"].fillna(pairs["seen"])
    later = np.where(scrolled, pairs["last_play"] > ref, pairs["last_play"] >= ref)
    frame = pd.DataFrame({"scrolled_past": scrolled, "played": later})
    out = frame.groupby("scrolled_past").agg(
        pairs=("played", "size"), played_later=("played", "sum")
    )
    out = out.reindex([False, True], fill_value=0)
    out["play_rate"] = ratio(out["played_later"], out["pairs"])
    return out.reset_index()


def browsing_speed(events: pd.DataFrame) -> pd.DataFrame:
    """Per session: impressions, browse seconds, mean dwell per impression and play outcome.

    ``browse_s`` is ``dwell_ms`` summed over the session's browsing events (impression, hover,
    click, scroll_past) / 1000, so focus time counts whichever event carries it;
    ``mean_dwell_ms = 1000 * browse_s / impressions`` (NaN without impressions);
    ``time_to_play_s`` runs from the session's first event to its first ``play_start``.

    Returns
    -------
    DataFrame
        ``session_id``, ``user_id``, ``device``, ``impressions``, ``browse_s``,
        ``mean_dwell_ms``, ``had_play``, ``time_to_play_s``; one row per session.
    """
    et = events["event_type"]
    play = et.eq("play_start")
    frame = pd.DataFrame(
        {
            "session_id": events["session_id"],
            "user_id": events["user_id"],
            "device": events["device"],
            "ts": events["ts"],
            "impression": et.eq("impression"),
            "dwell": events["dwell_ms"].astype("int64").where(et.isin(BROWSE_EVENTS), 0),
            "play": play,
            "play_ts": events["ts"].where(play),
        }
    )
    out = frame.groupby("session_id").agg(
        user_id=("user_id", "first"),
        device=("device", "first"),
        impressions=("impression", "sum"),
        dwell=("dwell", "sum"),
        had_play=("play", "any"),
        start=("ts", "min"),
        first_play=("play_ts", "min"),
    )
    out["browse_s"] = out["dwell"] / 1000.0
    out["mean_dwell_ms"] = ratio(out["dwell"], out["impressions"])
    out["time_to_play_s"] = (out["first_play"] - out["start"]).dt.total_seconds()
    cols = ["user_id", "device", "impressions", "browse_s", "mean_dwell_ms", "had_play"]
    return out[[*cols, "time_to_play_s"]].reset_index()


def play_rate_by_browsing_speed(events: pd.DataFrame, n_bins: int = 5) -> pd.DataFrame:
    """Share of sessions with a play, by quantile bin of mean dwell per impression.

    Sessions with impressions are cut into ``n_bins`` equal-count bins of ``mean_dwell_ms``
    (fewer when values tie); bin 0 holds the fastest browsers. ``play_rate`` = sessions with a
    ``play_start`` / sessions in the bin.

    Returns
    -------
    DataFrame
        ``speed_bin``, ``dwell_ms_low``, ``dwell_ms_high``, ``sessions``, ``mean_dwell_ms``,
        ``play_rate``.
    """
    speed = browsing_speed(events)
    speed = speed[speed["impressions"] > 0]
    bins, edges = pd.qcut(
        speed["mean_dwell_ms"], q=n_bins, labels=False, retbins=True, duplicates="drop"
    )
    out = speed.groupby(bins.rename("speed_bin")).agg(
        sessions=("had_play", "size"),
        mean_dwell_ms=("mean_dwell_ms", "mean"),
        play_rate=("had_play", "mean"),
    )
    out.index = out.index.astype("int64")
    out.insert(0, "dwell_ms_low", edges[out.index])
    out.insert(1, "dwell_ms_high", edges[out.index + 1])
    return out.reset_index()


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

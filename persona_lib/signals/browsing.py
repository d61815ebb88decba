"""Browsing speed: how long members dwell on the tiles they examine, and how often they play.

Per session, speed and play are tied the wrong way round: a session that ends in an early play
stops browsing early and so has few, short dwells (a play ends the homepage browse). Speed is
therefore measured per *member*, over all their sessions: ``mean_dwell_ms`` is the mean
``dwell_ms`` per examined tile (``hover``, ``scroll_past`` and ``click`` events of homepage
tiles; every examined tile logs exactly one of them), and ``play_rate`` is plays per impression
with the funnel's attribution (`persona_lib.signals.attribution`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.signals.attribution import category_code, event_code, resolve_tiles
from persona_lib.signals.engagement import BROWSE_EVENTS, SEARCH_ROW, ratio

EXAMINE_EVENTS = ("hover", "scroll_past", "click")
LEVELS = ("member", "session")


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


def member_browsing_speed(
    events: pd.DataFrame, *, tiles: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per member: mean dwell per examined tile and plays per impression, over all sessions.

    ``mean_dwell_ms = dwell_ms / examined`` summed over the member's ``hover``, ``scroll_past``
    and ``click`` events on homepage tiles (NaN without any); ``play_rate = plays /
    impressions`` with plays attributed to impressions as in the funnel (NaN without
    impressions).

    Parameters
    ----------
    events : DataFrame
        Canonical events table.
    tiles : DataFrame, optional
        ``tile_outcomes(events)``, to reuse the attribution.

    Returns
    -------
    DataFrame
        ``user_id``, ``impressions``, ``plays``, ``play_rate``, ``examined``, ``dwell_ms``,
        ``mean_dwell_ms``; one row per member with an impression or an examined tile, by id.

    Examples
    --------
    >>> member_browsing_speed(events).plot.scatter("mean_dwell_ms", "play_rate")  # doctest: +SKIP
    """
    tiles = resolve_tiles(events, tiles)
    codes = events["event_type"].cat.codes.to_numpy()
    examined = np.isin(codes, [event_code(events["event_type"], n) for n in EXAMINE_EVENTS])
    examined &= events["row_id"].cat.codes.to_numpy() != category_code(events["row_id"], SEARCH_ROW)
    user = events["user_id"].to_numpy()[examined].astype("int64")
    tile_user = tiles["user_id"].to_numpy().astype("int64")
    n = int(max(user.max(initial=-1), tile_user.max(initial=-1))) + 1
    dwell = events["dwell_ms"].to_numpy()[examined].astype("float64")
    counts = {
        "impressions": np.bincount(tile_user, minlength=n),
        "plays": np.bincount(tile_user, weights=tiles["played"].to_numpy(), minlength=n),
        "examined": np.bincount(user, minlength=n),
        "dwell_ms": np.bincount(user, weights=dwell, minlength=n),
    }
    ids = np.flatnonzero((counts["impressions"] > 0) | (counts["examined"] > 0))
    out = pd.DataFrame({"user_id": ids.astype(events["user_id"].dtype)})
    for name, values in counts.items():
        out[name] = values[ids].astype("int64")
    out["play_rate"] = ratio(out["plays"], out["impressions"])
    out["mean_dwell_ms"] = ratio(out["dwell_ms"], out["examined"])
    cols = ["user_id", "impressions", "plays", "play_rate", "examined", "dwell_ms"]
    return out[[*cols, "mean_dwell_ms"]]


def play_rate_by_browsing_speed(
    events: pd.DataFrame,
    n_bins: int = 5,
    level: str = "member",
    *,
    tiles: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Play rate by quantile bin of browsing speed, per member (default) or per session.

    ``level="member"``: members with impressions and examined tiles are cut into ``n_bins``
    equal-count bins of `member_browsing_speed`'s ``mean_dwell_ms`` (fewer when values tie);
    ``play_rate = plays / impressions`` pooled over the bin's members and
    ``member_play_rate`` is the mean of the members' own rates, with ``member_play_rate_se =
    std / sqrt(members)``.

    ``level="session"`` (reverse-causal, kept for comparison): sessions with impressions are
    binned by `browsing_speed`'s ``mean_dwell_ms`` (dwell per impression) and ``play_rate`` is
    the share of sessions with a ``play_start``. A session that plays early stops browsing, so
    its dwell is low because it played, not the other way round.

    Bin 0 holds the fastest browsers.

    Parameters
    ----------
    events : DataFrame
        Canonical events table.
    n_bins : int
        Number of quantile bins.
    level : {"member", "session"}
        Unit that is binned.
    tiles : DataFrame, optional
        ``tile_outcomes(events)``, reused at the member level.

    Returns
    -------
    DataFrame
        member: ``speed_bin``, ``dwell_ms_low``, ``dwell_ms_high``, ``members``,
        ``impressions``, ``plays``, ``mean_dwell_ms``, ``play_rate``, ``member_play_rate``,
        ``member_play_rate_se``. session: ``speed_bin``, ``dwell_ms_low``, ``dwell_ms_high``,
        ``sessions``, ``mean_dwell_ms``, ``play_rate``.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}, got {level!r}")
    if level == "session":
        speed = browsing_speed(events)
        speed = speed[speed["impressions"] > 0]
        aggs = {"sessions": ("had_play", "size"), "play_rate": ("had_play", "mean")}
    else:
        speed = member_browsing_speed(events, tiles=tiles)
        speed = speed[(speed["impressions"] > 0) & (speed["examined"] > 0)]
        aggs = {
            "members": ("play_rate", "size"),
            "impressions": ("impressions", "sum"),
            "plays": ("plays", "sum"),
            "member_play_rate": ("play_rate", "mean"),
            "member_play_rate_se": ("play_rate", "sem"),
        }
    bins, edges = pd.qcut(
        speed["mean_dwell_ms"], q=n_bins, labels=False, retbins=True, duplicates="drop"
    )
    out = speed.groupby(bins.rename("speed_bin")).agg(
        **aggs, mean_dwell_ms=("mean_dwell_ms", "mean")
    )
    if level == "member":
        out["play_rate"] = ratio(out["plays"], out["impressions"])
        first = ["members", "impressions", "plays", "mean_dwell_ms", "play_rate"]
        out = out[[*first, "member_play_rate", "member_play_rate_se"]]
    else:
        out = out[["sessions", "mean_dwell_ms", "play_rate"]]
    out.index = out.index.astype("int64")
    out.insert(0, "dwell_ms_low", edges[out.index])
    out.insert(1, "dwell_ms_high", edges[out.index + 1])
    return out.reset_index()

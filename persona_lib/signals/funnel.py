"""The browse funnel: impression -> hover -> click -> play -> completion, per tile impression.

Every outcome event of a tile (``hover``, ``click``, ``scroll_past``, ``play_start``) is
attributed to the latest ``impression`` at or before it with the same session, title, row and
position, so a play is counted at the position it was started from. Plays from search
(``row_id == "search"``) have no impression: they are counted as ``search_plays`` and stay out
of every per-impression rate. Outcome events with no earlier matching impression are dropped.

Stages are cumulative: an impression reaches a stage when it reached that stage or a later one
(a play straight from the tile also counts as a hover and a click), so counts never increase
along the funnel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from persona_lib.signals.engagement import (
    COMPLETION_THRESHOLD,
    SEARCH_ROW,
    pair_plays,
    play_outcomes,
    ratio,
)

TILE_KEYS = ["session_id", "title_id", "row_id", "row_position", "col_position"]
TILE_EVENTS = ("impression", "hover", "click", "scroll_past", "play_start")
STAGES = ("impression", "hover", "click", "play", "completion")
STAGE_COUNTS = ["impressions", "hovers", "clicks", "plays", "completions"]
GROUP_KEYS = (
    "device", "hour", "day", "weekday", "row_position", "col_position", "row_id",
    "language", "title_language",
)  # fmt: skip
IMPRESSION_COLUMNS = [
    "event_id", "ts", "user_id", "session_id", "device", "title_id", "artwork_id",
    "row_id", "row_position", "col_position", "dwell_ms",
]  # fmt: skip


def event_code(event_type: pd.Series, name: str) -> int:
    """Categorical code of event type ``name`` (-2, matching nothing, when absent)."""
    categories = event_type.cat.categories
    return int(categories.get_loc(name)) if name in categories else -2


def _tile_key(tiles: pd.DataFrame) -> np.ndarray:
    """One int64 per tile (session, title, row, row_position, col_position)."""
    place = (
        (tiles["title_id"].to_numpy().astype("int64") << 32)
        | (tiles["row_id"].cat.codes.to_numpy().astype("int64") << 16)
        | ((tiles["row_position"].to_numpy().astype("int64") & 0xFF) << 8)
        | (tiles["col_position"].to_numpy().astype("int64") & 0xFF)
    )
    codes, uniques = pd.factorize(place)
    session = tiles["session_id"].to_numpy().astype("int64")
    if len(session) and (int(session.max()) + 1) * max(len(uniques), 1) >= 2**62:
        return tiles.groupby(TILE_KEYS, observed=True, sort=False).ngroup().to_numpy()
    return session * len(uniques) + codes


def _attribute(tiles: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Sort tile events by (tile, ts, impressions first); map each to its impression's row.

    Returns the sort order and, per sorted row, the sorted position of the latest impression
    of the same tile at or before it (-1 when there is none).
    """
    gid = _tile_key(tiles)
    is_imp = tiles["event_type"].eq("impression").to_numpy()
    ts = tiles["ts"].to_numpy().astype("int64")
    order = np.lexsort((~is_imp, ts, gid))
    g, imp = gid[order], is_imp[order]
    idx = np.arange(len(order))
    last_imp = np.maximum.accumulate(np.where(imp, idx, -1)) if len(idx) else idx
    start = np.ones(len(idx), dtype=bool)
    start[1:] = g[1:] != g[:-1]
    group_start = np.maximum.accumulate(np.where(start, idx, 0)) if len(idx) else idx
    return order, np.where(last_imp >= group_start, last_imp, -1)


def tile_outcomes(
    events: pd.DataFrame,
    titles: pd.DataFrame | None = None,
    threshold: float = COMPLETION_THRESHOLD,
) -> pd.DataFrame:
    """One row per impression with what the member did with that tile, as logged.

    Parameters
    ----------
    events : DataFrame
        Canonical events table.
    titles : DataFrame, optional
        Canonical titles table; needed for ``completed``.
    threshold : float
        Completion threshold as a share of the runtime.

    Returns
    -------
    DataFrame
        ``IMPRESSION_COLUMNS`` plus booleans ``hovered``, ``clicked``, ``scrolled_past``,
        ``played``, ``completed`` (all False without ``titles``), in the events' order.
    """
    et = events["event_type"]
    tiles = events.loc[et.isin(TILE_EVENTS) & events["row_id"].ne(SEARCH_ROW).to_numpy(bool)]
    order, target = _attribute(tiles)
    codes = tiles["event_type"].cat.codes.to_numpy()[order]
    ids = tiles["event_id"].to_numpy()[order]
    is_play = (codes == event_code(tiles["event_type"], "play_start")) & (target >= 0)
    done = np.zeros(len(order), dtype=bool)
    if titles is not None:
        plays = play_outcomes(events, titles, threshold)
        completed_ids = plays.loc[plays["completed"], "event_id"].to_numpy()
        done[is_play] = np.isin(ids[is_play], completed_ids)
    flags = {}
    for name, hit in {
        "hovered": codes == event_code(tiles["event_type"], "hover"),
        "clicked": codes == event_code(tiles["event_type"], "click"),
        "scrolled_past": codes == event_code(tiles["event_type"], "scroll_past"),
        "played": is_play,
        "completed": done,
    }.items():
        flag = np.zeros(len(order), dtype=bool)
        flag[target[hit & (target >= 0)]] = True
        flags[name] = flag
    imp_rows = np.flatnonzero(codes == event_code(tiles["event_type"], "impression"))
    imp_rows = imp_rows[np.argsort(order[imp_rows], kind="stable")]
    out = tiles.iloc[order[imp_rows]][IMPRESSION_COLUMNS].reset_index(drop=True)
    for name, flag in flags.items():
        out[name] = flag[imp_rows]
    return out


def reached_stages(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Cumulative stage indicators (0/1) per impression: ``STAGE_COUNTS`` columns."""
    played = outcomes["played"].to_numpy()
    clicked = outcomes["clicked"].to_numpy() | played
    return pd.DataFrame(
        {
            "impressions": np.ones(len(outcomes), dtype="int64"),
            "hovers": (outcomes["hovered"].to_numpy() | clicked).astype("int64"),
            "clicks": clicked.astype("int64"),
            "plays": played.astype("int64"),
            "completions": (outcomes["completed"].to_numpy() & played).astype("int64"),
        },
        index=outcomes.index,
    )


def _check_keys(by, users, titles) -> list[str]:
    keys = [by] if isinstance(by, str) else list(by or [])
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        raise ValueError(f"unknown funnel group keys {unknown}; choose from {list(GROUP_KEYS)}")
    if "language" in keys and users is None:
        raise ValueError("grouping by 'language' (the member's language) needs users")
    if "title_language" in keys and titles is None:
        raise ValueError("grouping by 'title_language' needs titles")
    return keys


def _key_frame(frame, keys, users, titles) -> pd.DataFrame:
    """The group-key columns of ``frame`` (impressions or plays), derived where needed."""
    derived = {
        "hour": lambda: frame["ts"].dt.hour.astype("int8"),
        "day": lambda: frame["ts"].dt.floor("D"),
        "weekday": lambda: frame["ts"].dt.day_of_week.astype("int8"),
        "language": lambda: frame["user_id"].map(users.set_index("user_id")["language"]),
        "title_language": lambda: frame["title_id"].map(titles.set_index("title_id")["language"]),
    }
    columns = {k: derived[k]() if k in derived else frame[k] for k in keys}
    return pd.DataFrame(columns, index=frame.index)


def _sum_by(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if not keys:
        return frame.sum().to_frame().T
    return frame.groupby(keys, observed=True).sum().reset_index()


def compute_funnel(
    events: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    users: pd.DataFrame | None = None,
    titles: pd.DataFrame | None = None,
    threshold: float = COMPLETION_THRESHOLD,
) -> pd.DataFrame:
    """Funnel counts and rates per group of impressions.

    Rates (NaN when the denominator is 0): ``hover_rate = hovers / impressions``,
    ``click_rate = clicks / impressions``, ``play_rate = plays / impressions``,
    ``completion_rate = completions / plays``; stage to stage:
    ``hover_to_click = clicks / hovers``, ``click_to_play = plays / clicks``.
    ``search_plays`` (plays from search, no impression) are counted beside and in no rate.

    Parameters
    ----------
    events : DataFrame
        Canonical events table.
    by : str or list of str, optional
        Any of ``GROUP_KEYS``: device, hour (of ``ts``), day, weekday, row_position,
        col_position, row_id, language (the *member's*, needs ``users``) and title_language
        (needs ``titles``). None gives one overall row.
    users, titles : DataFrame, optional
        Canonical tables; ``titles`` is needed for completions (NaN without it).
    threshold : float
        Completion threshold as a share of the runtime.

    Returns
    -------
    DataFrame
        Group keys, ``impressions``, ``hovers``, ``clicks``, ``plays``, ``completions``,
        ``search_plays`` and the rates above.

    Examples
    --------
    >>> compute_funnel(events, by="row_position", titles=titles)  # doctest: +SKIP
    """
    keys = _check_keys(by, users, titles)
    tiles = tile_outcomes(events, titles, threshold)
    stages = reached_stages(tiles)
    tile_counts = _sum_by(pd.concat([_key_frame(tiles, keys, users, titles), stages], axis=1), keys)
    plays = pair_plays(events)
    plays = plays[plays["from_search"].to_numpy()].reset_index(drop=True)
    search = _key_frame(plays, keys, users, titles).assign(search_plays=1)
    counts = pd.concat([tile_counts, _sum_by(search, keys)], ignore_index=True)
    counts = _sum_by(counts.fillna({c: 0 for c in [*STAGE_COUNTS, "search_plays"]}), keys)
    counts = counts.astype({c: "int64" for c in [*STAGE_COUNTS, "search_plays"]})
    if titles is None:
        counts["completions"] = np.nan
    return _add_rates(counts)


def _add_rates(counts: pd.DataFrame) -> pd.DataFrame:
    counts["hover_rate"] = ratio(counts["hovers"], counts["impressions"])
    counts["click_rate"] = ratio(counts["clicks"], counts["impressions"])
    counts["play_rate"] = ratio(counts["plays"], counts["impressions"])
    counts["completion_rate"] = ratio(counts["completions"], counts["plays"])
    counts["hover_to_click"] = ratio(counts["clicks"], counts["hovers"])
    counts["click_to_play"] = ratio(counts["plays"], counts["clicks"])
    return counts


def funnel_steps(
    events: pd.DataFrame,
    titles: pd.DataFrame | None = None,
    threshold: float = COMPLETION_THRESHOLD,
) -> pd.DataFrame:
    """The overall funnel as a long frame for a funnel chart.

    ``rate_from_start = count / impressions``; ``rate_from_previous = count / previous count``
    (1 for the impression stage). The completion stage is included only with ``titles``.

    Returns
    -------
    DataFrame
        ``stage`` (ordered categorical), ``count``, ``rate_from_start``, ``rate_from_previous``.
    """
    row = compute_funnel(events, titles=titles, threshold=threshold).iloc[0]
    n = len(STAGES) if titles is not None else len(STAGES) - 1
    count = row[STAGE_COUNTS[:n]].to_numpy(dtype="float64")
    previous = np.concatenate([count[:1], count[:-1]])
    return pd.DataFrame(
        {
            "stage": pd.Categorical(STAGES[:n], categories=STAGES[:n], ordered=True),
            "count": count.astype("int64"),
            "rate_from_start": ratio(count, np.full(n, count[0])),
            "rate_from_previous": ratio(count, previous),
        }
    )

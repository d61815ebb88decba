"""The browse funnel: impression -> hover -> click -> play -> completion, per tile impression.

Outcomes are attributed to impressions as in `persona_lib.signals.attribution` (the latest
impression of the same session, title, row and position at or before the outcome), so a play is
counted at the position it was started from. Plays from search (``row_id == "search"``) have no
impression: they are counted as ``search_plays`` and stay out of every per-impression rate.

Stages are cumulative: an impression reaches a stage when it reached that stage or a later one
(a play straight from the tile also counts as a hover and a click), so counts never increase
along the funnel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from persona_lib.signals.attribution import (
    IMPRESSION_COLUMNS,
    TILE_EVENTS,
    TILE_KEYS,
    category_code,
    event_code,
    resolve_tiles,
    tile_outcomes,
)
from persona_lib.signals.engagement import COMPLETION_THRESHOLD, SEARCH_ROW, ratio

__all__ = [
    "GROUP_KEYS", "IMPRESSION_COLUMNS", "STAGES", "STAGE_COUNTS", "TILE_EVENTS", "TILE_KEYS",
    "compute_funnel", "event_code", "funnel_steps", "reached_stages", "tile_outcomes",
]  # fmt: skip
STAGES = ("impression", "hover", "click", "play", "completion")
STAGE_COUNTS = ["impressions", "hovers", "clicks", "plays", "completions"]
GROUP_KEYS = (
    "device", "hour", "day", "weekday", "row_position", "col_position", "row_id",
    "language", "title_language",
)  # fmt: skip


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
    *,
    tiles: pd.DataFrame | None = None,
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
    tiles : DataFrame, optional
        ``tile_outcomes(events, titles, threshold)``, to reuse the attribution.

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
    tiles = resolve_tiles(events, tiles, titles, threshold)
    stages = reached_stages(tiles)
    tile_counts = _sum_by(pd.concat([_key_frame(tiles, keys, users, titles), stages], axis=1), keys)
    plays = _search_plays(events)
    search = _key_frame(plays, keys, users, titles).assign(search_plays=1)
    counts = pd.concat([tile_counts, _sum_by(search, keys)], ignore_index=True)
    counts = _sum_by(counts.fillna({c: 0 for c in [*STAGE_COUNTS, "search_plays"]}), keys)
    counts = counts.astype({c: "int64" for c in [*STAGE_COUNTS, "search_plays"]})
    if titles is None:
        counts["completions"] = np.nan
    return _add_rates(counts)


def _search_plays(events: pd.DataFrame) -> pd.DataFrame:
    """The ``play_start`` events from search, with the columns the group keys read."""
    codes = events["event_type"].cat.codes.to_numpy()
    hit = codes == event_code(events["event_type"], "play_start")
    hit &= events["row_id"].cat.codes.to_numpy() == category_code(events["row_id"], SEARCH_ROW)
    rows = np.flatnonzero(hit)
    return pd.DataFrame({c: events[c].array.take(rows) for c in IMPRESSION_COLUMNS})


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
    *,
    tiles: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The overall funnel as a long frame for a funnel chart.

    ``rate_from_start = count / impressions``; ``rate_from_previous = count / previous count``
    (1 for the impression stage). The completion stage is included only with ``titles``.
    ``tiles`` (from `tile_outcomes`) reuses an attribution already computed.

    Returns
    -------
    DataFrame
        ``stage`` (ordered categorical), ``count``, ``rate_from_start``, ``rate_from_previous``.
    """
    row = compute_funnel(events, titles=titles, threshold=threshold, tiles=tiles).iloc[0]
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

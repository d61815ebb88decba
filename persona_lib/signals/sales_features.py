"""Member features for the sales levers (upgrades, win-back, games, ads), from logs only.

Three blocks, joined on ``user_id`` for every member in the ``households`` log:

- household columns of the sales logs: ``n_profiles``, ``n_devices``,
  ``concurrent_blocks_30d``, ``plan`` (at the campaign date);
- a viewing profile from the world's ``play_stop`` events strictly before ``cutoff``
  (`viewing_profile`): ``viewing_hours``, ``titles_played``, ``days_since_play``,
  ``hours_per_day`` (hours over the days from the first to the last play, at least 1) and the
  hours-weighted genre shares ``share_<Genre>`` (each play's watch time spread over its title's
  genres, `title_genre_weights`; rows sum to 1, all 0 for a member who never watched);
- `member_features` at ``cutoff`` (sessions, hours, tenure, price, ...), which exist only for
  members active at ``cutoff``; lapsed members get NaN there (LightGBM treats it as missing).

Why: the levers' outcomes follow the household's screen pressure (upgrades), the member's
viewing habits and tastes (win-back titles, games, ad categories) and engagement (all of them).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from persona_lib.data.schema import GENRES
from persona_lib.signals.features import FEATURE_TABLES, member_features, title_genre_weights

SHARE_COLUMNS = [f"share_{g}" for g in GENRES]
HOUSEHOLD_COLUMNS = ["n_profiles", "n_devices", "concurrent_blocks_30d", "plan"]
VIEWING_COLUMNS = [
    "viewing_hours", "titles_played", "days_since_play", "hours_per_day", *SHARE_COLUMNS,
]  # fmt: skip


def viewing_profile(
    events: pd.DataFrame, titles: pd.DataFrame, n_users: int, cutoff
) -> pd.DataFrame:
    """Hours watched, titles played, recency and genre shares of every member before ``cutoff``.

    Parameters
    ----------
    events : canonical events log (``play_stop`` rows with ``watch_s`` are read).
    titles : titles table (``title_id`` 0..n-1 in order, ``genres``).
    n_users : members are ``user_id`` 0..n_users-1.
    cutoff : timestamp-like; only rows with ``ts < cutoff`` count.

    Returns
    -------
    DataFrame, one row per member: ``user_id`` and `VIEWING_COLUMNS` (``days_since_play`` NaN
    for a member without a play).

    Examples
    --------
    >>> viewing_profile(world.events, world.titles, 100, "2025-04-01")  # doctest: +SKIP
    """
    if int(n_users) < 1:
        raise ValueError(f"n_users must be >= 1, got {n_users}")
    cutoff = pd.Timestamp(cutoff)
    stops = events[(events["event_type"].eq("play_stop") & (events["ts"] < cutoff)).to_numpy()]
    users = stops["user_id"].to_numpy(np.int64)
    hours = stops["watch_s"].fillna(0).to_numpy(np.float64) / 3600.0
    weights = title_genre_weights(titles)[stops["title_id"].to_numpy(np.int64)]
    by_genre = np.zeros((n_users, len(GENRES)))
    np.add.at(by_genre, users, weights * hours[:, None])
    total = by_genre.sum(axis=1)
    out = pd.DataFrame({"user_id": np.arange(n_users, dtype=np.int32), "viewing_hours": total})
    pairs = np.unique(np.c_[users, stops["title_id"].to_numpy(np.int64)], axis=0)
    out["titles_played"] = np.bincount(pairs[:, 0], minlength=n_users)[:n_users].astype(float)
    last = pd.Series(stops["ts"].to_numpy()).groupby(users).max()
    days = (cutoff - pd.DatetimeIndex(last.to_numpy())) / pd.Timedelta(days=1)
    first = pd.Series(stops["ts"].to_numpy()).groupby(users).min()
    span = (last - first) / pd.Timedelta(days=1)
    out["days_since_play"] = pd.Series(np.asarray(days), index=last.index).reindex(
        np.arange(n_users)
    )
    span = span.reindex(np.arange(n_users)).fillna(0).to_numpy()
    out["hours_per_day"] = total / np.maximum(span, 1.0)
    shares = by_genre / np.where(total > 0, total, 1.0)[:, None]
    out[SHARE_COLUMNS] = shares
    return out


def sales_features(
    tables: Mapping[str, pd.DataFrame], sales_tables: Mapping[str, pd.DataFrame], cutoff
) -> pd.DataFrame:
    """One row per member: household columns, `viewing_profile` and `member_features`.

    Parameters
    ----------
    tables : the world's logs (``world.tables``: events, billing, users, titles, notifications).
    sales_tables : the sales logs (``sales.tables``; ``households`` is read).
    cutoff : the snapshot instant, normally ``sales.campaign_date``.

    Returns
    -------
    DataFrame sorted by ``user_id``: ``user_id``, `HOUSEHOLD_COLUMNS`, `VIEWING_COLUMNS` and the
    `member_features` columns (NaN for members not active at ``cutoff``; ``plan`` is the
    household's).

    Examples
    --------
    >>> X = sales_features(world.tables, sales.tables, sales.campaign_date)  # doctest: +SKIP
    """
    missing = [t for t in FEATURE_TABLES if t not in tables]
    if missing:
        raise ValueError(f"tables lacks {missing} (needs {list(FEATURE_TABLES)})")
    if "households" not in sales_tables:
        raise ValueError("sales_tables lacks 'households'")
    cutoff = pd.Timestamp(cutoff)
    house = sales_tables["households"][["user_id", *HOUSEHOLD_COLUMNS]]
    n = int(house["user_id"].max()) + 1
    view = viewing_profile(tables["events"], tables["titles"], n, cutoff)
    snap = member_features(**{t: tables[t] for t in FEATURE_TABLES}, cutoff=cutoff)
    snap = snap.drop(columns=["cutoff", "plan"], errors="ignore")
    out = house.merge(view, on="user_id", how="left").merge(snap, on="user_id", how="left")
    return out.sort_values("user_id", ignore_index=True)

"""One row per impression, with outcome labels and features known when the page was served.

No leakage: every history feature of an impression at time ``t`` uses only events with
``ts < t`` (strictly; events at the same instant are excluded), and title popularity uses only
plays on days before the impression's day. Histories are prefix sums over events sorted by
(member or title, time), read at the first row of the impression's time block, so changing or
adding events at or after ``t`` cannot change the features of an impression at ``t``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.schema import ARTWORK_ATTRIBUTES, GENRES, LANGUAGES
from persona_lib.signals.engagement import BROWSE_EVENTS, ratio
from persona_lib.signals.funnel import event_code, tile_outcomes

ARTWORK_FEATURES = [f"artwork_{a}" for a in ARTWORK_ATTRIBUTES]
IMPRESSION_FEATURES = [
    "row_id", "row_position", "col_position", "device", "hour", "weekday", "same_language",
    "genre_match", "title_past_plays", "user_past_plays", "user_mean_dwell_ms",
    *ARTWORK_FEATURES,
]  # fmt: skip
LABELS = ["hovered", "clicked", "played"]
ID_COLUMNS = ["event_id", "ts", "user_id", "session_id", "title_id", "artwork_id"]


class _Prior:
    """Sums over earlier time blocks of the same group, for rows sorted by (group, block)."""

    def __init__(self, group: np.ndarray, block: np.ndarray):
        n = len(group)
        idx = np.arange(n)
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = group[1:] != group[:-1]
        new_block = new_group.copy()
        new_block[1:] |= block[1:] != block[:-1]
        self.block_start = np.maximum.accumulate(np.where(new_block, idx, 0)) if n else idx
        self.group_start = np.maximum.accumulate(np.where(new_group, idx, 0)) if n else idx

    def __call__(self, values: np.ndarray) -> np.ndarray:
        before = np.cumsum(values) - values  # exclusive prefix sum over the whole array
        return before[self.block_start] - before[self.group_start]


def _positions(index_ids: pd.Series | np.ndarray, ids: pd.Series | np.ndarray) -> np.ndarray:
    """Row positions of ``ids`` in ``index_ids`` (-1 when absent)."""
    return pd.Index(np.asarray(index_ids)).get_indexer(np.asarray(ids))


def _genre_matrix(titles: pd.DataFrame) -> np.ndarray:
    """Boolean (n_titles, n_genres) matrix from the pipe-separated ``genres``."""
    dummies = titles["genres"].astype("str").str.get_dummies(sep="|")
    return dummies.reindex(columns=list(GENRES), fill_value=0).to_numpy(dtype=bool)


def _sorted_subset(events: pd.DataFrame, types: list[str], group: str, block) -> dict:
    """Columns of the events of ``types`` as arrays sorted by (``group``, ``block``, event_id)."""
    et = events["event_type"]
    keep = et.isin(types).to_numpy()
    cols = {c: events[c].to_numpy()[keep] for c in ["event_id", "user_id", "title_id"]}
    cols["ts"] = events["ts"].to_numpy()[keep].astype("datetime64[ms]").astype("int64")
    cols["dwell_ms"] = events["dwell_ms"].to_numpy()[keep].astype("int64")
    cols["code"] = et.cat.codes.to_numpy()[keep]
    cols["block"] = block(cols["ts"])
    order = np.lexsort((cols["event_id"], cols["block"], cols[group]))
    return {c: v[order] for c, v in cols.items()}


def _member_history(events: pd.DataFrame, titles: pd.DataFrame) -> pd.DataFrame:
    """Per impression event: the member's past plays, mean dwell and genre match."""
    sub = _sorted_subset(events, [*BROWSE_EVENTS, "play_start"], "user_id", lambda ts: ts)
    prior = _Prior(sub["user_id"], sub["block"])
    is_play = sub["code"] == event_code(events["event_type"], "play_start")
    is_imp = sub["code"] == event_code(events["event_type"], "impression")
    dwell = np.where(is_play, 0, sub["dwell_ms"])
    past_plays = prior(is_play.astype("int64"))
    genres = _genre_matrix(titles)
    title_bits = np.append(genres.astype("int64") @ (1 << np.arange(genres.shape[1])), 0)
    bits = title_bits[_positions(titles["title_id"], sub["title_id"])]  # unknown title: 0
    best = np.zeros(len(bits), dtype="int64")
    for g in range(genres.shape[1]):  # a loop over genres, each pass vectorized over events
        has = ((bits >> g) & 1).astype(bool)
        best = np.maximum(best, np.where(has, prior((is_play & has).astype("int64")), 0))
    return pd.DataFrame(
        {
            "event_id": sub["event_id"][is_imp],
            "genre_match": ratio(best, past_plays)[is_imp],
            "user_past_plays": past_plays[is_imp],
            "user_mean_dwell_ms": ratio(prior(dwell), prior(is_imp.astype("int64")))[is_imp],
        }
    )


def _title_popularity(events: pd.DataFrame) -> pd.DataFrame:
    """Per impression event: plays of its title on days before the impression's day."""
    sub = _sorted_subset(
        events, ["impression", "play_start"], "title_id", lambda ts: np.floor_divide(ts, 86_400_000)
    )
    prior = _Prior(sub["title_id"], sub["block"])
    is_play = sub["code"] == event_code(events["event_type"], "play_start")
    past = prior(is_play.astype("int64"))
    return pd.DataFrame({"event_id": sub["event_id"][~is_play], "title_past_plays": past[~is_play]})


def _same_language(tiles, users, titles) -> np.ndarray:
    def codes(table, key, ids):
        lang = pd.Categorical(table["language"].astype("str"), categories=LANGUAGES).codes
        pos = _positions(table[key], ids)
        return np.where(pos >= 0, lang[np.maximum(pos, 0)], -1)

    member = codes(users, "user_id", tiles["user_id"])
    title = codes(titles, "title_id", tiles["title_id"])
    return (member == title) & (member >= 0)


def _artwork_features(tiles: pd.DataFrame, artworks: pd.DataFrame) -> pd.DataFrame:
    pos = _positions(artworks["artwork_id"], tiles["artwork_id"])
    attrs = artworks[list(ARTWORK_ATTRIBUTES)].to_numpy(dtype=bool)
    values = attrs[np.maximum(pos, 0)] & (pos >= 0)[:, None] if len(attrs) else None
    if values is None:
        values = np.zeros((len(tiles), len(ARTWORK_ATTRIBUTES)), dtype=bool)
    return pd.DataFrame(values, columns=ARTWORK_FEATURES, index=tiles.index)


def impression_table(
    events: pd.DataFrame,
    users: pd.DataFrame,
    titles: pd.DataFrame,
    artworks: pd.DataFrame,
) -> pd.DataFrame:
    """One row per impression: ids, serving-time features and outcome labels.

    Features (``IMPRESSION_FEATURES``): ``row_id``, ``row_position``, ``col_position``,
    ``device``, ``hour``, ``weekday`` (0 = Monday), ``same_language`` (member language ==
    title language), ``genre_match`` (max over the title's genres of the share of the member's
    past plays in that genre; NaN without past plays), ``title_past_plays`` (plays of the
    title by anyone on days before the impression's day), ``user_past_plays``,
    ``user_mean_dwell_ms`` (past browsing ``dwell_ms`` / past impressions; NaN without any)
    and the artwork's attributes (``artwork_<attribute>``, False when unknown). "Past" means
    strictly before the impression's ``ts``. Labels (``LABELS``, as logged and attributed as
    in `tile_outcomes`): ``hovered``, ``clicked``, ``played``.

    Parameters
    ----------
    events, users, titles, artworks : DataFrame
        Canonical tables.

    Returns
    -------
    DataFrame
        ``ID_COLUMNS`` + ``IMPRESSION_FEATURES`` + ``LABELS``, in the events' order.

    Examples
    --------
    >>> table = impression_table(events, users, titles, artworks)  # doctest: +SKIP
    >>> X, y = table[IMPRESSION_FEATURES], table["played"]  # doctest: +SKIP
    """
    tiles = tile_outcomes(events)
    out = tiles[ID_COLUMNS + ["row_id", "row_position", "col_position", "device"]].copy()
    out["hour"] = tiles["ts"].dt.hour.astype("int8")
    out["weekday"] = tiles["ts"].dt.day_of_week.astype("int8")
    out["same_language"] = _same_language(tiles, users, titles)
    out = out.merge(_member_history(events, titles), on="event_id", how="left")
    out = out.merge(_title_popularity(events), on="event_id", how="left")
    out = pd.concat([out, _artwork_features(tiles, artworks)], axis=1)
    for label in LABELS:
        out[label] = tiles[label].to_numpy()
    return out[ID_COLUMNS + IMPRESSION_FEATURES + LABELS]


def temporal_split(
    frame: pd.DataFrame, ts_col: str = "ts", test_fraction: float = 0.25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows in time: the latest ``test_fraction`` of rows (by ``ts_col``) form the test set.

    The cutoff is the ``ts`` at rank ``floor(n * (1 - test_fraction))``; train holds rows
    strictly before it and test the rest, so rows sharing a timestamp never straddle the split.

    Returns
    -------
    (DataFrame, DataFrame)
        ``train, test``, each in the input order.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    ts = frame[ts_col].to_numpy()
    if len(ts) == 0:
        return frame.iloc[:0], frame.iloc[:0]
    cutoff = np.sort(ts)[int(len(ts) * (1 - test_fraction))]
    is_test = ts >= cutoff
    return frame[~is_test], frame[is_test]

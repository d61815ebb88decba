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
from persona_lib.signals.attribution import (
    PriorSums,
    event_code,
    homepage_mask,
    resolve_tiles,
    stable_argsort,
)
from persona_lib.signals.engagement import BROWSE_EVENTS, ratio

ARTWORK_FEATURES = [f"artwork_{a}" for a in ARTWORK_ATTRIBUTES]
IMPRESSION_FEATURES = [
    "row_id", "row_position", "col_position", "device", "hour", "weekday", "same_language",
    "genre_match", "title_past_plays", "user_past_plays", "user_mean_dwell_ms",
    *ARTWORK_FEATURES,
]  # fmt: skip
LABELS = ["hovered", "clicked", "played"]
ID_COLUMNS = ["event_id", "ts", "user_id", "session_id", "title_id", "artwork_id"]


def _positions(index_ids: pd.Series | np.ndarray, ids: pd.Series | np.ndarray) -> np.ndarray:
    """Row positions of ``ids`` in ``index_ids`` (-1 when absent)."""
    return pd.Index(np.asarray(index_ids)).get_indexer(np.asarray(ids))


def _genre_matrix(titles: pd.DataFrame) -> np.ndarray:
    """Boolean (n_titles, n_genres) matrix from the pipe-separated ``genres``."""
    dummies = titles["genres"].astype("str").str.get_dummies(sep="|")
    return dummies.reindex(columns=list(GENRES), fill_value=0).to_numpy(dtype=bool)


def _ts_ms(events: pd.DataFrame) -> np.ndarray:
    return events["ts"].to_numpy().astype("datetime64[ms]", copy=False).view("int64")


def _sorted_rows(events: pd.DataFrame, types: list[str], group: str) -> dict:
    """Positions, group, ts and type code of the events of ``types``, sorted by (group, ts,
    event_id)."""
    et = events["event_type"]
    codes = et.cat.codes.to_numpy()
    rows = np.flatnonzero(np.isin(codes, [event_code(et, t) for t in types]))
    ts = _ts_ms(events)[rows]
    ids = events["event_id"].to_numpy()[rows]
    in_order = (ts[1:] > ts[:-1]) | ((ts[1:] == ts[:-1]) & (ids[1:] >= ids[:-1]))
    if not bool(in_order.all()):
        first = np.lexsort((ids, ts))
        rows, ts = rows[first], ts[first]
    key = events[group].to_numpy()[rows].astype("int64")
    order = stable_argsort(key)
    rows = rows[order]
    return {"rows": rows, "group": key[order], "ts": ts[order], "code": codes[rows]}


def _member_history(events: pd.DataFrame, titles: pd.DataFrame) -> dict:
    """Per impression event (``rows``): the member's past plays, mean dwell and genre match."""
    sub = _sorted_rows(events, [*BROWSE_EVENTS, "play_start"], "user_id")
    prior = PriorSums(sub["group"], sub["ts"])
    is_play = sub["code"] == event_code(events["event_type"], "play_start")
    is_imp = sub["code"] == event_code(events["event_type"], "impression")
    dwell = np.where(is_play, 0, events["dwell_ms"].to_numpy()[sub["rows"]].astype("int64"))
    past_plays = prior(is_play)[is_imp]
    imp = np.flatnonzero(is_imp)
    # genre counts of the member's earlier plays: a running count over the play rows, read
    # before the impression's time block and before the member's first row
    genres = _genre_matrix(titles)
    n_genres = genres.shape[1]
    title_pos = _positions(titles["title_id"], events["title_id"].to_numpy()[sub["rows"]])
    padded = np.vstack([genres, np.zeros((1, n_genres), dtype=bool)])  # unknown title: -1
    running = np.zeros((is_play.sum() + 1, n_genres + 1), dtype="int64")
    running[1:, :n_genres] = np.cumsum(padded[title_pos[is_play]], axis=0)
    plays_before = np.cumsum(is_play) - is_play
    hi = plays_before[prior.block_start[imp]] * (n_genres + 1)
    lo = plays_before[prior.group_start[imp]] * (n_genres + 1)
    slots = _genre_slots(padded, n_genres)[title_pos[imp]]
    best = np.zeros(len(imp), dtype="int64")
    flat = running.ravel()
    for j in range(slots.shape[1]):  # a title has a few genres: one pass per genre slot
        best = np.maximum(best, flat[hi + slots[:, j]] - flat[lo + slots[:, j]])
    return {
        "rows": sub["rows"][imp],
        "genre_match": ratio(best, past_plays),
        "user_past_plays": past_plays,
        "user_mean_dwell_ms": ratio(prior(dwell)[imp], prior(is_imp)[imp]),
    }


def _genre_slots(genres: np.ndarray, pad: int) -> np.ndarray:
    """Per title, the indices of its genres, padded with ``pad`` (a column of zeros)."""
    width = max(int(genres.sum(axis=1).max(initial=0)), 1)
    slots = np.full((len(genres), width), pad, dtype="int64")
    rows, cols = np.nonzero(genres)
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    slots[rows, rank] = cols
    return slots


def _title_past_plays(events: pd.DataFrame, tiles: pd.DataFrame) -> np.ndarray:
    """Per impression of ``tiles``: plays of its title (by anyone) on days before its day."""
    et = events["event_type"]
    plays = np.flatnonzero(et.cat.codes.to_numpy() == event_code(et, "play_start"))
    play_day = np.floor_divide(_ts_ms(events)[plays], 86_400_000)
    tile_day = np.floor_divide(tiles["ts"].to_numpy().astype("datetime64[ms]").view("int64"),
                               86_400_000)  # fmt: skip
    titles = np.concatenate([events["title_id"].to_numpy()[plays], tiles["title_id"].to_numpy()])
    days = np.concatenate([play_day, tile_day])
    if not len(days):
        return np.zeros(0, dtype="int64")
    title_code, _ = pd.factorize(titles)
    day_code = days - days.min()
    n_days = int(day_code.max()) + 1
    cell = title_code.astype("int64") * n_days + day_code
    counts = np.bincount(cell[: len(plays)], minlength=(int(title_code.max()) + 1) * n_days)
    counts = counts.reshape(-1, n_days)
    before = (np.cumsum(counts, axis=1) - counts).ravel()  # plays on earlier days
    return before[cell[len(plays) :]]


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
    *,
    tiles: pd.DataFrame | None = None,
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
    tiles : DataFrame, optional
        ``tile_outcomes(events)``, to reuse the attribution.

    Returns
    -------
    DataFrame
        ``ID_COLUMNS`` + ``IMPRESSION_FEATURES`` + ``LABELS``, in the events' order.

    Examples
    --------
    >>> table = impression_table(events, users, titles, artworks)  # doctest: +SKIP
    >>> X, y = table[IMPRESSION_FEATURES], table["played"]  # doctest: +SKIP
    """
    tiles = resolve_tiles(events, tiles)
    positions = np.flatnonzero(homepage_mask(events, ("impression",)))
    ids = events["event_id"].to_numpy()[positions]
    if len(positions) != len(tiles) or not np.array_equal(ids, tiles["event_id"].to_numpy()):
        raise ValueError("tiles do not match events: pass tile_outcomes of the same events")
    out = {c: tiles[c] for c in ID_COLUMNS + ["row_id", "row_position", "col_position", "device"]}
    ms = tiles["ts"].to_numpy().astype("datetime64[ms]").view("int64")
    out["hour"] = (np.floor_divide(ms, 3_600_000) % 24).astype("int8")
    out["weekday"] = ((np.floor_divide(ms, 86_400_000) + 3) % 7).astype("int8")  # 1970-01-01: Thu
    out["same_language"] = _same_language(tiles, users, titles)
    history = _member_history(events, titles)
    slot = np.full(len(events), -1, dtype="int64")
    slot[positions] = np.arange(len(positions))
    at = slot[history.pop("rows")]
    for name, values in history.items():
        column = (
            np.full(len(tiles), np.nan)
            if values.dtype.kind == "f"
            else np.zeros(len(tiles), "int64")
        )
        column[at[at >= 0]] = values[at >= 0]
        out[name] = column
    out["title_past_plays"] = _title_past_plays(events, tiles)
    artwork = _artwork_features(tiles, artworks)
    out.update({c: artwork[c].to_numpy() for c in ARTWORK_FEATURES})
    out.update({label: tiles[label].to_numpy() for label in LABELS})
    frame = pd.DataFrame(out, copy=False)
    return frame[ID_COLUMNS + IMPRESSION_FEATURES + LABELS]

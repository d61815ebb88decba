"""Impression -> outcome attribution: what the member did with each tile impression.

Every outcome event of a tile (``hover``, ``click``, ``scroll_past``, ``play_start``) is
attributed to the latest ``impression`` at or before it with the same session, title, row and
position, so a play is counted at the position it was started from. Plays from search
(``row_id == "search"``) have no impression and outcome events with no earlier matching
impression are dropped.

`tile_outcomes` does this once for a whole log; every per-impression signal accepts its result
as ``tiles=`` so a notebook pays for the attribution once. It is sort based: one int64 key per
tile, a stable argsort of the keys (events already in time order keep it within a tile), then
running maxima find each outcome's impression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.signals.engagement import COMPLETION_THRESHOLD, SEARCH_ROW, start_watch_s

TILE_KEYS = ["session_id", "title_id", "row_id", "row_position", "col_position"]
TILE_EVENTS = ("impression", "hover", "click", "scroll_past", "play_start")
OUTCOME_FLAGS = {"hover": "hovered", "click": "clicked", "scroll_past": "scrolled_past"}
IMPRESSION_COLUMNS = [
    "event_id", "ts", "user_id", "session_id", "device", "title_id", "artwork_id",
    "row_id", "row_position", "col_position", "dwell_ms",
]  # fmt: skip
FLAG_COLUMNS = ["hovered", "clicked", "scrolled_past", "played", "completed"]


def event_code(event_type: pd.Series, name: str) -> int:
    """Categorical code of event type ``name`` (-2, matching nothing, when absent)."""
    categories = event_type.cat.categories
    return int(categories.get_loc(name)) if name in categories else -2


def category_code(column: pd.Series, name: str) -> int:
    """Code of category ``name`` in a categorical column (-2, matching nothing, when absent)."""
    categories = column.cat.categories
    return int(categories.get_loc(name)) if name in categories else -2


def stable_argsort(key: np.ndarray) -> np.ndarray:
    """Stable argsort of int64 keys; 16-bit radix passes when the keys fit in [0, 2**32)."""
    if not len(key) or key.min() < 0 or key.max() >= 2**32:
        return np.argsort(key, kind="stable")
    order = np.argsort((key & 0xFFFF).astype("uint16"), kind="stable")  # numpy radix-sorts these
    if key.max() >= 2**16:
        order = order[np.argsort((key[order] >> 16).astype("uint16"), kind="stable")]
    return order


class PriorSums:
    """Sums over rows of the same group in strictly earlier time blocks.

    Rows must be sorted by (group, block); ``block`` is e.g. ``ts``, so rows at the same
    instant never see each other.
    """

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
        before = np.cumsum(values, dtype=np.result_type(values, "int64")) - values  # exclusive
        return before[self.block_start] - before[self.group_start]


def _tile_key(events: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """One int64 per tile (session, title, row, row_position, col_position) for ``rows``."""
    parts = [
        events["session_id"].to_numpy(),
        events["title_id"].to_numpy(),
        events["row_id"].cat.codes.to_numpy(),
        events["row_position"].to_numpy(),
        events["col_position"].to_numpy(),
    ]
    low = min((int(p.min()) for p in parts), default=0) if len(events) else 0
    widths = [int(p.max()).bit_length() if len(p) else 0 for p in parts]
    if low < 0 or sum(widths) > 62:  # ids that do not pack: number the tiles instead
        frame = pd.DataFrame({k: p[rows] for k, p in zip(TILE_KEYS, parts, strict=True)})
        return frame.groupby(TILE_KEYS, sort=False).ngroup().to_numpy().astype("int64")
    key = parts[0][rows].astype("int64")
    for part, width in zip(parts[1:], widths[1:], strict=True):
        key <<= width
        np.bitwise_or(key, part[rows], out=key)
    return key


def _time_order(ts: np.ndarray, is_imp: np.ndarray) -> np.ndarray | None:
    """Order by (ts, impressions first), or None when the rows are already in that order."""
    key = ts << 1
    key |= ~is_imp
    if len(key) < 2 or bool((key[1:] >= key[:-1]).all()):
        return None
    return np.argsort(key, kind="stable")


def homepage_mask(events: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """Events of the given types whose ``row_id`` is not search."""
    et = events["event_type"]
    wanted = np.zeros(len(et.cat.categories) + 1, dtype=bool)  # slot 0: missing (code -1)
    wanted[[event_code(et, n) + 1 for n in names if n in et.cat.categories]] = True
    keep = wanted[et.cat.codes.to_numpy().astype("intp") + 1]
    keep &= events["row_id"].cat.codes.to_numpy() != category_code(events["row_id"], SEARCH_ROW)
    return keep


def attribute(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Attribute tile outcome events to impressions.

    Returns
    -------
    (ndarray, ndarray)
        ``rows``: positions in ``events`` of the tile events (impressions and outcomes, search
        excluded), sorted by (tile, ts, impressions first); ``target``: per entry of ``rows``
        the position in ``events`` of the latest impression of the same tile at or before it
        (-1 when there is none; an impression is its own target).
    """
    rows = np.flatnonzero(homepage_mask(events, TILE_EVENTS))
    codes = events["event_type"].cat.codes.to_numpy()
    is_imp = codes[rows] == event_code(events["event_type"], "impression")
    ts = events["ts"].to_numpy().astype("datetime64[ms]", copy=False).view("int64")
    first = _time_order(ts[rows], is_imp)
    if first is not None:
        rows, is_imp = rows[first], is_imp[first]
    key = _tile_key(events, rows)
    order = np.argsort(key, kind="stable")
    rows, key, is_imp = rows[order], key[order], is_imp[order]
    last = np.maximum.accumulate(np.where(is_imp, np.arange(len(rows)), -1)) if len(rows) else rows
    found = (last >= 0) & (key[np.maximum(last, 0)] == key)
    return rows, np.where(found, rows[np.maximum(last, 0)], -1)


def tile_outcomes(
    events: pd.DataFrame,
    titles: pd.DataFrame | None = None,
    threshold: float = COMPLETION_THRESHOLD,
) -> pd.DataFrame:
    """One row per impression with what the member did with that tile, as logged.

    Compute it once and pass it as ``tiles=`` to `compute_funnel`, `funnel_steps`,
    `position_bias_curve`, `position_heatmap`, `scroll_past_signal`, `member_browsing_speed`,
    `play_rate_by_browsing_speed` and `impression_table`; they give the same results as when
    they attribute the events themselves.

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
        ``attrs`` records ``with_titles`` and ``threshold``.

    Examples
    --------
    >>> tiles = tile_outcomes(events, titles)  # doctest: +SKIP
    >>> compute_funnel(events, by="device", titles=titles, tiles=tiles)  # doctest: +SKIP
    """
    rows, target = attribute(events)
    et = events["event_type"]
    codes = et.cat.codes.to_numpy()
    is_imp = homepage_mask(events, ("impression",))
    positions = np.flatnonzero(is_imp)
    out_row = np.cumsum(is_imp) - 1  # output row of each impression: the events' order
    codes = codes[rows]
    attributed = target >= 0
    owner = out_row[target[attributed]]
    codes = codes[attributed]
    flags = {name: np.zeros(len(positions), dtype=bool) for name in FLAG_COLUMNS}
    for kind, name in OUTCOME_FLAGS.items():
        flags[name][owner[codes == event_code(et, kind)]] = True
    play = codes == event_code(et, "play_start")
    flags["played"][owner[play]] = True
    if titles is not None:
        done = _completed(events, titles, threshold, rows[attributed][play])
        flags["completed"][owner[play][done]] = True
    columns = {c: events[c].array.take(positions) for c in IMPRESSION_COLUMNS}
    out = pd.DataFrame({**columns, **flags}, copy=False)
    out.attrs.update(with_titles=titles is not None, threshold=float(threshold))
    return out


def _completed(events, titles, threshold, play_rows) -> np.ndarray:
    """Whether each ``play_start`` at ``play_rows`` reached ``threshold`` of the runtime."""
    starts, watch = start_watch_s(events)
    watch_at = np.full(len(events), np.nan)
    watch_at[starts] = watch
    runtime = titles.set_index("title_id")["runtime_min"]
    ids = events["title_id"].to_numpy()[play_rows]
    pos = runtime.index.get_indexer(ids)
    runtime_s = np.where(pos >= 0, runtime.to_numpy()[np.maximum(pos, 0)], np.nan) * 60.0
    return watch_at[play_rows] >= threshold * runtime_s


def resolve_tiles(
    events: pd.DataFrame,
    tiles: pd.DataFrame | None,
    titles: pd.DataFrame | None = None,
    threshold: float = COMPLETION_THRESHOLD,
) -> pd.DataFrame:
    """``tiles`` when given (checked against ``titles`` and ``threshold``), else computed."""
    if tiles is None:
        return tile_outcomes(events, titles, threshold)
    missing = [c for c in [*IMPRESSION_COLUMNS, *FLAG_COLUMNS] if c not in tiles.columns]
    if missing:
        raise ValueError(f"tiles lacks columns {missing}; pass the frame from tile_outcomes")
    if titles is not None and tiles.attrs.get("with_titles") is False:
        raise ValueError("tiles were computed without titles: pass tile_outcomes(events, titles)")
    recorded = tiles.attrs.get("threshold", threshold)
    if titles is not None and recorded != threshold:
        raise ValueError(f"tiles were computed with threshold {recorded}, not {threshold}")
    return tiles

"""Does an earlier scroll-past of a title predict a lower play rate the next time it is shown?

Comparing (member, title) pairs that were ever scrolled past with pairs that never were answers
a different question: a pair can only be scrolled past if it was shown and examined, and pairs
shown many times are the ones the recommender (and the member) favour, so the scrolled-past
pairs play *more* (exposure confounding). Here every repeat impression is compared with the
member's history of the same title before it, so exposure is held at "shown before".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.signals.attribution import (
    PriorSums,
    event_code,
    homepage_mask,
    resolve_tiles,
    stable_argsort,
)
from persona_lib.signals.engagement import ratio

HISTORIES = ("first", "seen_only", "scrolled_past", "hovered", "played_before")


KINDS = {
    "seen": ("impression",),
    "scrolled": ("scroll_past",),
    "examined": ("hover", "click"),
    "played": ("play_start",),
}


def _earlier_dense(pair, ts, kinds, n_pairs) -> dict:
    """Per row: does the pair have a row of each kind with a strictly earlier ts? (a table of
    first times per pair, for pair ids that are dense enough)."""
    out = {}
    for name, hit in kinds.items():
        first = np.full(n_pairs, np.iinfo("int64").max, dtype="int64")
        np.minimum.at(first, pair[hit], ts[hit])
        out[name] = first[pair] < ts
    return out


def _earlier_sorted(pair, ts, kinds) -> dict:
    """As `_earlier_dense`, by sorting the rows by (pair, ts) and summing over earlier blocks."""
    order = np.argsort(ts, kind="stable")
    order = order[stable_argsort(pair[order])]
    sums = PriorSums(pair[order], ts[order])
    out = {}
    for name, hit in kinds.items():
        out[name] = np.empty(len(pair), dtype=bool)
        out[name][order] = sums(hit[order]) > 0
    return out


def impression_history(events: pd.DataFrame, dense: bool | None = None) -> np.ndarray:
    """History class (index into ``HISTORIES``) of every homepage impression, in events order.

    See `scroll_past_signal` for the classes. ``dense`` picks the algorithm (None: a table
    indexed by member x title when it is at most 4 rows per event, else a sort).
    """
    et = events["event_type"]
    home = homepage_mask(events, ("impression", "hover", "click", "scroll_past"))
    rows = np.flatnonzero(home | (et.cat.codes.to_numpy() == event_code(et, "play_start")))
    codes = et.cat.codes.to_numpy()[rows]
    kinds = {k: np.isin(codes, [event_code(et, n) for n in v]) for k, v in KINDS.items()}
    ts = events["ts"].to_numpy().astype("datetime64[ms]", copy=False).view("int64")[rows]
    title = events["title_id"].to_numpy()[rows].astype("int64")
    pair = events["user_id"].to_numpy()[rows].astype("int64") * (int(title.max(initial=0)) + 1)
    pair += title
    if len(pair) and pair.min() < 0:
        pair = pd.factorize(pair)[0].astype("int64")
    n_pairs = int(pair.max(initial=0)) + 1
    if dense if dense is not None else n_pairs <= 4 * len(pair):
        earlier = _earlier_dense(pair, ts, kinds, n_pairs)
    else:
        earlier = _earlier_sorted(pair, ts, kinds)
    imp = kinds["seen"]
    return np.select(
        [~earlier["seen"][imp], earlier["played"][imp], earlier["examined"][imp],
         earlier["scrolled"][imp]],
        [0, 4, 3, 2],
        default=1,
    )  # fmt: skip


def scroll_past_signal(events: pd.DataFrame, *, tiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Play rate of repeat impressions by what the member did with the title before.

    Every homepage impression of a (member, title) pair is classed by the pair's events
    strictly before its ``ts``:

    - ``first``: no earlier impression of the pair (the reference);
    - ``seen_only``: earlier impressions, never examined (no hover, click or scroll_past);
    - ``scrolled_past``: at least one earlier ``scroll_past`` and no earlier hover or click;
    - ``hovered``: an earlier hover or click;
    - ``played_before``: an earlier ``play_start`` of the title (from anywhere, search included);
      these pairs are out of the three classes above.

    Examination events count only on homepage tiles (search logs a click of its own).
    ``plays`` are the impressions a play was started from (attributed as in the funnel);
    ``play_rate = plays / impressions`` and ``play_rate_se = sqrt(rate (1 - rate) / n)`` (binomial,
    ignoring that impressions of one member are correlated). Scroll-past is a negative signal
    when ``scrolled_past`` plays less than ``seen_only``: both were shown before, and only the
    scroll-past distinguishes them.

    Parameters
    ----------
    events : DataFrame
        Canonical events table.
    tiles : DataFrame, optional
        ``tile_outcomes(events)``, to reuse the attribution.

    Returns
    -------
    DataFrame
        ``history`` (categorical, ``HISTORIES`` order), ``impressions``, ``plays``,
        ``play_rate``, ``play_rate_se``; one row per class.

    Examples
    --------
    >>> scroll_past_signal(events, tiles=tile_outcomes(events))  # doctest: +SKIP
    """
    tiles = resolve_tiles(events, tiles)
    history = impression_history(events)
    if len(history) != len(tiles):
        raise ValueError("tiles do not match events: pass tile_outcomes of the same events")
    played = tiles["played"].to_numpy()
    impressions = np.bincount(history, minlength=len(HISTORIES))
    plays = np.bincount(history, weights=played, minlength=len(HISTORIES)).astype("int64")
    rate = ratio(plays, impressions)
    se = np.sqrt(rate * (1 - rate) / np.where(impressions > 0, impressions, np.nan))
    return pd.DataFrame(
        {
            "history": pd.Categorical(HISTORIES, categories=HISTORIES),
            "impressions": impressions,
            "plays": plays,
            "play_rate": rate,
            "play_rate_se": se,
        }
    )

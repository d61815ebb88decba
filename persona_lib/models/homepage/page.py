"""Homepage construction: candidate rows per member, then stage-wise greedy row selection.

A page is ``n_rows`` rows of ``n_cols`` titles. Every member gets the same kinds of candidate
rows, each a ranked list of titles:

- ``continue``: titles the member started and did not finish (most recent first);
- ``top_picks``: the member's best-scored titles;
- ``because:<title_id>``: titles most similar to one of the member's recent plays (the anchor),
  ordered by the member's score;
- ``genre:<Genre>``: titles of one genre ordered by the member's score;
- ``trending``: recent popularity (the same order for everyone, unplayed titles first);
- ``new``: new releases ordered by the member's score;
- ``more``: a fallback that continues the trending list, placed only when no other row can be
  filled (small catalogs or members who have played most of it).

Scores are standardized per member (``z = (s - mean) / std`` over the catalog) so rows of any
model share one scale. Rows are then placed one at a time (Carbonell & Goldstein 1998, maximal
marginal relevance, applied to whole rows)::

    value_j = (1 - diversity) * (relevance_j + prior_kind(j)) - diversity * max_p sim(j, p)
    relevance_j = sum_c w_c z(t_jc) / sum_c w_c,   w_c = 1 / log2(c + 2)
    sim(j, p) = (overlap(j, p) + genre_cosine(j, p)) / 2

where ``t_jc`` are row j's first ``n_cols`` titles not yet on the page (de-duplication: a title
placed in an earlier row is skipped and the row refilled from its candidates), ``p`` runs over
the rows already placed, ``overlap`` is the share of row j's original top titles already placed
and ``genre_cosine`` compares the genre mixes of the two rows. A row with fewer than ``n_cols``
titles left is not eligible. Everything is vectorized over members; Python loops run over row
kinds, genres and the ``n_rows`` stages (`persona_lib.models.homepage.selection`) only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from persona_lib.models.homepage.selection import select_rows
from persona_lib.models.recommenders.base import top_k

ROW_KINDS = ("continue", "top_picks", "because", "genre", "trending", "new", "more")
DEFAULT_PRIORS = {"continue": 0.5, "top_picks": 0.25, "because": 0.0, "genre": 0.0,
                  "trending": 0.0, "new": -0.25}  # fmt: skip
PAGE_COLUMNS = ("user_id", "row_position", "row_id", "col_position", "title_id", "score")


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class PageCatalog:
    """What every member's page shares: per-title genres, neighbours, trending and new flags.

    ``genres`` is (T, G) bool with names ``genre_names``; ``neighbours`` (T, k) holds each
    title's most similar titles, best first (-1 pads); ``trending`` (T,) recent popularity;
    ``new`` (T,) bool marks new releases.
    """

    genres: np.ndarray
    genre_names: tuple[str, ...]
    neighbours: np.ndarray
    trending: np.ndarray
    new: np.ndarray

    def __post_init__(self) -> None:
        n = self.genres.shape[0]
        if self.genres.shape[1] != len(self.genre_names):
            raise ValueError("PageCatalog genres must have one column per genre name")
        if self.neighbours.shape[0] != n or self.trending.shape != (n,) or self.new.shape != (n,):
            raise ValueError("PageCatalog arrays must all have one entry per title")

    @property
    def n_titles(self) -> int:
        return self.genres.shape[0]

    # derived arrays are computed once per catalog (``dataclasses.replace`` starts afresh)
    @functools.cached_property
    def trending_order(self) -> np.ndarray:
        """Title ids by decreasing trending score (ties to the lower id)."""
        return _read_only(np.lexsort((np.arange(self.n_titles), -self.trending)))

    @functools.cached_property
    def row_flags(self) -> np.ndarray:
        """(T, G + 1) bool: the genre flags, then the new-release flag (one row each)."""
        return _read_only(np.hstack([self.genres, self.new[:, None]]))

    @functools.cached_property
    def genre_counts(self) -> np.ndarray:
        """(T, G) float64 0/1 genre flags, ready to sum into a row's genre counts."""
        return _read_only(self.genres.astype(np.float64))

    @functools.cached_property
    def genres_padded(self) -> np.ndarray:
        """(T + 1, G) bool genre flags and a last row of none, so that id -1 reads no genre."""
        return _read_only(np.vstack([self.genres, np.zeros_like(self.genres[:1])]))


@dataclass(frozen=True)
class MemberInputs:
    """One batch of members: ``scores`` and ``played`` are (n, T); ``continue_ids`` (n, L) and
    ``anchors`` (n, A) hold title ids, most recent first, padded with -1."""

    scores: np.ndarray
    played: np.ndarray
    continue_ids: np.ndarray
    anchors: np.ndarray


@dataclass(frozen=True)
class Homepage:
    """Built pages: ``title_id``/``score`` (n, R, C); ``row_kind`` (n, R) codes into
    ``ROW_KINDS``; ``row_key`` (n, R) the anchor title id, genre index or -1; ``row_score``
    (n, R) the value that placed the row. ``score`` is the member's standardized score."""

    user_id: np.ndarray
    title_id: np.ndarray
    score: np.ndarray
    row_kind: np.ndarray
    row_key: np.ndarray
    row_score: np.ndarray
    genre_names: tuple[str, ...]

    def row_names(self) -> np.ndarray:
        """(n, R) row ids: ``"top_picks"``, ``"because:<title_id>"``, ``"genre:<Genre>"``..."""
        kinds = np.asarray(ROW_KINDS, dtype=object)[self.row_kind]
        out = kinds.copy()
        because = self.row_kind == ROW_KINDS.index("because")
        genre = self.row_kind == ROW_KINDS.index("genre")
        out[because] = [f"because:{k}" for k in self.row_key[because]]
        out[genre] = [f"genre:{self.genre_names[k]}" for k in self.row_key[genre]]
        return out

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame ``user_id, row_position, row_id, col_position, title_id, score``."""
        n, rows, cols = self.title_id.shape
        names = np.repeat(self.row_names().ravel(), cols)
        return pd.DataFrame({
            "user_id": np.repeat(self.user_id, rows * cols).astype(np.int32),
            "row_position": np.tile(np.repeat(np.arange(rows), cols), n).astype(np.int16),
            "row_id": names.astype(str),
            "col_position": np.tile(np.arange(cols), n * rows).astype(np.int16),
            "title_id": self.title_id.ravel().astype(np.int32),
            "score": self.score.ravel(),
        })  # fmt: skip


def standardize(scores: np.ndarray) -> np.ndarray:
    """Per-row z-scores (float64); a constant row gets zeros."""
    s = np.asarray(scores, dtype=np.float64)
    # the steps of ``s.std`` and ``s.mean`` (same values), with the mean computed once
    centred = s - np.add.reduce(s, axis=1, keepdims=True) / s.shape[1]
    std = np.sqrt(np.add.reduce(centred * centred, axis=1, keepdims=True) / s.shape[1])
    return centred / np.where(std > 0, std, 1.0)


def _first_valid(cand: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """The first k entries of ``cand`` along the last axis where ``valid``, padded with -1.

    ``cand`` may have the shape of ``valid`` or broadcast to it (then it is never copied).
    """
    width = valid.shape[-1]
    rank = np.cumsum(valid, axis=-1, dtype=np.int32)
    hit = np.flatnonzero(valid & (rank <= k))
    out = np.full(valid.size // max(width, 1) * k, -1, dtype=np.int64)
    if cand.shape == valid.shape:
        picked = cand.ravel()[hit]
    else:
        picked = np.broadcast_to(cand, valid.shape)[np.unravel_index(hit, valid.shape)]
    out[hit // width * k + rank.ravel()[hit] - 1] = picked
    return out.reshape(*valid.shape[:-1], k)


def top_titles(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best titles per member and their scores, in time linear in T even with ties.

    The same result as `persona_lib.models.recommenders.base.top_k` (ties to the lower id, -1
    for -inf), without its fallback of sorting every member's whole catalog when some member
    has titles tied at the k-th best score (frequent in a batch: popularity-scored members).
    A partition gives the k-th best score; the titles above it and the lowest-id titles at it
    make up the k, which are then sorted by score (a stable sort keeps ties in id order).
    """
    n, n_titles = scores.shape
    k = min(k, n_titles)
    if k <= 0:
        return np.empty((n, 0), np.int64), np.empty((n, 0), scores.dtype)
    if k < n_titles:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(scores, part, axis=1).min(axis=1, keepdims=True)
        if np.isnan(kth).any():  # undefined scores: keep top_k's answer, whatever it is
            return top_k(scores, k)
        above, tied = scores > kth, scores == kth
        room = k - np.count_nonzero(above, axis=1)[:, None]
        keep = above | (tied & (np.cumsum(tied, axis=1, dtype=np.int32) <= room))
        part = np.nonzero(keep)[1].reshape(n, k)  # in id order
    else:
        part = np.broadcast_to(np.arange(n_titles), (n, n_titles))
    best = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-best, axis=1, kind="stable")
    idx, best = np.take_along_axis(part, order, axis=1), np.take_along_axis(best, order, axis=1)
    return np.where(np.isneginf(best), -1, idx), best


def _trending_rows(played: np.ndarray, order: np.ndarray, depth: int) -> np.ndarray:
    """(n, depth) titles by trend, the member's unplayed titles first (so never short)."""
    prefix = order[: min(order.size, depth + int(played.sum(1).max(initial=0)))]
    seen = played[:, prefix]
    both = np.hstack([np.where(seen, -1, prefix), np.where(seen, prefix, -1)])
    return _first_valid(both, both >= 0, depth)


def candidate_rows(member: MemberInputs, catalog: PageCatalog, depth: int, pool_size: int,
                   z: np.ndarray | None = None):  # fmt: skip
    """Candidate titles of every row: (n, J, depth) ids (-1 pads), (J,) kinds, (n, J) keys.

    Discovery rows never hold a played title; ``continue`` is the member's unfinished titles
    then their top picks. ``trending`` is built apart (`_trending_rows`). ``z`` is
    ``standardize(member.scores)`` when the caller has it already.
    """
    z = standardize(member.scores) if z is None else z
    n, n_titles = z.shape
    fresh = np.where(member.played, -np.inf, z)
    pool, best = top_titles(fresh, min(n_titles, max(pool_size, depth)))
    pool = np.where(np.isfinite(best), pool, -1)
    has_continue = member.continue_ids[:, :1] >= 0
    first = np.where(has_continue, np.hstack([member.continue_ids, pool]), -1)
    rows = [_first_valid(first, first >= 0, depth)[:, None], pool[:, None, :depth]]
    kinds = [ROW_KINDS.index("continue"), ROW_KINDS.index("top_picks")]
    keys = [np.full((n, 2), -1)]
    # because you watched: the anchor's neighbours the member has not played, by member score
    nb = catalog.neighbours[np.maximum(member.anchors, 0)]  # (n, A, k)
    flat = np.arange(n)[:, None, None] * n_titles + np.maximum(nb, 0)
    ok = (nb >= 0) & (member.anchors[:, :, None] >= 0) & ~member.played.ravel()[flat]
    order = np.argsort(np.where(ok, -z.ravel()[flat], np.inf), axis=2, kind="stable")
    nb = np.where(np.take_along_axis(ok, order, 2), np.take_along_axis(nb, order, 2), -1)
    rows.append(_first_valid(nb, nb >= 0, depth))
    kinds += [ROW_KINDS.index("because")] * nb.shape[1]
    keys.append(np.where(member.anchors >= 0, member.anchors, -1))
    # genre rows and new releases: the member's pool filtered by a title flag
    mask = catalog.row_flags[np.maximum(pool, 0)].transpose(0, 2, 1) & (pool >= 0)[:, None, :]
    rows.append(_first_valid(pool[:, None, :], mask, depth))
    n_genres = len(catalog.genre_names)
    kinds += [ROW_KINDS.index("genre")] * n_genres + [ROW_KINDS.index("new")]
    keys.append(np.broadcast_to(np.r_[np.arange(n_genres), -1], (n, n_genres + 1)))
    return np.concatenate(rows, 1), np.array(kinds), np.hstack(keys)


def build_pages(user_ids, member: MemberInputs, catalog: PageCatalog, n_rows: int, n_cols: int,
                diversity: float = 0.3, priors: dict[str, float] | None = None,
                pool_size: int = 300, row_depth: int | None = None) -> Homepage:  # fmt: skip
    """Build one homepage per member (vectorized over the batch).

    Parameters
    ----------
    user_ids : (n,) member ids, only carried into the result.
    member : `MemberInputs` of those members (scores of any recommender, played titles,
        unfinished titles, recent anchors).
    catalog : `PageCatalog`.
    n_rows, n_cols : page shape; ``n_rows * n_cols`` must not exceed the catalog.
    diversity : MMR trade-off in [0, 1]: 0 ranks rows by relevance only, 1 by novelty only.
    priors : additive row-kind priors in z units (default `DEFAULT_PRIORS`).
    pool_size : titles per member (best scored first) that feed top-picks, genre and new rows.
    row_depth : candidates kept per row for refilling after de-duplication (default
        ``3 * n_cols``); the trending row keeps ``n_rows * n_cols`` so a page can always be
        filled.

    Returns
    -------
    `Homepage`; ``.to_frame()`` gives the tidy frame.

    Examples
    --------
    >>> page = build_pages(users, inputs, catalog, n_rows=8, n_cols=9)  # doctest: +SKIP
    >>> page.to_frame().head()  # doctest: +SKIP
    """
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"diversity must be in [0, 1], got {diversity}")
    if n_rows < 1 or n_cols < 1 or n_rows * n_cols > catalog.n_titles:
        raise ValueError(f"cannot fill {n_rows} x {n_cols} distinct titles from a catalog of "
                         f"{catalog.n_titles}")  # fmt: skip
    priors = DEFAULT_PRIORS if priors is None else {**DEFAULT_PRIORS, **priors}
    depth = max(row_depth, n_cols) if row_depth else 3 * n_cols
    z = standardize(member.scores)
    cand, kinds, keys = candidate_rows(member, catalog, depth, pool_size, z)
    # the fallback continues trending, deep enough that some row can always be filled
    trend = _trending_rows(member.played, catalog.trending_order, max(depth, n_rows * n_cols))
    cand = np.concatenate([cand, trend[:, None, :depth]], 1)
    kinds = np.r_[kinds, ROW_KINDS.index("trending"), ROW_KINDS.index("more")]
    keys = np.hstack([keys, np.full((len(trend), 2), -1)])
    prior = np.array([priors.get(k, 0.0) for k in ROW_KINDS])[kinds]
    chosen, titles, values = select_rows(cand, trend, prior, z, catalog, n_rows, n_cols,
                                         diversity)  # fmt: skip
    members = np.arange(len(z))[:, None]
    return Homepage(
        user_id=np.asarray(user_ids), title_id=titles, score=z[members[:, :, None], titles],
        row_kind=kinds[chosen], row_key=np.take_along_axis(keys, chosen, 1), row_score=values,
        genre_names=catalog.genre_names)  # fmt: skip


def title_grid(page: Homepage, titles: pd.DataFrame, member: int = 0) -> pd.DataFrame:
    """One member's page as a table to read: a row per page row, a column per position, names.

    ``member`` is the index of the member within ``page`` (0 for a single-member page).
    """
    frame = page.to_frame()
    frame = frame[frame["user_id"] == page.user_id[member]]
    frame = frame.merge(titles[["title_id", "name"]], on="title_id", how="left")
    return frame.pivot(index=["row_position", "row_id"], columns="col_position", values="name")

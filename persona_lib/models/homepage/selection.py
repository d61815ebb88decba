"""Row selection of the homepage: the stage-wise greedy choice of rows (maximal marginal
relevance over whole rows, with de-duplication) that `persona_lib.models.homepage.page`
describes, vectorized over members.

Every stage ranks, for every member and candidate row at once, the entries not yet on the page
(one cumulative sum per row), so each row shows its first ``n_cols`` free titles; the row of
highest value is placed, and the similarity of every row to it is kept for the next stages.
The arrays that depend only on the page shape are computed once per shape (`_layout`), those
that depend on the members once per call (`_Table`); a stage allocates no (n, T) array.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


def _genre_mix(hist: np.ndarray) -> np.ndarray:
    """L2-normalized genre counts (..., G); rows without a genre stay zero."""
    # counts are small integers: the norm is exact (equal to np.linalg.norm's bit for bit) and
    # is either 0 or at least 1, so max(norm, 1) only replaces the zeros
    norm = np.sqrt(np.add.reduce(hist * hist, axis=-1, keepdims=True))
    return hist / np.maximum(norm, 1.0)


@functools.lru_cache(maxsize=64)
def _layout(n_cand: int, depth: int, deep: int, n_cols: int) -> tuple[np.ndarray, ...]:
    """One member's candidate rows laid end to end: ``n_cand - 1`` rows of ``depth`` columns,
    then the reserve of ``deep``.

    Returns (W,) the row of each column, (J * C,) the columns of each row's first ``n_cols``
    entries, (J,) the last of them and (C,) the position weights ``w_c / sum_c w_c``.
    """
    lengths = np.r_[np.full(n_cand - 1, depth), deep]
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    weight = 1.0 / np.log2(np.arange(n_cols) + 2.0)
    weight /= weight.sum()
    top = first[:, None] + np.arange(n_cols)
    out = (np.repeat(np.arange(n_cand), lengths), top.ravel(), top[:, -1], weight)
    for a in out:
        a.flags.writeable = False  # shared by every call with this shape
    return out


@dataclass(frozen=True, eq=False)  # arrays: compared by identity
class _Table:
    """Every member's candidate rows end to end (`_layout`), as `select_rows` reads them.

    ``ids``, ``idx`` and ``z`` are flat (n * W + 1,): title ids (-1 pads), indices into the
    (n * T + 1,) flags of the (member, title) pairs still free, whose last entry stands for
    every pad (never free), and the member's z-score of each entry; the last position,
    ``void``, reads -1, the pad and 0. ``slot`` (n, W) is where an entry ranked first would go
    in the flat (n * J * C,) row positions; ``genres`` (n, J, G) is the genre mix of each
    row's original first ``n_cols`` titles.
    """

    ids: np.ndarray
    idx: np.ndarray
    z: np.ndarray
    slot: np.ndarray
    genres: np.ndarray
    n_cand: int
    n_cols: int

    @classmethod
    def build(cls, cand, reserve, z, catalog, n_cols: int) -> _Table:
        n, n_cand, n_titles = cand.shape[0], cand.shape[1] + 1, z.shape[1]
        row_of, top, _, _ = _layout(n_cand, cand.shape[2], reserve.shape[1], n_cols)
        ids = np.concatenate([cand.reshape(n, cand.shape[1] * cand.shape[2]), reserve], 1)
        members = np.arange(n)[:, None]
        idx = np.where(ids >= 0, members * n_titles + ids, n * n_titles)
        orig = catalog.genres_padded[ids[:, top].reshape(n, n_cand, n_cols)]  # (n, J, C, G)
        return cls(np.append(ids, -1), np.append(idx, n * n_titles),
                   np.append(np.take_along_axis(z, np.maximum(ids, 0), 1), 0.0),
                   (members * n_cand + row_of) * n_cols - 1,
                   _genre_mix(orig.sum(-2, dtype=np.float64)), n_cand, n_cols)  # fmt: skip

    @property
    def void(self) -> int:
        return self.ids.size - 1

    def first_free(self, free_at: np.ndarray, rank: tuple[np.ndarray, ...]) -> np.ndarray:
        """(n * J, C) positions of each row's first ``n_cols`` free entries (``void`` where a
        row runs short), given the (n * T + 1,) flags of free titles. ``rank`` is scratch:
        (n, W) and its views on the rows of ``depth`` (n, J - 1, depth) and on the reserve
        (n, D), which receive the ranks of free entries within their row."""
        whole, body, reserve = rank
        free = free_at[self.idx[: self.void]].reshape(whole.shape)
        width = body.shape[1] * body.shape[2]  # the columns before the reserve
        np.cumsum(free[:, :width].reshape(body.shape), axis=2, dtype=np.int32, out=body)
        np.cumsum(free[:, width:], axis=1, dtype=np.int32, out=reserve)
        hit = np.nonzero((free & (whole <= self.n_cols)).ravel())[0]
        pos = np.full((whole.shape[0] * self.n_cand, self.n_cols), self.void)
        pos.ravel()[(self.slot + whole).ravel()[hit]] = hit
        return pos


def select_rows(cand, reserve, prior, z, catalog, n_rows: int, n_cols: int, diversity: float):
    """Stage-wise greedy (MMR) row selection with de-duplication.

    ``cand`` is (n, J - 1, depth); ``reserve`` (n, D) is row J - 1, deep enough (D >= R * C)
    to be fillable at any stage, and chosen only when no other row can be filled. ``prior``
    (J,) is each row's kind prior, ``z`` (n, T) the members' standardized scores, ``catalog``
    the `PageCatalog` (its genres). Returns (n, R) chosen row indices, (n, R, C) titles and
    (n, R) row values.

    Each stage ranks the free entries of every candidate row (`_Table.first_free`); a row's
    overlap with the row just placed is the drop in the free entries among its original
    first ``n_cols`` titles.
    """
    n, n_cand, body = cand.shape[0], cand.shape[1] + 1, cand.shape[1] * cand.shape[2]
    table = _Table.build(cand, reserve, z, catalog, n_cols)
    _, _, top_last, weight = _layout(n_cand, cand.shape[2], reserve.shape[1], n_cols)
    whole = np.zeros((n, body + reserve.shape[1]), dtype=np.int32)
    # views, written in place (splitting the contiguous last axis never copies)
    rank = (whole, whole[:, :body].reshape(cand.shape), whole[:, body:])
    free_at = np.ones(n * z.shape[1] + 1, dtype=bool)
    free_at[-1] = False  # the pads are never free
    members, keep = np.arange(n), 1 - diversity
    first_j = members * n_cand
    max_sim, cosine, top_free = np.zeros((n, n_cand)), np.zeros((n, n_cand)), None
    avail = np.ones(n * n_cand, dtype=bool)
    chosen, values = np.zeros((n, n_rows), dtype=np.int64), np.zeros((n, n_rows))
    titles = np.zeros((n, n_rows, n_cols), dtype=np.int64)
    for r in range(n_rows):
        pos = table.first_free(free_at, rank)
        top_free, last_free = whole[:, top_last], top_free
        if r:  # similarity to the row placed last: its overlap and genre cosine with each row
            overlap = (last_free - top_free) / n_cols
            max_sim = np.maximum(max_sim, 0.5 * (overlap + cosine))
        ok = ((pos[:, -1] < table.void) & avail).reshape(n, n_cand)
        relevance = np.add.reduce(table.z[pos] * weight, axis=-1).reshape(n, n_cand)
        value = np.where(ok, keep * (relevance + prior) - diversity * max_sim, -np.inf)
        j = value[:, :-1].argmax(1)
        if not ok[members, j].all():
            j = np.where(ok[members, j], j, n_cand - 1)  # nothing else fits: the fallback row
            if not ok[members, j].all():
                raise ValueError(f"not enough titles to fill {n_rows} rows of {n_cols} "
                                 "distinct titles")  # fmt: skip
        at = first_j + j
        shown = pos[at]
        row = table.ids[shown]
        chosen[:, r], titles[:, r], values[:, r] = j, row, value.ravel()[at]
        avail[at] = j == n_cand - 1
        free_at[table.idx[shown]] = False
        if r + 1 < n_rows:
            mix = _genre_mix(np.add.reduce(catalog.genre_counts[row], axis=1))
            cosine = np.add.reduce(table.genres * mix[:, None, :], axis=-1)
    return chosen, titles, values

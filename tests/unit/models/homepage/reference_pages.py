"""The pre-optimization homepage builder, kept as a test oracle (not used by the library).

The functions below are the implementation of commit 4176115 (before the real-time scorer was
made faster), copied unchanged from ``persona_lib/models/homepage/page.py`` (`standardize`,
`_first_valid`, `_trending_rows`, `candidate_rows`, `_row_genres`, `select_rows`,
`build_pages`), ``scorer.py`` (``HomepageScorer.scores``, ``_blend``, ``inputs``, ``page``,
``pages``, ``_with_recent``, ``_refresh_scores``) and ``history.py`` (``MemberHistory.rows``),
with methods turned into functions of the scorer. `reference_page` and `reference_pages`
rebuild what ``scorer.page`` and ``scorer.pages`` returned then, from the scorer's fitted state
(model, history, catalog, page options), so `test_same_pages.py` can assert that the optimized
code serves exactly the same pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from persona_lib.models.recommenders.base import top_k
from persona_lib.models.recommenders.factorization import ALSRecommender

ROW_KINDS = ("continue", "top_picks", "because", "genre", "trending", "new", "more")
DEFAULT_PRIORS = {"continue": 0.5, "top_picks": 0.25, "because": 0.0, "genre": 0.0,
                  "trending": 0.0, "new": -0.25}  # fmt: skip


@dataclass(frozen=True)
class MemberInputs:
    """One batch of members: ``scores`` and ``played`` are (n, T); ``continue_ids`` (n, L) and
    ``anchors`` (n, A) hold title ids, most recent first, padded with -1."""

    scores: np.ndarray
    played: np.ndarray
    continue_ids: np.ndarray
    anchors: np.ndarray


# --- page.py ---------------------------------------------------------------------------------


def trending_order(catalog) -> np.ndarray:
    """Title ids by decreasing trending score (ties to the lower id)."""
    return np.lexsort((np.arange(catalog.n_titles), -catalog.trending))


def standardize(scores: np.ndarray) -> np.ndarray:
    """Per-row z-scores (float64); a constant row gets zeros."""
    s = np.asarray(scores, dtype=np.float64)
    std = s.std(axis=1, keepdims=True)
    return (s - s.mean(axis=1, keepdims=True)) / np.where(std > 0, std, 1.0)


def _first_valid(cand: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """The first k entries of ``cand`` along the last axis where ``valid``, padded with -1."""
    width = cand.shape[-1]
    rank = np.cumsum(valid, axis=-1, dtype=np.int32)
    hit = np.flatnonzero(valid & (rank <= k))
    out = np.full(cand.size // max(width, 1) * k, -1, dtype=np.int64)
    out[hit // width * k + rank.ravel()[hit] - 1] = cand.ravel()[hit]
    return out.reshape(*cand.shape[:-1], k)


def _trending_rows(played: np.ndarray, order: np.ndarray, depth: int) -> np.ndarray:
    """(n, depth) titles by trend, the member's unplayed titles first (so never short)."""
    prefix = order[: min(order.size, depth + int(played.sum(1).max(initial=0)))]
    seen = played[:, prefix]
    both = np.hstack([np.where(seen, -1, prefix), np.where(seen, prefix, -1)])
    return _first_valid(both, both >= 0, depth)


def candidate_rows(member: MemberInputs, catalog, depth: int, pool_size: int):
    """Candidate titles of every row: (n, J, depth) ids (-1 pads), (J,) kinds, (n, J) keys."""
    z = standardize(member.scores)
    n, n_titles = z.shape
    fresh = np.where(member.played, -np.inf, z)
    pool, best = top_k(fresh, min(n_titles, max(pool_size, depth)))
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
    flags = np.hstack([catalog.genres, catalog.new[:, None]])
    mask = flags[np.maximum(pool, 0)].transpose(0, 2, 1) & (pool >= 0)[:, None, :]
    rows.append(_first_valid(np.broadcast_to(pool[:, None, :], mask.shape), mask, depth))
    n_genres = len(catalog.genre_names)
    kinds += [ROW_KINDS.index("genre")] * n_genres + [ROW_KINDS.index("new")]
    keys.append(np.broadcast_to(np.r_[np.arange(n_genres), -1], (n, n_genres + 1)))
    return np.concatenate(rows, 1), np.array(kinds), np.hstack(keys)


def _row_genres(titles: np.ndarray, genres: np.ndarray) -> np.ndarray:
    """L2-normalized genre counts of each row of titles (-1 ignored): (..., C) -> (..., G)."""
    hist = (genres[np.maximum(titles, 0)] & (titles >= 0)[..., None]).sum(-2, dtype=np.float64)
    norm = np.linalg.norm(hist, axis=-1, keepdims=True)
    return hist / np.where(norm > 0, norm, 1.0)


def select_rows(cand, reserve, kinds, z, genres, n_rows: int, n_cols: int, diversity: float,
                priors: dict[str, float]):  # fmt: skip
    """Stage-wise greedy (MMR) row selection with de-duplication."""
    n, n_cand = cand.shape[0], cand.shape[1] + 1
    n_titles = z.shape[1]
    members = np.arange(n)
    base = members[:, None, None] * n_titles
    placed = np.zeros(z.size, dtype=bool)
    orig = np.concatenate([cand[:, :, :n_cols], reserve[:, None, :n_cols]], 1)
    orig_flat = base + np.maximum(orig, 0)
    orig_genres = _row_genres(orig, genres)
    cand_flat = base + np.maximum(cand, 0)
    reserve_flat = base[:, 0] + np.maximum(reserve, 0)
    prior = np.array([priors.get(k, 0.0) for k in ROW_KINDS])[kinds]
    weight = 1.0 / np.log2(np.arange(n_cols) + 2.0)
    weight /= weight.sum()
    max_sim = np.zeros((n, n_cand))
    used = np.zeros((n, n_cand), dtype=bool)
    chosen = np.zeros((n, n_rows), dtype=np.int64)
    titles = np.zeros((n, n_rows, n_cols), dtype=np.int64)
    values = np.zeros((n, n_rows))
    z_flat = z.ravel()
    for r in range(n_rows):
        shown = np.concatenate(
            [
                _first_valid(cand, (cand >= 0) & ~placed[cand_flat], n_cols),
                _first_valid(reserve, (reserve >= 0) & ~placed[reserve_flat], n_cols)[:, None],
            ],
            1,
        )
        ok = (shown[:, :, -1] >= 0) & ~used
        ok[:, -1] = shown[:, -1, -1] >= 0
        relevance = (z_flat[base + np.maximum(shown, 0)] * weight).sum(-1)
        value = (1 - diversity) * (relevance + prior) - diversity * max_sim
        value = np.where(ok, value, -np.inf)
        j = np.argmax(value[:, :-1], axis=1)
        j[~ok[members, j]] = n_cand - 1  # nothing else fits: the fallback row
        if not np.all(ok[members, j]):
            raise ValueError(f"not enough titles to fill {n_rows} rows of {n_cols} distinct titles")
        row = shown[members, j]
        chosen[:, r], titles[:, r], values[:, r] = j, row, value[members, j]
        used[members, j] = j < n_cand - 1
        row_flat = (members[:, None] * n_titles + row).ravel()
        placed[row_flat] = True
        this_row = np.zeros(z.size, dtype=bool)
        this_row[row_flat] = True
        overlap = (this_row[orig_flat] & (orig >= 0)).mean(-1)
        cosine = (orig_genres * _row_genres(row, genres)[:, None, :]).sum(-1)
        max_sim = np.maximum(max_sim, 0.5 * (overlap + cosine))
    return chosen, titles, values


def build_pages(user_ids, member: MemberInputs, catalog, n_rows: int, n_cols: int,
                diversity: float = 0.3, priors: dict[str, float] | None = None,
                pool_size: int = 300, row_depth: int | None = None) -> dict:  # fmt: skip
    """The pages as a dict of the `Homepage` fields (validation left out)."""
    priors = DEFAULT_PRIORS if priors is None else {**DEFAULT_PRIORS, **priors}
    depth = max(row_depth, n_cols) if row_depth else 3 * n_cols
    cand, kinds, keys = candidate_rows(member, catalog, depth, pool_size)
    # the fallback continues trending, deep enough that some row can always be filled
    trend = _trending_rows(member.played, trending_order(catalog), max(depth, n_rows * n_cols))
    cand = np.concatenate([cand, trend[:, None, :depth]], 1)
    kinds = np.r_[kinds, ROW_KINDS.index("trending"), ROW_KINDS.index("more")]
    keys = np.hstack([keys, np.full((len(trend), 2), -1)])
    z = standardize(member.scores)
    chosen, titles, values = select_rows(cand, trend, kinds, z, catalog.genres, n_rows, n_cols,
                                         diversity, priors)  # fmt: skip
    members = np.arange(len(z))[:, None]
    return {
        "user_id": np.asarray(user_ids), "title_id": titles,
        "score": z[members[:, :, None], titles], "row_kind": kinds[chosen],
        "row_key": np.take_along_axis(keys, chosen, 1), "row_score": values,
    }  # fmt: skip


# --- history.py: MemberHistory.rows ------------------------------------------------------------


def history_rows(history, user_ids: np.ndarray):
    """Dense played (n, T) bool, continue (n, L) and anchors (n, A) of some members."""
    users = np.asarray(user_ids, dtype=np.int64)
    known = users < history.n_users
    safe = np.where(known, users, 0)
    played = history.played_[safe].toarray() & known[:, None]
    unknown = ~known[:, None]
    return (
        played,
        np.where(unknown, -1, history.continue_[safe]),
        np.where(unknown, -1, history.anchors_[safe]),
    )


# --- scorer.py: HomepageScorer's page path ---------------------------------------------------


def _blend(scorer, scores: np.ndarray) -> np.ndarray:
    if not scorer.popularity_weight:
        return scores
    popular = standardize(np.log1p(scorer.history.popularity_)[None, :])
    return standardize(scores) + scorer.popularity_weight * popular


def scores_of(scorer, user_ids) -> np.ndarray:
    """Dense (n, T) scores; members unknown to the model get log popularity."""
    users = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
    popular = np.log1p(scorer.history.popularity_)[None, :]
    out = np.repeat(popular, users.size, axis=0)
    if scorer.model is not None:
        known = users < scorer.model.n_users_
        if known.any():
            out[known] = scorer.model._score_users(users[known])  # the dense-score hook
        return _blend(scorer, out)
    return out


def inputs_of(scorer, user_ids) -> MemberInputs:
    users = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
    played, cont, anchors = history_rows(scorer.history, users)
    return MemberInputs(scores_of(scorer, users), played, cont, anchors)


def _with_recent(scorer, user: int, inputs: MemberInputs, recent: np.ndarray) -> MemberInputs:
    played = inputs.played.copy()
    played[0, recent] = True
    newest = pd.unique(np.concatenate([recent[::-1], inputs.anchors[0]]))
    width = inputs.anchors.shape[1]
    anchors = np.full((1, width), -1)
    newest = newest[newest >= 0][:width]
    anchors[0, : newest.size] = newest
    scores = _refresh_scores(scorer, user, recent, inputs.scores)
    return MemberInputs(scores, played, inputs.continue_ids, anchors)


def _refresh_scores(scorer, user: int, recent: np.ndarray, scores: np.ndarray) -> np.ndarray:
    model = scorer.model
    if model is None or not hasattr(model, "seen_"):
        return scores
    row = np.zeros(model.n_titles_)
    if user < model.n_users_:
        row += model.seen_[user].toarray().ravel()
    if isinstance(model, ALSRecommender):
        v = np.asarray(model.item_factors_, dtype=np.float64)
        gram = v.T @ v + model.regularization * np.eye(v.shape[1])
        new_weight = float(np.median(model.seen_.data)) if model.seen_.nnz else 1.0
        row[recent] = np.maximum(row[recent], new_weight)
        idx = np.flatnonzero(row)
        vi, c = v[idx], model.alpha * row[idx]
        x = np.linalg.solve(gram + vi.T @ ((c - 1.0)[:, None] * vi), vi.T @ c)
        return _blend(scorer, (x @ v.T)[None, :])
    if hasattr(model, "weights_"):
        row[recent] = 1.0
        row = (row > 0).astype(np.float64) if model.binarize else row
        return _blend(scorer, (row @ model.weights_)[None, :])
    if hasattr(model, "similarity_"):
        row[recent] = np.maximum(row[recent], 1.0)
        return _blend(scorer, np.asarray(model.similarity_.T @ row)[None, :])
    return scores


def reference_pages(scorer, user_ids, n_rows: int = 8, n_cols: int = 9) -> dict:
    """What ``scorer.pages(user_ids, n_rows, n_cols)`` returned before the optimization."""
    users = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
    return build_pages(users, inputs_of(scorer, users), scorer.catalog, n_rows, n_cols,
                       scorer.diversity, scorer.priors, scorer.pool_size)  # fmt: skip


def reference_page(scorer, user_id: int, history=None, n_rows: int = 8, n_cols: int = 9) -> dict:
    """What ``scorer.page(user_id, history, n_rows, n_cols)`` returned before the optimization."""
    users = np.array([int(user_id)])
    inputs = inputs_of(scorer, users)
    if history is not None and len(history):
        inputs = _with_recent(scorer, users[0], inputs, np.asarray(history, dtype=np.int64))
    return build_pages(users, inputs, scorer.catalog, n_rows, n_cols, scorer.diversity,
                       scorer.priors, scorer.pool_size)  # fmt: skip

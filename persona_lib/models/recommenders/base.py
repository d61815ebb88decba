"""The `Recommender` contract: one set of verbs for every model.

A recommender learns from a member x title matrix of confidence weights (rows are ``user_id``,
columns ``title_id``, both contiguous integers from 0) and answers three questions:

- ``recommend(user_ids, k)``: the top k titles per member, as a tidy frame;
- ``score(user_ids, title_ids)``: the model's score of given (member, title) pairs;
- ``fit(interactions)``: learn, from a sparse matrix, a (user_id, title_id, weight) frame, or an
  events log (turned into confidence weights by `persona_lib.signals.confidence_weights`).

A subclass implements only ``_fit(matrix)`` and ``_score_users(user_idx)`` (dense scores of every
title for a batch of members); it may override ``_score_pairs`` when pairs are cheaper to score
directly. Ranking ties are broken by the lower ``title_id``, so results are deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.signals.feedback import confidence_weights, interaction_matrix

RECOMMENDATION_COLUMNS = ("user_id", "title_id", "score", "rank")


def as_interactions(
    interactions, n_users: int | None = None, n_titles: int | None = None, titles=None
) -> sp.csr_matrix:
    """A float32 ``scipy.sparse.csr_matrix`` of confidence weights from any accepted input.

    Parameters
    ----------
    interactions : csr_matrix / sparse array (members x titles), DataFrame with
        ``user_id, title_id`` and optionally ``weight`` (1 when absent), or an events log (has
        ``event_type``; needs ``titles`` for runtimes).
    n_users, n_titles : shape of the matrix; default one past the largest id seen.
    titles : titles table, required for an events log.
    """
    if sp.issparse(interactions):
        matrix = sp.csr_matrix(interactions, dtype=np.float32)
        if n_users is not None or n_titles is not None:
            rows = n_users if n_users is not None else matrix.shape[0]
            cols = n_titles if n_titles is not None else matrix.shape[1]
            if rows < matrix.shape[0] or cols < matrix.shape[1]:
                raise ValueError(f"matrix of shape {matrix.shape} does not fit ({rows}, {cols})")
            matrix.resize((rows, cols))
        return matrix
    if not isinstance(interactions, pd.DataFrame):
        kind = type(interactions).__name__
        raise TypeError(f"interactions must be a sparse matrix or a DataFrame, not {kind}")
    frame = interactions
    if "event_type" in frame.columns:
        if titles is None:
            raise ValueError("fitting on an events log needs the titles table (runtimes)")
        frame = confidence_weights(frame, titles)
    missing = {"user_id", "title_id"} - set(frame.columns)
    if missing:
        raise ValueError(f"interactions frame lacks columns {sorted(missing)}")
    if "weight" not in frame.columns:
        frame = frame.assign(weight=1.0)
    rows = int(frame["user_id"].max()) + 1 if n_users is None else n_users
    cols = int(frame["title_id"].max()) + 1 if n_titles is None else n_titles
    return interaction_matrix(frame, n_users=rows, n_titles=cols)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and scores of the k best entries per row, best first.

    Ties are broken by the lower column index; ``-inf`` entries are never returned (rows with
    fewer than k finite scores return fewer, padded with index -1 and score -inf).
    """
    n_rows, n_cols = scores.shape
    k = min(k, n_cols)
    if k <= 0:
        return np.empty((n_rows, 0), np.int64), np.empty((n_rows, 0), scores.dtype)
    part = (
        np.argpartition(-scores, k - 1, axis=1)[:, :k]
        if k < n_cols
        else (np.broadcast_to(np.arange(n_cols), (n_rows, n_cols)).copy())
    )
    part_scores = np.take_along_axis(scores, part, axis=1)
    # argpartition may cut through a group of tied scores: widen to every tied candidate
    kth = part_scores.min(axis=1, keepdims=True)
    if k < n_cols and np.any((scores == kth).sum(axis=1) > (part_scores == kth).sum(axis=1)):
        part = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    best = np.take_along_axis(part_scores, order, axis=1)
    idx = np.where(np.isneginf(best), -1, idx)
    return idx, best


def check_k(k) -> None:
    """Raise a clear error unless ``k`` (the list length) is a positive integer."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


class Recommender:
    """Base class: validation, batching, seen-item exclusion and the output frame.

    Learned attributes end in ``_``: ``n_users_``, ``n_titles_``, ``seen_`` (the fitted matrix).
    """

    batch_size = 2048

    def fit(
        self, interactions, n_users: int | None = None, n_titles: int | None = None, titles=None
    ) -> Recommender:
        """Learn from interactions (see `as_interactions`); returns self."""
        matrix = as_interactions(interactions, n_users, n_titles, titles)
        self.n_users_, self.n_titles_ = matrix.shape
        self.seen_ = matrix
        self._fit(matrix)
        return self

    def recommend(self, user_ids, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-k titles per member: a frame ``user_id, title_id, score, rank`` (rank 1 = best).

        Members are returned in the order given; a member with fewer than k eligible titles gets
        fewer rows. With ``exclude_seen`` the titles in the member's fitted row are never
        returned.
        """
        users = self._check_users(user_ids)
        check_k(k)
        parts = [empty_recommendations()]
        for start in range(0, users.size, self.batch_size):
            batch = users[start : start + self.batch_size]
            scores = np.array(self._score_users(batch), dtype=np.float64)
            if exclude_seen:
                scores[self.seen_[batch].nonzero()] = -np.inf
            idx, best = top_k(scores, k)
            keep = idx >= 0
            parts.append(pd.DataFrame({
                "user_id": np.repeat(batch, keep.sum(axis=1)).astype(np.int32),
                "title_id": idx[keep].astype(np.int32),
                "score": best[keep],
                "rank": (np.cumsum(keep, axis=1)[keep]).astype(np.int32),
            }))  # fmt: skip
        return pd.concat(parts, ignore_index=True)

    def score(self, user_ids, title_ids) -> np.ndarray:
        """Scores of (member, title) pairs given as two equal-length arrays."""
        users = self._check_users(user_ids)
        titles = np.asarray(title_ids, dtype=np.int64)
        if titles.shape != users.shape:
            raise ValueError("user_ids and title_ids must have the same length")
        bad = titles[(titles < 0) | (titles >= self.n_titles_)]
        if bad.size:
            raise ValueError(
                f"unknown title_ids {np.unique(bad)[:5].tolist()}: "
                f"title_ids must lie in [0, {self.n_titles_})"
            )
        return self._score_pairs(users, titles)

    # -- for subclasses ------------------------------------------------------------------------
    def _fit(self, matrix: sp.csr_matrix) -> None:
        raise NotImplementedError

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """Dense (len(user_idx), n_titles) scores."""
        raise NotImplementedError

    def _score_pairs(self, users: np.ndarray, titles: np.ndarray) -> np.ndarray:
        out = np.empty(users.size, dtype=np.float64)
        order = np.argsort(users, kind="stable")
        unique, starts = np.unique(users[order], return_index=True)
        for chunk in range(0, unique.size, self.batch_size):
            batch = unique[chunk : chunk + self.batch_size]
            dense = np.asarray(self._score_users(batch), dtype=np.float64)
            lo = starts[chunk]
            hi = starts[chunk + batch.size] if chunk + batch.size < unique.size else users.size
            rows = np.searchsorted(batch, users[order[lo:hi]])
            out[order[lo:hi]] = dense[rows, titles[order[lo:hi]]]
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_users_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() first")

    def _check_users(self, user_ids) -> np.ndarray:
        self._check_fitted()
        users = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
        bad = users[(users < 0) | (users >= self.n_users_)]
        if bad.size:
            raise ValueError(
                f"unknown user_ids {np.unique(bad)[:5].tolist()}: "
                f"user_ids must lie in [0, {self.n_users_})"
            )
        return users


def empty_recommendations() -> pd.DataFrame:
    """The recommendation frame with no rows but the right dtypes."""
    return pd.DataFrame({
        "user_id": np.empty(0, np.int32),
        "title_id": np.empty(0, np.int32),
        "score": np.empty(0, np.float64),
        "rank": np.empty(0, np.int32),
    })  # fmt: skip

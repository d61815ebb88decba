"""Real-time homepage scoring: everything a page needs, precomputed from a fitted recommender.

`HomepageScorer.from_recommender` computes once the title neighbours (from the model's factors,
item-item weights or content vectors, else co-plays), the genre and new-release flags and the
trending scores; afterwards ``scorer.page(user_id)`` scores one member's catalog (one dot product
per title for a factor model) and builds the page with the batch builder of
`persona_lib.models.homepage.page`, so one member's page equals that member's page in a batch.

``page(user_id, history=[...])`` takes titles the member has just played: they are marked as
played, become the newest "because you watched" anchors, and the scores follow at once: ALS
members are folded in (one ridge solve with the title factors fixed, Hu, Koren & Volinsky
2008, eq. 4) and item-item models (EASE, item-kNN) add the new titles' rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.data import schema
from persona_lib.models.homepage.history import (
    MemberHistory,
    dense_rows,
    genre_matrix,
    new_releases,
    trending_scores,
)
from persona_lib.models.homepage.page import (
    Homepage,
    MemberInputs,
    PageCatalog,
    build_pages,
    standardize,
)
from persona_lib.models.recommenders.base import top_k
from persona_lib.models.recommenders.factorization import ALSRecommender
from persona_lib.models.recommenders.item_knn import cosine_neighbours


def title_similarity(model, history: MemberHistory | None = None) -> np.ndarray:
    """Dense (T, T) title-title similarity from a fitted model.

    Cosine of title factors (ALS, BPR), the EASE weights, the item-kNN similarities or the
    cosine of content vectors; for other models (popularity, or ``model=None``) the cosine of
    co-plays in the fitted matrix or in ``history``.
    """
    if hasattr(model, "item_factors_"):
        v = np.asarray(model.item_factors_, dtype=np.float64)
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return v @ v.T
    if hasattr(model, "weights_"):
        return np.asarray(model.weights_, dtype=np.float64)
    if hasattr(model, "similarity_"):
        return model.similarity_.toarray()
    if hasattr(model, "item_vectors_"):
        return (model.item_vectors_ @ model.item_vectors_.T).toarray()
    plays = model.seen_ if model is not None else history.played_
    return cosine_neighbours(sp.csr_matrix(plays, dtype=np.float32), plays.shape[1]).toarray()


def title_neighbours(similarity: np.ndarray, k: int) -> np.ndarray:
    """(T, k) most similar other titles, best first; -1 where the similarity is not positive."""
    sim = np.array(similarity, dtype=np.float64)
    np.fill_diagonal(sim, -np.inf)
    sim[~(sim > 0)] = -np.inf
    idx, best = top_k(sim, k)
    return np.where(np.isfinite(best), idx, -1)


class HomepageScorer:
    """Pages for one member or a batch from precomputed inputs (see the module docstring).

    Build with `from_recommender`. ``model=None`` scores every member by popularity (the
    titles' play counts in ``history``): the cold-start page.

    Attributes
    ----------
    catalog : `PageCatalog`; history : `MemberHistory`; model : the fitted recommender or None.
    """

    def __init__(self, catalog: PageCatalog, history: MemberHistory, model=None,
                 diversity: float = 0.3, priors: dict | None = None, pool_size: int = 300,
                 popularity_weight: float = 0.0):  # fmt: skip
        self.catalog, self.history, self.model = catalog, history, model
        self.popularity_weight = popularity_weight
        self.diversity, self.priors, self.pool_size = diversity, priors, pool_size
        self._popular = (None, None, None)  # see `_popularity`
        if isinstance(model, ALSRecommender):
            v = np.asarray(model.item_factors_, dtype=np.float64)
            self._factors = v  # converted once, not per folded-in member
            self._gram = v.T @ v + model.regularization * np.eye(v.shape[1])
            self._new_weight = float(np.median(model.seen_.data)) if model.seen_.nnz else 1.0

    @classmethod
    def from_recommender(cls, model, titles: pd.DataFrame, events: pd.DataFrame | None = None,
                         history: MemberHistory | None = None, trending: np.ndarray | None = None,
                         n_neighbours: int = 50, new_years: int = 2, **page_options):  # fmt: skip
        """Precompute a scorer.

        Parameters
        ----------
        model : a fitted `Recommender` (or None for the popularity page).
        titles : the catalog.
        events : the log the member state and trending come from (ignored for what ``history``
            and ``trending`` give).
        history : a `MemberHistory` to share (e.g. a serving policy's, updated in place).
        trending : (T,) trending scores; default `trending_scores` of ``events``.
        n_neighbours : neighbours kept per title for "because you watched" rows.
        new_years : release years that count as new.
        **page_options : ``diversity``, ``priors``, ``pool_size`` of `build_pages` and
            ``popularity_weight`` (see `scores`).
        """
        n_titles = len(titles)
        if history is None:
            history = MemberHistory(titles)
            if events is not None:
                history.update(events)
        if trending is None:
            trending = (trending_scores(events, n_titles) if events is not None
                        else history.popularity_.astype(np.float64))  # fmt: skip
        neighbours = title_neighbours(title_similarity(model, history), n_neighbours)
        catalog = PageCatalog(genre_matrix(titles), schema.GENRES, neighbours,
                              np.asarray(trending, dtype=np.float64),
                              new_releases(titles, new_years))  # fmt: skip
        return cls(catalog, history, model, **page_options)

    def scores(self, user_ids) -> np.ndarray:
        """Dense (n, T) scores; members unknown to the model get log popularity.

        With ``popularity_weight`` w the model's standardized scores are blended with the
        standardized log play counts, ``z(model) + w z(log(1 + plays))`` (a hybrid that keeps
        the popularity signal sparse histories lack).
        """
        users = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
        out = np.repeat(self._popularity()[0], users.size, axis=0)
        if self.model is not None:
            known = users < self.model.n_users_
            if known.any():
                out[known] = self.model._score_users(users[known])  # the dense-score hook
            return self._blend(out)
        return out

    def _blend(self, scores: np.ndarray) -> np.ndarray:
        if not self.popularity_weight:
            return scores
        return standardize(scores) + self._popularity()[1]

    def _popularity(self) -> tuple[np.ndarray, np.ndarray]:
        """(1, T) log play counts and their weighted z-scores ``w z(log(1 + plays))``.

        Computed once per state of the history (a shared history replaces ``popularity_`` on
        every update) and of ``popularity_weight``.
        """
        counts, weight = self.history.popularity_, self.popularity_weight
        if self._popular[0] is not counts or self._popular[1] != weight:
            log = np.log1p(counts)[None, :]
            self._popular = (counts, weight, (log, weight * standardize(log)))
        return self._popular[2]

    def inputs(self, user_ids) -> MemberInputs:
        """`MemberInputs` of a batch of members from the model and the history."""
        users = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
        played, cont, anchors = self.history.rows(users)
        return MemberInputs(self.scores(users), played, cont, anchors)

    def pages(self, user_ids, n_rows: int = 8, n_cols: int = 9) -> Homepage:
        """The batch builder: one `Homepage` for many members."""
        users = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
        return self._build(users, self.inputs(users), n_rows, n_cols)

    def page(self, user_id: int, history=None, n_rows: int = 8, n_cols: int = 9) -> Homepage:
        """One member's page (a `Homepage` of one member; ``.to_frame()`` for a table).

        ``history``: title ids the member played since the model was fitted, oldest first.
        """
        users = np.array([int(user_id)])
        inputs = self.inputs(users)
        if history is not None and len(history):
            inputs = self._with_recent(users[0], inputs, np.asarray(history, dtype=np.int64))
        return self._build(users, inputs, n_rows, n_cols)

    def _build(self, users, inputs: MemberInputs, n_rows: int, n_cols: int) -> Homepage:
        return build_pages(users, inputs, self.catalog, n_rows, n_cols, self.diversity,
                           self.priors, self.pool_size)  # fmt: skip

    def _with_recent(self, user: int, inputs: MemberInputs, recent: np.ndarray) -> MemberInputs:
        """Inputs updated with titles just played (see the module docstring)."""
        played = inputs.played.copy()
        played[0, recent] = True
        newest = np.concatenate([recent[::-1], inputs.anchors[0]])
        newest = newest[np.sort(np.unique(newest, return_index=True)[1])]  # first occurrences
        width = inputs.anchors.shape[1]
        anchors = np.full((1, width), -1)
        newest = newest[newest >= 0][:width]
        anchors[0, : newest.size] = newest
        scores = self._refresh_scores(user, recent, inputs.scores)
        return MemberInputs(scores, played, inputs.continue_ids, anchors)

    def _refresh_scores(self, user: int, recent: np.ndarray, scores: np.ndarray) -> np.ndarray:
        model = self.model
        if model is None or not hasattr(model, "seen_"):
            return scores
        row = np.zeros(model.n_titles_)
        if user < model.n_users_:
            row += dense_rows(model.seen_, [user])[0]
        if isinstance(model, ALSRecommender):
            row[recent] = np.maximum(row[recent], self._new_weight)
            v = self._factors
            idx = np.flatnonzero(row)
            vi, c = v[idx], model.alpha * row[idx]
            x = np.linalg.solve(self._gram + vi.T @ ((c - 1.0)[:, None] * vi), vi.T @ c)
            return self._blend((x @ v.T)[None, :])
        if hasattr(model, "weights_"):
            row[recent] = 1.0
            row = (row > 0).astype(np.float64) if model.binarize else row
            return self._blend((row @ model.weights_)[None, :])
        if hasattr(model, "similarity_"):
            row[recent] = np.maximum(row[recent], 1.0)
            return self._blend(np.asarray(model.similarity_.T @ row)[None, :])
        return scores

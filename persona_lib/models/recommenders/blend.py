"""A score-level blend of several recommenders, with weights chosen on a validation split."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.models.recommenders.base import Recommender, top_k


def standardize_rows(scores: np.ndarray, seen: sp.csr_matrix) -> np.ndarray:
    """Per-row z-scores, the mean and standard deviation taken over the row's unseen titles.

    ``z_uj = (s_uj - mean_u) / std_u`` with ``mean_u, std_u`` over the titles j where
    ``seen[u, j] == 0``; seen titles are transformed with the same ``mean_u, std_u`` (so a blend
    scores them consistently). A row with fewer than two unseen titles or a constant one maps to
    zeros.

    Parameters
    ----------
    scores : ndarray (n_rows, n_titles)
    seen : csr_matrix (n_rows, n_titles), the fitted interactions of those rows.

    Returns
    -------
    ndarray (n_rows, n_titles), float64.

    Examples
    --------
    >>> standardize_rows(np.array([[1.0, 2.0, 3.0, 9.0]]), sp.csr_matrix([[0, 0, 0, 1]]))
    array([[-1.22474487,  0.        ,  1.22474487,  8.5732141 ]])
    """
    scores = np.asarray(scores, dtype=np.float64)
    unseen = 1.0 - (sp.csr_matrix(seen) != 0).toarray()
    count = unseen.sum(axis=1, keepdims=True)
    safe = np.maximum(count, 1.0)
    mean = (scores * unseen).sum(axis=1, keepdims=True) / safe
    var = (((scores - mean) * unseen) ** 2).sum(axis=1, keepdims=True) / safe
    std = np.sqrt(var)
    usable = (count >= 2) & (std > 1e-12 * np.maximum(np.abs(mean), 1.0))
    return np.where(usable, (scores - mean) / np.where(usable, std, 1.0), 0.0)


class BlendRecommender(Recommender):
    """Weighted sum of the standardized scores of several member recommenders.

    Each member is fitted on the same interactions; a member's scores of a member-row are turned
    into z-scores over that row's unseen titles (`standardize_rows`), so members on different
    scales (EASE reconstructions, ALS dot products, kNN sums) become comparable, and::

        score_uj = sum_m w_m z_m(u, j)

    Weights are either given or chosen by `fit_weights` on a validation split: a grid search
    that maximizes a caller-supplied ranking metric (models do not import the evaluation layer).

    Parameters
    ----------
    models : dict of name -> unfitted `Recommender`
        Copied (``copy.deepcopy``) before fitting; the objects passed are left untouched.
    weights : dict of name -> float, or None
        Non-negative weight per member, at least one positive; None weighs members equally.

    Attributes
    ----------
    models_ : dict of name -> fitted `Recommender`
    weights_ : dict of name -> float, the weights in use (the constructor's, or `fit_weights`').
    weight_scores_ : list of dict, after `fit_weights`: every grid point and its metric.

    Examples
    --------
    >>> blend = BlendRecommender({"ease": EASERecommender(), "als": ALSRecommender()},
    ...                          weights={"ease": 1.0, "als": 0.5})  # doctest: +SKIP
    >>> blend.fit(interactions).recommend([0, 1], k=10)  # doctest: +SKIP
    """

    def __init__(
        self, models: Mapping[str, Recommender], weights: Mapping[str, float] | None = None
    ):
        self.models = models
        self.weights = weights

    def _fit(self, matrix: sp.csr_matrix) -> None:
        if not self.models:
            raise ValueError("a blend needs at least one member model")
        weights = dict.fromkeys(self.models, 1.0) if self.weights is None else self.weights
        self.weights_ = self._check_weights(weights)
        self.models_ = {}
        for name, model in self.models.items():
            fitted = copy.deepcopy(model)
            fitted.fit(matrix)
            self.models_[name] = fitted

    def _check_weights(self, weights: Mapping[str, float]) -> dict[str, float]:
        if set(weights) != set(self.models):
            members, named = sorted(self.models), sorted(weights)
            raise ValueError(f"weights must name exactly the members {members}, got {named}")
        values = {name: float(weights[name]) for name in self.models}
        if any(not np.isfinite(w) or w < 0 for w in values.values()):
            raise ValueError(f"weights must be finite and >= 0, got {values}")
        if not any(w > 0 for w in values.values()):
            raise ValueError("at least one weight must be > 0")
        return values

    def member_scores(self, user_idx: np.ndarray) -> dict[str, np.ndarray]:
        """Standardized scores of every member for a batch of members: name -> (n, n_titles)."""
        seen = self.seen_[user_idx]
        return {
            name: standardize_rows(model._score_users(user_idx), seen)
            for name, model in self.models_.items()
        }

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        members = self.member_scores(user_idx)
        total = np.zeros((len(user_idx), self.n_titles_))
        for name, weight in self.weights_.items():
            if weight:
                total += weight * members[name]
        return total

    def fit_weights(
        self,
        truth: pd.DataFrame,
        grid: Mapping[str, Sequence[float]],
        metric: Callable[[pd.DataFrame, pd.DataFrame], float],
        k: int = 10,
    ) -> BlendRecommender:
        """Choose ``weights_`` by a grid search on validation interactions; returns self.

        Every combination of the per-member weight lists in ``grid`` (all-zero ones skipped) is
        scored: the blend's top k unseen titles of each member in ``truth`` go to
        ``metric(truth, predictions)`` (e.g. ``functools.partial(ndcg_at_k, k=10)``). The best
        combination wins; ties go to the earliest in grid order. Call after `fit` on data that
        excludes ``truth``.

        Parameters
        ----------
        truth : ``user_id, title_id`` of the held-out (validation) interactions.
        grid : name -> candidate weights, one list per member.
        metric : higher is better; takes ``truth`` and a ``user_id, title_id, score`` frame.
        k : list length passed to the metric's predictions.
        """
        self._check_fitted()
        if set(grid) != set(self.models_):
            raise ValueError(f"grid must name exactly the members {sorted(self.models_)}")
        users = self._check_users(np.unique(truth["user_id"].to_numpy()))
        members = self.member_scores(users)
        seen = self.seen_[users].nonzero()
        names = list(self.models_)
        results, best = [], None
        for values in itertools.product(*(grid[name] for name in names)):
            if not any(v > 0 for v in values):
                continue
            weights = self._check_weights(dict(zip(names, values, strict=True)))
            total = sum(w * members[name] for name, w in weights.items())
            total[seen] = -np.inf
            idx, best_scores = top_k(total, k)
            keep = idx >= 0
            predictions = pd.DataFrame({
                "user_id": np.repeat(users, keep.sum(axis=1)),
                "title_id": idx[keep],
                "score": best_scores[keep],
            })  # fmt: skip
            value = float(metric(truth, predictions))
            results.append({**weights, "metric": value})
            if best is None or value > best[0]:
                best = (value, weights)
        if best is None:
            raise ValueError("the grid has no combination with a positive weight")
        self.weights_ = best[1]
        self.weight_scores_ = results
        return self

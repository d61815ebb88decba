"""Most-popular titles: the baseline every personalized model has to beat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.models.recommenders.base import Recommender, as_interactions

POPULARITY_KINDS = ("weight", "members")


class PopularityRecommender(Recommender):
    """Global or recent popularity, the same ranking for every member.

    With ``X`` the members x titles matrix of confidence weights::

        score_j = sum_u X_uj                (by="weight")
        score_j = #{u : X_uj > 0}           (by="members")

    Ties go to the lower ``title_id``. With ``window_days`` the scores count only the
    interactions of the last ``window_days`` before the latest timestamp of the log (a "trending
    now" row); seen titles are still taken from the whole log.

    Parameters
    ----------
    window_days : float or None
        Length of the recent window; ``None`` uses the whole log. Needs a frame with ``ts``
        (an events log or a ``user_id, title_id, weight, ts`` frame).
    by : {"weight", "members"}
        Sum the confidence weights, or count the members who played the title.

    Attributes
    ----------
    popularity_ : ndarray of shape (n_titles,)
        The score of every title.

    Examples
    --------
    >>> model = PopularityRecommender(window_days=7).fit(events, titles=titles)  # doctest: +SKIP
    >>> model.recommend([0, 1], k=10)  # doctest: +SKIP
    """

    def __init__(self, window_days: float | None = None, by: str = "weight"):
        self.window_days = window_days
        self.by = by

    def fit(self, interactions, n_users=None, n_titles=None, titles=None) -> PopularityRecommender:
        if self.by not in POPULARITY_KINDS:
            raise ValueError(f"by must be one of {POPULARITY_KINDS}, got {self.by!r}")
        if self.window_days is None:
            return super().fit(interactions, n_users, n_titles, titles)
        if self.window_days <= 0:
            raise ValueError(f"window_days must be > 0, got {self.window_days}")
        if not isinstance(interactions, pd.DataFrame) or "ts" not in interactions.columns:
            raise ValueError("window_days needs a frame with a 'ts' column (e.g. the events log)")
        matrix = as_interactions(interactions, n_users, n_titles, titles)
        ts = pd.to_datetime(interactions["ts"])
        start = ts.max() - pd.Timedelta(days=self.window_days)
        recent = as_interactions(interactions.loc[ts > start], *matrix.shape, titles=titles)
        self.n_users_, self.n_titles_ = matrix.shape
        self.seen_ = matrix
        self.window_start_ = start
        self._fit(recent)
        return self

    def _fit(self, matrix: sp.csr_matrix) -> None:
        values = matrix.data if self.by == "weight" else (matrix.data > 0).astype(np.float64)
        column_sums = np.bincount(matrix.indices, weights=values, minlength=matrix.shape[1])
        self.popularity_ = column_sums.astype(np.float64)

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(user_idx), self.n_titles_))

    def _score_pairs(self, users: np.ndarray, titles: np.ndarray) -> np.ndarray:
        return self.popularity_[titles].copy()

"""Matrix factorization for implicit feedback (ALS and BPR), wrapping ``implicit`` on CPU.

``implicit`` is imported lazily, with its "IProgress not found" notice filtered, and every call
into it runs under ``threadpoolctl.threadpool_limits(1, "blas")``: OpenBLAS threads make ALS
about 2.5x slower and trigger a warning. Nothing global is changed at import.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.models.recommenders.base import Recommender, as_interactions


@contextmanager
def _implicit_cpu():
    """Yield the ``implicit.cpu`` package with one BLAS thread and its import noise filtered."""
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(1, "blas"):
        warnings.filterwarnings("ignore", message="IProgress not found")
        warnings.filterwarnings("ignore", message=".*BLAS.*threads", category=RuntimeWarning)
        import implicit.cpu.als
        import implicit.cpu.bpr

        yield implicit.cpu


class FactorModel(Recommender):
    """Scores are dot products of member and title factors (plus a title bias for BPR)."""

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return self.user_factors_[user_idx] @ self.item_factors_.T + self.item_bias_

    def _score_pairs(self, users: np.ndarray, titles: np.ndarray) -> np.ndarray:
        pairs = np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[titles])
        return pairs.astype(np.float64) + self.item_bias_[titles]


class ALSRecommender(FactorModel):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit
    Feedback Datasets"; conjugate-gradient solver of Takacs, Pilaszy & Tikk 2011).

    Every (member, title) pair has a preference ``p_uj = [X_uj > 0]`` and a confidence
    ``c_uj = alpha * X_uj`` when observed, 1 otherwise; ALS alternates closed-form solves of::

        min_{x, y}  sum_{u,j} c_uj (p_uj - x_u . y_j)^2 + regularization (|x_u|^2 + |y_j|^2)
        score_uj = x_u . y_j

    The fitted matrix should already hold confidences (e.g. ``1 + 40 r`` from
    `persona_lib.signals.confidence_weights`), hence ``alpha=1`` by default.

    Parameters
    ----------
    factors, regularization, alpha, iterations : as above.
    random_state : int
        Seeds the initial factors: the same seed gives the same model.
    num_threads : int
        Threads for the solver (0 = all cores); results do not depend on it.

    Attributes
    ----------
    user_factors_ : ndarray (n_users, factors), item_factors_ : ndarray (n_titles, factors)
    model_ : implicit.cpu.als.AlternatingLeastSquares
    """

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 1.0,
                 iterations: int = 15, random_state: int = 0, num_threads: int = 1):  # fmt: skip
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads

    def _fit(self, matrix: sp.csr_matrix) -> None:
        with _implicit_cpu() as cpu:
            self.model_ = cpu.als.AlternatingLeastSquares(
                factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                iterations=self.iterations, random_state=self.random_state,
                num_threads=self.num_threads)  # fmt: skip
            self.model_.fit(matrix, show_progress=False)
        self._sync_factors()

    def _sync_factors(self) -> None:
        self.user_factors_ = self.model_.user_factors
        self.item_factors_ = self.model_.item_factors
        self.item_bias_ = np.zeros(self.item_factors_.shape[0], dtype=np.float32)

    def partial_fit_users(self, user_ids, interactions_rows) -> ALSRecommender:
        """Recompute some members' factors from their new rows, title factors held fixed.

        The feedback loop: after new plays, pass each member's whole row (old plays and new,
        e.g. ``model.seen_[ids] + new_rows``) and their recommendations follow at once, without
        a full refit. Ids past the fitted range add new members. ``seen_`` is updated too.

        Parameters
        ----------
        user_ids : array of int, unique
        interactions_rows : csr_matrix (len(user_ids), n_titles) of confidence weights, or a
            ``user_id, title_id[, weight]`` frame (rows of members not in ``user_ids`` raise).

        Returns
        -------
        self
        """
        self._check_fitted()
        ids = np.atleast_1d(np.asarray(user_ids, dtype=np.int64))
        if ids.size == 0 or ids.min() < 0 or np.unique(ids).size != ids.size:
            raise ValueError("user_ids must be non-empty, unique and >= 0")
        rows = self._rows_for(ids, interactions_rows)
        with _implicit_cpu():
            self.model_.partial_fit_users(ids, rows)
        self._sync_factors()
        n_users = max(self.n_users_, int(ids.max()) + 1)
        keep = np.ones(n_users, dtype=np.float32)
        keep[ids] = 0.0
        old = sp.csr_matrix(self.seen_, copy=True)
        old.resize((n_users, self.n_titles_))
        scatter = sp.csr_matrix(
            (np.ones(ids.size, np.float32), (ids, np.arange(ids.size))), shape=(n_users, ids.size)
        )
        self.seen_ = sp.csr_matrix(sp.diags(keep) @ old + scatter @ rows, dtype=np.float32)
        self.n_users_ = n_users
        return self

    def add_plays(self, user_id: int, title_ids, weight: float | None = None) -> ALSRecommender:
        """Feedback loop for one member: add plays of ``title_ids`` and re-solve their factors.

        ``weight`` is the confidence given to each new play (default: the median weight of the
        fitted matrix); the member's earlier plays are kept. See `partial_fit_users`.
        """
        self._check_fitted()
        titles = np.unique(np.asarray(title_ids, dtype=np.int64))
        if titles.size == 0 or titles.min() < 0 or titles.max() >= self.n_titles_:
            raise ValueError(f"title_ids must be non-empty and lie in [0, {self.n_titles_})")
        if weight is None:
            weight = float(np.median(self.seen_.data)) if self.seen_.nnz else 1.0
        row = sp.csr_matrix(
            self.seen_[[user_id]]
            if user_id < self.n_users_
            else sp.csr_matrix((1, self.n_titles_), dtype=np.float32)
        )
        new = sp.csr_matrix(
            (np.full(titles.size, weight, np.float32), (np.zeros(titles.size, np.int64), titles)),
            shape=row.shape,
        )
        return self.partial_fit_users([user_id], row.maximum(new))

    def _rows_for(self, ids: np.ndarray, interactions_rows) -> sp.csr_matrix:
        if isinstance(interactions_rows, pd.DataFrame):
            frame = interactions_rows
            position = pd.Series(np.arange(ids.size), index=ids)
            unknown = ~frame["user_id"].isin(ids)
            if unknown.any():
                raise ValueError("interactions_rows has rows of members not in user_ids")
            frame = frame.assign(user_id=position.loc[frame["user_id"]].to_numpy())
            interactions_rows = as_interactions(frame, ids.size, self.n_titles_)
        rows = sp.csr_matrix(interactions_rows, dtype=np.float32)
        if rows.shape != (ids.size, self.n_titles_):
            raise ValueError(
                f"interactions_rows must have shape ({ids.size}, {self.n_titles_}), "
                f"got {rows.shape}"
            )
        return rows


class BPRRecommender(FactorModel):
    """Bayesian Personalized Ranking (Rendle et al. 2009, "BPR: Bayesian Personalized Ranking
    from Implicit Feedback"), learned by SGD on sampled (member, played, unplayed) triples::

        max  sum_{(u, i, j)} log sigmoid(s_ui - s_uj) - regularization |theta|^2
        s_uj = x_u . y_j + b_j

    Only which titles were played matters, not the weights. ``implicit`` stores the bias
    ``b_j`` as an extra factor column (and a constant 1 in the member factors); it is split off
    into ``item_bias_``. One thread (the default) makes the fit reproducible.

    Parameters
    ----------
    factors, learning_rate, regularization, iterations : as above (iterations are epochs).
    random_state : int
    num_threads : int
        More than 1 is faster but no longer deterministic.

    Attributes
    ----------
    user_factors_ : ndarray (n_users, factors), item_factors_ : ndarray (n_titles, factors)
    item_bias_ : ndarray (n_titles,)
    model_ : implicit.cpu.bpr.BayesianPersonalizedRanking
    """

    def __init__(self, factors: int = 64, learning_rate: float = 0.01,
                 regularization: float = 0.01, iterations: int = 100, random_state: int = 0,
                 num_threads: int = 1):  # fmt: skip
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads

    def _fit(self, matrix: sp.csr_matrix) -> None:
        with _implicit_cpu() as cpu:
            self.model_ = cpu.bpr.BayesianPersonalizedRanking(
                factors=self.factors, learning_rate=self.learning_rate,
                regularization=self.regularization, iterations=self.iterations,
                random_state=self.random_state, num_threads=self.num_threads)  # fmt: skip
            self.model_.fit(matrix, show_progress=False)
        users, items = self.model_.user_factors, self.model_.item_factors
        self.user_factors_ = users[:, :-1]
        self.item_factors_ = items[:, :-1]
        self.item_bias_ = items[:, -1].copy()

"""RP3beta: item-item scores from a three-step random walk, with a popularity penalty."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from persona_lib.models.recommenders.base import Recommender


class RP3betaRecommender(Recommender):
    """RP3beta (Paudel, Christoffel, Newell & Bernstein 2017, "Updatable, Accurate, Diverse,
    and Scalable Recommendations for Interactive Applications", ACM TiiS).

    On the bipartite graph of members and titles (``X > 0``), a walk from title i to a member
    who played it and on to one of that member's titles has probability
    ``sum_u [X_ui] / n_i * [X_uj] / n_u`` (``n_i``, ``n_u`` the degrees). RP3beta raises each
    step's probability to ``alpha`` and divides by the target's popularity to the ``beta``::

        W_ij = sum_u [X_ui] n_i^-alpha [X_uj] n_u^-alpha / n_j^beta   (W_ii = 0)
        score_uj = sum_i [X_ui] W_ij

    ``beta = 0`` is the plain P3alpha walk; larger ``beta`` favours less popular titles.

    Parameters
    ----------
    alpha : float
        Exponent of the transition probabilities (> 0).
    beta : float
        Popularity penalty (>= 0).
    k_neighbors : int or None
        Keep only each row's ``k_neighbors`` largest ``W_ij`` (None keeps all).

    Attributes
    ----------
    similarity_ : ndarray (n_titles, n_titles), float32
        ``W``.

    Notes
    -----
    Dense in titles (n_titles^2 floats), like `ItemKNNRecommender`.
    """

    def __init__(self, alpha: float = 1.0, beta: float = 0.5, k_neighbors: int | None = None):
        self.alpha = alpha
        self.beta = beta
        self.k_neighbors = k_neighbors

    def _fit(self, matrix: sp.csr_matrix) -> None:
        if not self.alpha > 0 or self.beta < 0:
            raise ValueError(f"need alpha > 0 and beta >= 0, got {self.alpha}, {self.beta}")
        if self.k_neighbors is not None and self.k_neighbors < 1:
            raise ValueError(f"k_neighbors must be >= 1 or None, got {self.k_neighbors}")
        x = sp.csr_matrix((matrix > 0).astype(np.float64))
        n_user = np.maximum(np.asarray(x.sum(axis=1)).ravel(), 1.0)
        n_title = np.maximum(np.asarray(x.sum(axis=0)).ravel(), 1.0)
        walk = (x.T @ sp.diags(n_user**-self.alpha) @ x).toarray()
        walk *= (n_title**-self.alpha)[:, None] * (n_title**-self.beta)[None, :]
        np.fill_diagonal(walk, 0.0)
        n = walk.shape[0]
        if self.k_neighbors is not None and self.k_neighbors < n:
            drop = np.argpartition(-walk, self.k_neighbors - 1, axis=1)[:, self.k_neighbors :]
            np.put_along_axis(walk, drop, 0.0, axis=1)
        self.similarity_ = walk.astype(np.float32)
        self._x = sp.csr_matrix(x, dtype=np.float32)

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return self._x[user_idx] @ self.similarity_

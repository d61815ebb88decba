"""EDLAE / DLAE: linear autoencoders whose penalty is derived from dropout, in closed form."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from persona_lib.models.recommenders.base import Recommender
from persona_lib.models.recommenders.ease import autoencoder_inputs


class EDLAERecommender(Recommender):
    """Emphasized Denoising Linear AutoEncoder (Steck 2020, "Autoencoders that don't overfit
    towards the identity", NeurIPS), with the relaxed diagonal constraint of Moon, Kim & Lee
    (2023, "It's Enough: Relaxing Diagonal Constraints in Linear Autoencoders for
    Recommendation", SIGIR).

    Training a linear autoencoder ``X -> X B`` with dropout probability ``p`` on its input is,
    in expectation, ridge regression with a per-title penalty proportional to the title's
    count, so popular titles are shrunk more than rare ones::

        G = X^T X,   Lambda = p / (1 - p) diag(G) + l2 I,   P = (G + Lambda)^-1
        min_B |X - X B|^2 + |Lambda^1/2 B|^2   s.t.  diag(B) <= max_diagonal
        B = I - P diag(m),   m_j = max(Lambda_jj, (1 - max_diagonal) / P_jj)
        score_u = X_u B

    ``max_diagonal=0`` forces ``diag(B) = 0`` (EDLAE; with ``dropout=0`` this is EASE);
    ``max_diagonal=None`` leaves the diagonal free (DLAE: ``B = (G + Lambda)^-1 G``); values in
    between relax the constraint (RDLAE). The dropout penalty grows with the data, so a setting
    chosen on a subsample carries over to the full matrix better than a fixed ``l2``.

    Parameters
    ----------
    dropout : float
        Dropout probability ``p`` in [0, 1).
    l2 : float
        Extra ridge penalty (>= 0); ``dropout`` or ``l2`` must be positive.
    max_diagonal : float or None
        Upper bound on ``diag(B)`` in [0, 1], or None for no bound.
    binarize : bool
        Fit and score on ``X > 0`` (the default) or on the confidence weights themselves.

    Attributes
    ----------
    weights_ : ndarray of shape (n_titles, n_titles), float32
        ``B``.

    Notes
    -----
    Dense in titles like `EASERecommender`: O(n_titles^3) time, 4 n_titles^2 bytes.
    """

    def __init__(self, dropout: float = 0.5, l2: float = 100.0,
                 max_diagonal: float | None = 0.0, binarize: bool = True):  # fmt: skip
        self.dropout = dropout
        self.l2 = l2
        self.max_diagonal = max_diagonal
        self.binarize = binarize

    def _check_params(self) -> None:
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        if self.l2 < 0 or not (self.dropout > 0 or self.l2 > 0):
            raise ValueError(f"need l2 >= 0 and dropout or l2 > 0, got l2={self.l2}")
        if self.max_diagonal is not None and not 0 <= self.max_diagonal <= 1:
            raise ValueError(f"max_diagonal must lie in [0, 1] or be None, got {self.max_diagonal}")

    def _fit(self, matrix: sp.csr_matrix) -> None:
        self._check_params()
        x = autoencoder_inputs(matrix, self.binarize)
        gram = (x.T @ x).astype(np.float64).toarray()
        penalty = self.dropout / (1.0 - self.dropout) * np.diag(gram) + self.l2
        # a title nobody played has a zero row in G: keep G + Lambda invertible
        penalty = np.where(penalty > 0, penalty, 1.0)
        gram[np.diag_indices_from(gram)] += penalty
        precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        multiplier = penalty
        if self.max_diagonal is not None:
            multiplier = np.maximum(penalty, (1.0 - self.max_diagonal) / np.diag(precision))
        weights = precision * -multiplier
        weights[np.diag_indices_from(weights)] += 1.0
        self.weights_ = weights.astype(np.float32)
        self._x = x

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return self._x[user_idx] @ self.weights_

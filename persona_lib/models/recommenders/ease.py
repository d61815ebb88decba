"""EASE: a shallow linear item-item autoencoder with a closed-form solution."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from persona_lib.models.recommenders.base import Recommender


def autoencoder_inputs(matrix: sp.csr_matrix, binarize: bool) -> sp.csr_matrix:
    """The matrix a linear autoencoder (EASE, EDLAE) fits and scores on: ``X > 0`` as float32
    when ``binarize``, else the confidence weights as given."""
    if not binarize:
        return matrix
    return sp.csr_matrix((matrix > 0).astype(np.float32))


class EASERecommender(Recommender):
    """Embarrassingly Shallow AutoEncoder (Steck 2019, "Embarrassingly Shallow Autoencoders for
    Sparse Data", WWW).

    Learns a title x title weight matrix ``B`` with a zero diagonal that reconstructs each
    member's row from their other titles, ``min_B |X - X B|^2 + l2 |B|^2  s.t. diag(B) = 0``,
    whose closed form is::

        G = X^T X + l2 I,   P = G^-1,   B_ij = -P_ij / P_jj  (i != j),   B_jj = 0
        score_u = X_u B

    Parameters
    ----------
    l2 : float
        Ridge penalty (> 0). Steck uses a few hundred on MovieLens-sized data; larger values
        favour popular titles.
    binarize : bool
        Fit and score on ``X > 0`` (the default: the formulation of the paper, and robust to the
        scale of confidence weights) or on the confidence weights themselves.

    Attributes
    ----------
    weights_ : ndarray of shape (n_titles, n_titles), float32
        ``B``.

    Notes
    -----
    Dense in titles: the solve is O(n_titles^3) in float64 and ``B`` takes 4 n_titles^2 bytes,
    fine up to ~10k titles.
    """

    def __init__(self, l2: float = 500.0, binarize: bool = True):
        self.l2 = l2
        self.binarize = binarize

    def _fit(self, matrix: sp.csr_matrix) -> None:
        if not self.l2 > 0:
            raise ValueError(f"l2 must be > 0, got {self.l2}")
        self._x = autoencoder_inputs(matrix, self.binarize)
        x = self._x.astype(np.float64)
        gram = (x.T @ x).toarray()
        gram[np.diag_indices_from(gram)] += self.l2
        precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
        weights = precision / -np.diag(precision)
        np.fill_diagonal(weights, 0.0)
        self.weights_ = weights.astype(np.float32)

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return self._x[user_idx] @ self.weights_

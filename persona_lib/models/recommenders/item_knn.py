"""Item-item neighbourhood recommender: cosine similarity, optionally on BM25-weighted data."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from persona_lib.models.recommenders.base import Recommender

SIMILARITIES = ("cosine", "bm25")


def bm25_weight(matrix: sp.csr_matrix, k1: float = 1.2, b: float = 0.75) -> sp.csr_matrix:
    """Okapi BM25 weights of a members x titles matrix, each title's column a "document".

    A title's column is a document whose terms are members; with ``N`` titles, ``df_u`` the
    number of titles member u played, ``len_j`` the total weight of title j and ``avg`` its mean
    over titles::

        idf_u = log(1 + (N - df_u + 0.5) / (df_u + 0.5))
        w_uj = x_uj * (k1 + 1) / (x_uj + k1 * (1 - b + b * len_j / avg)) * idf_u

    Members who play everything (low idf) say little about two titles being alike, and the
    saturating term damps very heavy weights and very popular titles. Robertson & Zaragoza
    (2009), "The Probabilistic Relevance Framework: BM25 and Beyond" (the idf is Lucene's,
    always positive).

    Parameters
    ----------
    matrix : csr_matrix of shape (n_users, n_titles), non-negative weights.
    k1, b : float
        Term-frequency saturation (>= 0) and length normalisation (in [0, 1]).

    Returns
    -------
    csr_matrix of the same shape and sparsity, float32.
    """
    if k1 < 0 or not 0 <= b <= 1:
        raise ValueError(f"need k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
    weighted = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    weighted.eliminate_zeros()
    n_titles = weighted.shape[1]
    rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
    cols = weighted.indices
    df = np.diff(weighted.indptr).astype(np.float64)
    idf = np.log1p((n_titles - df + 0.5) / (df + 0.5))
    length = np.bincount(cols, weights=weighted.data, minlength=n_titles)
    average = length.mean() if length.any() else 1.0
    norm = 1.0 - b + b * length / average
    x = weighted.data
    weighted.data = x * (k1 + 1.0) / (x + k1 * norm[cols]) * idf[rows]
    return sp.csr_matrix(weighted, dtype=np.float32)


def cosine_neighbours(matrix: sp.csr_matrix, k_neighbors: int, shrink: float = 0.0):
    """Top-k cosine similarities between the columns of ``matrix``, as a sparse title x title.

    ``s_ij = x_i . x_j / (|x_i| |x_j| + shrink)`` with ``s_ii = 0``; row i keeps only its
    ``k_neighbors`` largest positive entries (deterministically among ties).
    """
    items = sp.csc_matrix(matrix, dtype=np.float64)
    norms = np.sqrt(np.asarray(items.multiply(items).sum(axis=0)).ravel())
    similarity = (items.T @ items).toarray()
    np.fill_diagonal(similarity, 0.0)
    denominator = np.outer(norms, norms) + shrink
    denominator[denominator == 0] = 1.0  # an empty column has zero similarity to all
    similarity /= denominator
    n = similarity.shape[0]
    k = min(k_neighbors, n)
    order = (
        np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        if k < n
        else (np.broadcast_to(np.arange(n), (n, n)))
    )
    values = np.take_along_axis(similarity, order, axis=1)
    keep = values > 0
    rows = np.broadcast_to(np.arange(n)[:, None], order.shape)
    return sp.csr_matrix((values[keep], (rows[keep], order[keep])), shape=(n, n))


class ItemKNNRecommender(Recommender):
    """Item-based collaborative filtering (Sarwar et al. 2001, "Item-based collaborative
    filtering recommendation algorithms"; Deshpande & Karypis 2004 for top-k neighbours).

    With ``X`` the fitted members x titles weights and ``S`` the title x title similarity of the
    (optionally BM25-weighted) columns of ``X``, keeping only each title's ``k_neighbors`` most
    similar titles::

        score_uj = sum_i X_ui S_ij

    Parameters
    ----------
    k_neighbors : int
        Neighbours kept per title (>= 1).
    similarity : {"cosine", "bm25"}
        Cosine on the raw weights, or on `bm25_weight` of them.
    shrink : float
        Added to the cosine denominator; damps similarities built on few co-occurrences.
    bm25_k1, bm25_b : float
        BM25 parameters, used with ``similarity="bm25"``.

    Attributes
    ----------
    similarity_ : csr_matrix of shape (n_titles, n_titles)
        Row i holds title i's neighbours.

    Notes
    -----
    The similarity is computed densely in titles (n_titles^2 floats): fine up to ~20k titles.
    """

    def __init__(self, k_neighbors: int = 100, similarity: str = "cosine", shrink: float = 0.0,
                 bm25_k1: float = 1.2, bm25_b: float = 0.75):  # fmt: skip
        self.k_neighbors = k_neighbors
        self.similarity = similarity
        self.shrink = shrink
        self.bm25_k1 = bm25_k1
        self.bm25_b = bm25_b

    def _fit(self, matrix: sp.csr_matrix) -> None:
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {self.similarity!r}")
        if self.k_neighbors < 1 or self.shrink < 0:
            raise ValueError("k_neighbors must be >= 1 and shrink >= 0")
        weighted = matrix
        if self.similarity == "bm25":
            weighted = bm25_weight(matrix, self.bm25_k1, self.bm25_b)
        self.similarity_ = cosine_neighbours(weighted, self.k_neighbors, self.shrink)

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return (self.seen_[user_idx] @ self.similarity_).toarray()

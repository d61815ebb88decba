"""Content-based recommender: genres and synopsis words, so new titles can be recommended."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.models.recommenders.base import Recommender


def title_vectors(titles: pd.DataFrame, genre_weight: float = 1.0, min_df: int = 1):
    """L2-normalised content vectors of titles: one-hot genres beside synopsis TF-IDF.

    ``v_j = normalize([genre_weight * normalize(onehot(genres_j)), normalize(tfidf(synopsis_j))])``

    Parameters
    ----------
    titles : DataFrame with ``title_id`` (0..n-1, any order), ``genres`` (pipe-separated) and
        ``synopsis``.
    genre_weight : float
        Weight of the genre block against the synopsis block (>= 0).
    min_df : int
        Minimum number of synopses a word must appear in.

    Returns
    -------
    csr_matrix of shape (n_titles, n_genres + n_words), rows in ``title_id`` order; and the
    fitted ``TfidfVectorizer``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    missing = {"title_id", "genres", "synopsis"} - set(titles.columns)
    if missing:
        raise ValueError(f"titles lacks columns {sorted(missing)}")
    ordered = titles.sort_values("title_id")
    if not np.array_equal(ordered["title_id"].to_numpy(), np.arange(len(ordered))):
        raise ValueError("titles must hold every title_id 0..n-1 exactly once")
    genres = ordered["genres"].fillna("").astype(str).str.get_dummies(sep="|")
    genre_block = normalize(sp.csr_matrix(genres.to_numpy(np.float64)))
    vectorizer = TfidfVectorizer(min_df=min_df)
    words = vectorizer.fit_transform(ordered["synopsis"].fillna("").astype(str))
    vectors = sp.hstack([genre_weight * genre_block, words], format="csr")
    return normalize(vectors), vectorizer


class ContentRecommender(Recommender):
    """Content-based filtering: a member's profile is the weighted mean of the content vectors
    of what they played (Pazzani & Billsus 2007, "Content-Based Recommendation Systems").

    With ``v_j`` the L2-normalised vectors of `title_vectors` and ``X`` the fitted weights::

        profile_u = sum_j X_uj v_j / sum_j X_uj,    score_uj = profile_u . v_j

    A title with no plays still has a vector, so it is scored like any other (cold-start
    titles); the model covers every title of ``titles``, even past the largest id played. A
    member with no plays (cold-start member) gets the popularity share of each title instead,
    ``score_uj = #{members who played j} / n_users``.

    Parameters
    ----------
    titles : DataFrame
        The catalog (``title_id``, ``genres``, ``synopsis``).
    genre_weight : float
        Weight of the genre block against the synopsis TF-IDF block.
    min_df : int
        Minimum document frequency of synopsis words.

    Attributes
    ----------
    item_vectors_ : csr_matrix (n_titles, n_features)
    vectorizer_ : sklearn TfidfVectorizer
    profiles_ : csr_matrix (n_users, n_features)
    popularity_ : ndarray (n_titles,)
    """

    def __init__(self, titles: pd.DataFrame, genre_weight: float = 1.0, min_df: int = 1):
        self.titles = titles
        self.genre_weight = genre_weight
        self.min_df = min_df

    def fit(self, interactions, n_users=None, n_titles=None, titles=None) -> ContentRecommender:
        """Learn profiles; ``n_titles`` defaults to the catalog size so unplayed titles count."""
        n_titles = len(self.titles) if n_titles is None else n_titles
        titles = self.titles if titles is None else titles
        return super().fit(interactions, n_users, n_titles, titles)

    def _fit(self, matrix: sp.csr_matrix) -> None:
        if self.genre_weight < 0:
            raise ValueError(f"genre_weight must be >= 0, got {self.genre_weight}")
        vectors, self.vectorizer_ = title_vectors(self.titles, self.genre_weight, self.min_df)
        if vectors.shape[0] != matrix.shape[1]:
            raise ValueError(
                f"titles has {vectors.shape[0]} titles but the interactions have "
                f"{matrix.shape[1]}: pass n_titles=len(titles)"
            )
        self.item_vectors_ = vectors
        played = np.bincount(matrix.indices[matrix.data > 0], minlength=matrix.shape[1])
        self.popularity_ = played / max(matrix.shape[0], 1)
        totals = np.asarray(matrix.sum(axis=1)).ravel()
        self._cold = totals <= 0
        inverse = np.divide(1.0, totals, out=np.zeros_like(totals, dtype=np.float64),
                            where=totals > 0)  # fmt: skip
        self.profiles_ = sp.csr_matrix(sp.diags(inverse) @ matrix @ vectors)

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        scores = (self.profiles_[user_idx] @ self.item_vectors_.T).toarray()
        cold = self._cold[user_idx]
        scores[cold] = self.popularity_
        return scores

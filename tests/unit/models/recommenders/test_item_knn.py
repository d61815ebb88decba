"""ItemKNNRecommender: BM25 weights by hand, cosine neighbours, pruning and the score formula."""

import numpy as np
import pytest
import scipy.sparse as sp
from tolerances import FLOAT64, approx32

from persona_lib.models import ItemKNNRecommender, bm25_weight, cosine_neighbours

X = sp.csr_matrix(np.array([[1, 1, 0, 0], [2, 0, 1, 0], [0, 1, 1, 1]], dtype=np.float32))


def test_bm25_weight_by_hand():
    k1, b = 1.2, 0.75
    weighted = bm25_weight(X, k1, b).toarray()
    # member 1 played 2 of 4 titles; title 0 has total weight 3, the mean title weight is 8/4
    idf = np.log1p((4 - 2 + 0.5) / (2 + 0.5))
    norm = 1 - b + b * 3 / 2
    assert weighted[1, 0] == approx32(2 * (k1 + 1) / (2 + k1 * norm) * idf)  # float32 weights
    assert (weighted > 0).tolist() == (X.toarray() > 0).tolist()


def test_bm25_favours_light_members():
    heavy_and_light = sp.csr_matrix(np.array([[1, 1, 1, 1], [1, 0, 0, 0]], dtype=np.float32))
    weighted = bm25_weight(heavy_and_light).toarray()
    assert weighted[1, 0] > weighted[0, 0]


def test_cosine_neighbours_match_dense_cosine():
    dense = X.toarray().astype(float)
    unit = dense / np.linalg.norm(dense, axis=0)
    expected = unit.T @ unit
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(cosine_neighbours(X, k_neighbors=10).toarray(), expected)
    shrunk = cosine_neighbours(X, k_neighbors=10, shrink=1.0).toarray()
    assert np.all(shrunk <= expected + FLOAT64["atol"]) and np.all(shrunk[expected > 0] > 0)


def test_top_k_pruning_keeps_the_largest_per_row():
    rng = np.random.default_rng(0)
    matrix = sp.csr_matrix(rng.random((30, 12)) * (rng.random((30, 12)) < 0.4))
    full = cosine_neighbours(matrix, k_neighbors=12).toarray()
    pruned = cosine_neighbours(matrix, k_neighbors=3).toarray()
    assert ((pruned > 0).sum(axis=1) <= 3).all()
    for row_full, row_pruned in zip(full, pruned, strict=True):
        kept = row_pruned > 0
        np.testing.assert_allclose(row_pruned[kept], row_full[kept])
        # one similarity computation, pruned or not: exact
        assert row_full[~kept].max(initial=0) <= row_pruned[kept].min(initial=np.inf)


@pytest.mark.parametrize("similarity", ["cosine", "bm25"])
def test_scores_are_user_rows_times_similarity(similarity):
    model = ItemKNNRecommender(k_neighbors=2, similarity=similarity).fit(X)
    expected = X.toarray() @ model.similarity_.toarray()
    np.testing.assert_allclose(model.score([2, 2, 0], [0, 3, 2]), expected[[2, 2, 0], [0, 3, 2]])


def test_groups_become_neighbours(planted):
    model = ItemKNNRecommender(k_neighbors=5, similarity="bm25").fit(planted.train)
    rows, cols = model.similarity_.nonzero()
    same = planted.title_group[rows] == planted.title_group[cols]
    assert same.mean() > 0.9


def test_invalid_arguments():
    with pytest.raises(ValueError, match="similarity must be one of"):
        ItemKNNRecommender(similarity="jaccard").fit(X)
    with pytest.raises(ValueError, match="k_neighbors must be >= 1"):
        ItemKNNRecommender(k_neighbors=0).fit(X)
    with pytest.raises(ValueError, match="need k1 >= 0"):
        bm25_weight(X, b=2.0)

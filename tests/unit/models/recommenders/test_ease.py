"""EASERecommender: the closed form against per-title ridge regressions, and binarize."""

import numpy as np
import pytest
import scipy.sparse as sp
from tolerances import FLOAT32

from persona_lib.models import EASERecommender


def ridge_without_self(x: np.ndarray, l2: float) -> np.ndarray:
    """Column j of B by brute force: ridge regression of X_j on the other columns."""
    n = x.shape[1]
    weights = np.zeros((n, n))
    for j in range(n):
        others = [i for i in range(n) if i != j]
        a = x[:, others]
        weights[others, j] = np.linalg.solve(a.T @ a + l2 * np.eye(n - 1), a.T @ x[:, j])
    return weights


@pytest.fixture
def matrix():
    rng = np.random.default_rng(1)
    return sp.csr_matrix(
        (rng.random((25, 7)) < 0.4) * rng.integers(1, 9, (25, 7)), dtype=np.float32
    )


@pytest.mark.parametrize("binarize", [True, False])
def test_closed_form_equals_constrained_least_squares(matrix, binarize):
    model = EASERecommender(l2=3.0, binarize=binarize).fit(matrix)
    x = matrix.toarray().astype(float)
    x = (x > 0).astype(float) if binarize else x
    # the weights are stored in float32
    np.testing.assert_allclose(model.weights_, ridge_without_self(x, 3.0), **FLOAT32)
    assert np.all(np.diag(model.weights_) == 0)
    np.testing.assert_allclose(
        model.score([4, 4], [0, 6]), (x @ model.weights_)[4, [0, 6]], **FLOAT32
    )


def test_binarize_ignores_the_weights(matrix):
    binary = sp.csr_matrix((matrix > 0).astype(np.float32))
    on_weights = EASERecommender(l2=3.0).fit(matrix).weights_
    np.testing.assert_allclose(on_weights, EASERecommender(l2=3.0).fit(binary).weights_, **FLOAT32)
    unbinarized = EASERecommender(l2=3.0, binarize=False).fit(matrix).weights_
    assert not np.allclose(on_weights, unbinarized)


def test_larger_l2_shrinks_weights(matrix):
    small = np.abs(EASERecommender(l2=1.0).fit(matrix).weights_).sum()
    assert np.abs(EASERecommender(l2=100.0).fit(matrix).weights_).sum() < small


def test_l2_must_be_positive(matrix):
    with pytest.raises(ValueError, match="l2 must be > 0"):
        EASERecommender(l2=0).fit(matrix)

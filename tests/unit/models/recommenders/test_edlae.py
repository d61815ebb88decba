"""EDLAERecommender: closed forms against direct solves, the diagonal bound and EASE as a case."""

import numpy as np
import pytest
import scipy.sparse as sp
from tolerances import FLOAT32

from persona_lib.models import EASERecommender, EDLAERecommender


@pytest.fixture
def matrix():
    rng = np.random.default_rng(3)
    return sp.csr_matrix(
        (rng.random((30, 8)) < 0.45) * rng.integers(1, 6, (30, 8)), dtype=np.float32
    )


def gram_and_penalty(matrix, dropout, l2):
    x = (matrix.toarray() > 0).astype(float)
    gram = x.T @ x
    return x, gram, dropout / (1 - dropout) * np.diag(gram) + l2


def column_with_fixed_diagonal(gram, penalty, j, value):
    """Column j of argmin |X - XB|^2 + |Lambda^1/2 B|^2 with B_jj fixed to ``value``."""
    others = np.delete(np.arange(gram.shape[0]), j)
    a = gram[np.ix_(others, others)] + np.diag(penalty[others])
    column = np.empty(gram.shape[0])
    column[others] = np.linalg.solve(a, (1 - value) * gram[others, j])
    column[j] = value
    return column


def test_dlae_is_the_ridge_solve(matrix):
    model = EDLAERecommender(dropout=0.4, l2=2.0, max_diagonal=None).fit(matrix)
    _, gram, penalty = gram_and_penalty(matrix, 0.4, 2.0)
    expected = np.linalg.solve(gram + np.diag(penalty), gram)
    np.testing.assert_allclose(model.weights_, expected, **FLOAT32)  # weights kept in float32


def test_edlae_is_the_zero_diagonal_ridge(matrix):
    model = EDLAERecommender(dropout=0.4, l2=2.0, max_diagonal=0.0).fit(matrix)
    x, gram, penalty = gram_and_penalty(matrix, 0.4, 2.0)
    expected = np.column_stack(
        [column_with_fixed_diagonal(gram, penalty, j, 0.0) for j in range(gram.shape[0])]
    )
    np.testing.assert_allclose(model.weights_, expected, **FLOAT32)
    np.testing.assert_allclose(model.score([2, 2], [1, 7]), (x @ expected)[2, [1, 7]], **FLOAT32)


def test_relaxed_diagonal_bound(matrix):
    bound = 0.386  # free diagonals here lie in [0.378, 0.403]
    relaxed = EDLAERecommender(dropout=0.5, l2=1.0, max_diagonal=bound).fit(matrix).weights_
    free = EDLAERecommender(dropout=0.5, l2=1.0, max_diagonal=None).fit(matrix).weights_
    _, gram, penalty = gram_and_penalty(matrix, 0.5, 1.0)
    active = np.diag(free) > bound
    assert active.any() and not active.all()  # the fixture exercises both cases
    for j in range(gram.shape[0]):
        expected = column_with_fixed_diagonal(gram, penalty, j, bound) if active[j] else free[:, j]
        np.testing.assert_allclose(relaxed[:, j], expected, **FLOAT32)
    assert np.all(np.diag(relaxed) <= bound + FLOAT32["atol"])


def test_no_dropout_is_ease(matrix):
    edlae = EDLAERecommender(dropout=0.0, l2=3.0).fit(matrix).weights_
    np.testing.assert_allclose(edlae, EASERecommender(l2=3.0).fit(matrix).weights_, **FLOAT32)


def test_dropout_penalty_scales_with_the_data(matrix):
    """Twice the members with the same rows: G and Lambda double, so B is unchanged."""
    twice = sp.vstack([matrix, matrix]).tocsr()
    once = EDLAERecommender(dropout=0.5, l2=0.0).fit(matrix).weights_
    np.testing.assert_allclose(
        EDLAERecommender(dropout=0.5, l2=0.0).fit(twice).weights_, once, **FLOAT32
    )
    fixed_l2 = EASERecommender(l2=5.0)
    assert not np.allclose(fixed_l2.fit(twice).weights_, fixed_l2.fit(matrix).weights_)


def test_binarize_false_uses_the_weights(matrix):
    weighted = EDLAERecommender(dropout=0.3, l2=1.0, binarize=False).fit(matrix).weights_
    assert not np.allclose(weighted, EDLAERecommender(dropout=0.3, l2=1.0).fit(matrix).weights_)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dropout": 1.0}, r"dropout must lie in \[0, 1\)"),
        ({"dropout": -0.1}, r"dropout must lie in \[0, 1\)"),
        ({"dropout": 0.0, "l2": 0.0}, "dropout or l2 > 0"),
        ({"l2": -1.0}, "need l2 >= 0"),
        ({"max_diagonal": 1.5}, r"max_diagonal must lie in \[0, 1\] or be None"),
    ],
)
def test_bad_parameters_raise(matrix, kwargs, message):
    with pytest.raises(ValueError, match=message):
        EDLAERecommender(**kwargs).fit(matrix)

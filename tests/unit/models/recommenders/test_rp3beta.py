"""RP3betaRecommender: the walk against transition matrices built by hand, pruning, beta."""

import numpy as np
import pytest
import scipy.sparse as sp
from tolerances import FLOAT32

from persona_lib.models import RP3betaRecommender

X = sp.csr_matrix(
    np.array([[3, 1, 0, 0, 0], [0, 5, 2, 0, 1], [1, 0, 4, 4, 0], [0, 2, 0, 1, 0]], np.float32)
)


def walk_by_hand(x, alpha, beta):
    """Title -> member -> title transition probabilities, each to the alpha, over pop^beta."""
    edges = (x > 0).astype(float)
    member_to_title = edges / edges.sum(axis=1, keepdims=True)
    title_to_member = edges.T / edges.T.sum(axis=1, keepdims=True)
    walk = (title_to_member**alpha) @ (member_to_title**alpha) / edges.sum(axis=0) ** beta
    np.fill_diagonal(walk, 0.0)
    return walk


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.0), (0.6, 0.5), (1.3, 1.0)])
def test_walk_matches_transition_matrices(alpha, beta):
    model = RP3betaRecommender(alpha=alpha, beta=beta).fit(X)
    expected = walk_by_hand(X.toarray(), alpha, beta)
    np.testing.assert_allclose(model.similarity_, expected, **FLOAT32)  # stored in float32
    scores = (X.toarray() > 0) @ expected
    np.testing.assert_allclose(model.score([1, 3], [0, 4]), scores[[1, 3], [0, 4]], **FLOAT32)


def test_p3_rows_are_probabilities():
    """alpha = 1, beta = 0: a row of the walk plus its return to the start sums to one."""
    model = RP3betaRecommender(alpha=1.0, beta=0.0).fit(X)
    edges = (X.toarray() > 0).astype(float)
    back_to_start = np.diag(
        (edges.T / edges.sum(axis=0)[:, None]) @ (edges / edges.sum(1)[:, None])
    )
    np.testing.assert_allclose(model.similarity_.sum(axis=1) + back_to_start, 1.0, **FLOAT32)


def test_pruning_keeps_the_largest_per_row():
    full = RP3betaRecommender(beta=0.3).fit(X).similarity_
    pruned = RP3betaRecommender(beta=0.3, k_neighbors=2).fit(X).similarity_
    assert ((pruned != 0).sum(axis=1) <= 2).all()
    for row_full, row_pruned in zip(full, pruned, strict=True):
        kept = row_pruned != 0
        np.testing.assert_allclose(row_pruned[kept], row_full[kept], **FLOAT32)
        assert row_full[~kept].max(initial=0) <= row_pruned[kept].min(initial=np.inf)


def test_larger_beta_recommends_less_popular_titles(planted):
    popularity = np.asarray((planted.train > 0).sum(axis=0)).ravel()
    users = np.arange(planted.train.shape[0])

    def mean_popularity(beta):
        rec = RP3betaRecommender(beta=beta).fit(planted.train).recommend(users, k=5)
        return popularity[rec["title_id"]].mean()

    assert mean_popularity(0.0) > mean_popularity(0.5) > mean_popularity(1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.0}, "need alpha > 0 and beta >= 0"),
        ({"beta": -0.5}, "need alpha > 0 and beta >= 0"),
        ({"k_neighbors": 0}, "k_neighbors must be >= 1 or None"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RP3betaRecommender(**kwargs).fit(X)

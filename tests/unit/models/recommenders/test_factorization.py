"""ALS and BPR wrappers: factor shapes, the BPR bias column, and the ALS feedback loop."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from tolerances import FLOAT32

from persona_lib.models import ALSRecommender, BPRRecommender


@pytest.fixture(scope="module")
def als(planted):
    return ALSRecommender(factors=8, regularization=0.1, iterations=10).fit(planted.train)


def test_bpr_bias_column_is_split_off(planted):
    model = BPRRecommender(factors=6, iterations=5).fit(planted.train)
    assert model.user_factors_.shape == (60, 6) and model.item_factors_.shape == (40, 6)
    assert model.item_bias_.shape == (40,)
    full = model.model_.user_factors @ model.model_.item_factors.T  # implicit's own scores
    np.testing.assert_allclose(model._score_users(np.arange(60)), full, **FLOAT32)


def test_als_factors(als):
    assert als.user_factors_.shape == (60, 8) and als.item_factors_.shape == (40, 8)
    np.testing.assert_allclose(
        als.score([1], [2]), als.user_factors_[1] @ als.item_factors_[2], **FLOAT32
    )


def test_seed_changes_the_model(planted):
    a = ALSRecommender(factors=8, iterations=3, random_state=1).fit(planted.train)
    b = ALSRecommender(factors=8, iterations=3, random_state=2).fit(planted.train)
    assert not np.allclose(a.user_factors_, b.user_factors_)


def test_no_implicit_warnings(planted):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ALSRecommender(factors=4, iterations=2).fit(planted.train)
        BPRRecommender(factors=4, iterations=2).fit(planted.train)


def groups_of_recommendations(model, planted, user, k=5):
    titles = model.recommend([user], k=k)["title_id"].to_numpy()
    return planted.title_group[titles]


def test_partial_fit_users_follows_new_plays(planted):
    model = ALSRecommender(factors=8, regularization=0.1, iterations=10).fit(planted.train)
    user = 0  # in group 0
    assert (groups_of_recommendations(model, planted, user) == 0).mean() >= 0.8
    before = model.item_factors_.copy()
    new_plays = sp.csr_matrix(np.isin(np.arange(40), [20, 21, 22]).astype(np.float32)[None])
    model.partial_fit_users([user], new_plays * 30)  # binges on group 2 titles 20..22
    assert (groups_of_recommendations(model, planted, user, k=3) == 2).all()
    np.testing.assert_array_equal(model.item_factors_, before)  # title factors held fixed
    assert set(model.seen_[user].indices) == {20, 21, 22}
    np.testing.assert_array_equal(model.seen_[1:].toarray(), planted.train[1:].toarray())


def test_partial_fit_users_adds_a_new_member_from_a_frame(planted):
    model = ALSRecommender(factors=8, regularization=0.1, iterations=10).fit(planted.train)
    rows = pd.DataFrame({"user_id": [60, 60, 60], "title_id": [31, 32, 33], "weight": 20.0})
    model.partial_fit_users([60], rows)
    assert model.n_users_ == 61 and model.user_factors_.shape == (61, 8)
    rec = model.recommend([60], k=5)
    assert not rec["title_id"].isin([31, 32, 33]).any()
    assert (planted.title_group[rec["title_id"]] == 3).mean() >= 0.8


def test_partial_fit_users_checks_its_input(als):
    with pytest.raises(ValueError, match="unique"):
        als.partial_fit_users([1, 1], sp.csr_matrix((2, 40), dtype=np.float32))
    with pytest.raises(ValueError, match=r"must have shape \(1, 40\)"):
        als.partial_fit_users([1], sp.csr_matrix((1, 39), dtype=np.float32))
    with pytest.raises(ValueError, match="members not in user_ids"):
        als.partial_fit_users([1], pd.DataFrame({"user_id": [2], "title_id": [0]}))


def test_add_plays_moves_recommendations_towards_the_new_plays_without_a_refit():
    import scipy.sparse as sp

    from persona_lib.models import ALSRecommender

    # two taste groups: members 0-19 play titles 0-9, members 20-39 play titles 10-19
    rows = [(u, t) for u in range(20) for t in range(10) if (u + t) % 3] + [
        (u, t) for u in range(20, 40) for t in range(10, 20) if (u + t) % 3
    ]
    users, titles = zip(*rows, strict=True)
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (users, titles)), shape=(40, 20))
    model = ALSRecommender(factors=4, regularization=0.1, iterations=20, random_state=0)
    model.fit(matrix)
    before = model.recommend([0], k=3)["title_id"].tolist()
    assert all(t < 10 for t in before)
    item_factors = model.item_factors_.copy()
    model.add_plays(0, [10, 11, 12, 13, 14, 15, 16], weight=5.0)
    after = model.recommend([0], k=3)["title_id"].tolist()
    assert all(t >= 10 for t in after)
    np.testing.assert_array_equal(model.item_factors_, item_factors)  # no refit of titles
    assert model.seen_[0, 10] == 5.0 and model.seen_[0, 1] == 1.0

"""The `Recommender` contract, run on every implementation (planted data from conftest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT32

from persona_lib.models import (
    ALSRecommender,
    BlendRecommender,
    BPRRecommender,
    ContentRecommender,
    EASERecommender,
    EDLAERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    RP3betaRecommender,
    TwoStageRanker,
)

# name -> factory(planted data) with small settings: the planted matrix is 60 x 40
FACTORIES = {
    "popularity": lambda d: PopularityRecommender(),
    "popularity_members": lambda d: PopularityRecommender(by="members"),
    "item_knn_cosine": lambda d: ItemKNNRecommender(k_neighbors=10),
    "item_knn_bm25": lambda d: ItemKNNRecommender(k_neighbors=10, similarity="bm25", shrink=1),
    "ease_binary": lambda d: EASERecommender(l2=10.0),
    "ease_weights": lambda d: EASERecommender(l2=500.0, binarize=False),
    "edlae": lambda d: EDLAERecommender(dropout=0.25, l2=5.0),
    "dlae": lambda d: EDLAERecommender(dropout=0.25, l2=5.0, max_diagonal=None),
    "rdlae_weights": lambda d: EDLAERecommender(
        dropout=0.5, l2=50.0, max_diagonal=0.2, binarize=False
    ),
    "rp3beta": lambda d: RP3betaRecommender(alpha=1.0, beta=0.5),
    "rp3beta_pruned": lambda d: RP3betaRecommender(alpha=0.8, beta=0.3, k_neighbors=10),
    "als": lambda d: ALSRecommender(factors=8, regularization=0.1, iterations=10),
    "bpr": lambda d: BPRRecommender(factors=8, learning_rate=0.05, iterations=60),
    "content": lambda d: ContentRecommender(d.titles),
    "blend": lambda d: BlendRecommender(
        {"ease": EASERecommender(l2=10.0), "knn": ItemKNNRecommender(k_neighbors=10)},
        weights={"ease": 1.0, "knn": 0.5},
    ),
    "two_stage_ranker": lambda d: TwoStageRanker(
        {
            "pop": PopularityRecommender(),
            "ease": EASERecommender(l2=10.0),
            "knn": ItemKNNRecommender(k_neighbors=10),
        },
        n_candidates=10,
    ),
}
NON_PERSONAL = {"popularity", "popularity_members"}


@pytest.fixture(params=sorted(FACTORIES), scope="module")
def name(request):
    return request.param


@pytest.fixture(scope="module")
def fitted(name, planted):
    return FACTORIES[name](planted).fit(planted.train)


def test_fit_returns_self_with_shape(name, planted):
    model = FACTORIES[name](planted)
    assert model.fit(planted.train) is model
    assert (model.n_users_, model.n_titles_) == planted.train.shape


def test_recommend_frame(fitted):
    rec = fitted.recommend([3, 0, 7], k=5)
    assert list(rec.columns) == ["user_id", "title_id", "score", "rank"]
    assert [str(t) for t in rec.dtypes] == ["int32", "int32", "float64", "int32"]
    assert rec["user_id"].unique().tolist() == [3, 0, 7]  # in the order asked
    for _, group in rec.groupby("user_id"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert np.all(np.diff(group["score"].to_numpy()) <= 0)
        assert group["title_id"].is_unique
    assert np.isfinite(rec["score"]).all()


def test_exclude_seen(fitted, planted):
    users = np.arange(planted.train.shape[0])
    rec = fitted.recommend(users, k=10)
    seen = planted.train[rec["user_id"].to_numpy(), rec["title_id"].to_numpy()]
    assert not np.asarray(seen).any()
    every = fitted.recommend(users, k=planted.train.shape[1], exclude_seen=False)
    assert len(every) == planted.train.shape[0] * planted.train.shape[1]  # seen ones included


def test_k_larger_than_catalog(fitted, planted):
    rec = fitted.recommend([0, 1], k=1000)
    n_unseen = planted.train.shape[1] - np.diff(planted.train.indptr)[[0, 1]]
    assert rec.groupby("user_id").size().tolist() == n_unseen.tolist()


def test_bad_arguments_raise(fitted, planted):
    with pytest.raises(
        ValueError, match=r"unknown user_ids \[60\]: user_ids must lie in \[0, 60\)"
    ):
        fitted.recommend([0, 60])
    with pytest.raises(ValueError, match="unknown user_ids"):
        fitted.recommend([-1])
    with pytest.raises(ValueError, match="k must be a positive integer"):
        fitted.recommend([0], k=0)
    with pytest.raises(ValueError, match=r"unknown title_ids \[40\]"):
        fitted.score([0], [40])
    with pytest.raises(ValueError, match="same length"):
        fitted.score([0, 1], [0])


def test_not_fitted_raises(name, planted):
    model = FACTORIES[name](planted)
    with pytest.raises(RuntimeError, match="is not fitted: call fit"):
        model.recommend([0])
    with pytest.raises(RuntimeError, match="is not fitted"):
        model.score([0], [0])


def test_empty_request(fitted):
    rec = fitted.recommend([], k=3)
    assert rec.empty and str(rec["title_id"].dtype) == "int32"
    assert fitted.score([], []).shape == (0,)


def test_score_agrees_with_recommend(fitted):
    # float32 scores (factors, EASE/EDLAE/RP3beta weights) for batches of other shapes
    rec = fitted.recommend([5, 2, 9, 2], k=8, exclude_seen=False)
    np.testing.assert_allclose(
        fitted.score(rec["user_id"], rec["title_id"]), rec["score"], **FLOAT32
    )


def test_deterministic(name, planted):
    first = FACTORIES[name](planted).fit(planted.train).recommend(np.arange(60), k=10)
    second = FACTORIES[name](planted).fit(planted.train).recommend(np.arange(60), k=10)
    pd.testing.assert_frame_equal(first, second)


def hit_rate(model, planted, k=5):
    users = np.flatnonzero(planted.held_out >= 0)
    rec = model.recommend(users, k=k)
    hits = rec["title_id"].to_numpy() == planted.held_out[rec["user_id"]]
    n_unseen = planted.train.shape[1] - np.diff(planted.train.indptr)[users]
    return hits.sum() / users.size, np.mean(k / n_unseen)


def test_beats_random_on_planted_structure(name, fitted, planted):
    model_rate, random_rate = hit_rate(fitted, planted)
    floor = 1.3 if name in NON_PERSONAL else 2.5  # popularity sees only the within-group trend
    assert model_rate > floor * random_rate, (model_rate, random_rate)


def test_fit_on_events_log(name, planted, smoke_world):
    w = smoke_world
    model = FACTORIES[name](planted)
    if name == "content":
        model = ContentRecommender(w.titles)
    model.fit(w.events, titles=w.titles, n_users=len(w.users), n_titles=len(w.titles))
    assert (model.n_users_, model.n_titles_) == (len(w.users), len(w.titles))
    rec = model.recommend(w.users["user_id"].to_numpy()[:50], k=10)
    assert rec["title_id"].between(0, len(w.titles) - 1).all()
    assert len(rec) == 500

"""BlendRecommender: hand-computed blends, the Recommender contract, and weights from a grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from tolerances import CLOSED_FORM, FLOAT32

from persona_lib.models import ALSRecommender, EASERecommender, ItemKNNRecommender, Recommender
from persona_lib.models.recommenders.blend import BlendRecommender, standardize_rows


class FixedScores(Recommender):
    """Scores every member with one fixed row of title scores (a stand-in member model)."""

    def __init__(self, row):
        self.row = row

    def _fit(self, matrix):
        pass

    def _score_users(self, user_idx):
        return np.tile(np.asarray(self.row, dtype=np.float64), (len(user_idx), 1))


# one member, four titles, title 3 seen
SEEN = sp.csr_matrix(np.array([[0, 0, 0, 1]], dtype=np.float32))
ROW_A, ROW_B = [1.0, 2.0, 3.0, 9.0], [3.0, 1.0, 2.0, 0.0]


def test_standardize_rows_by_hand():
    # unseen [1, 2, 3]: mean 2, population std sqrt(2/3); the seen 9 uses the same moments
    s = np.sqrt(2 / 3)
    np.testing.assert_allclose(
        standardize_rows(np.array([ROW_A]), SEEN), [[-1 / s, 0.0, 1 / s, 7 / s]], **CLOSED_FORM
    )


def test_standardize_rows_degenerate_rows_are_zero():
    scores = np.array([[5.0, 5.0, 5.0], [1.0, 2.0, 3.0]])
    seen = sp.csr_matrix(np.array([[0, 0, 0], [1, 1, 0]], dtype=np.float32))
    np.testing.assert_array_equal(standardize_rows(scores, seen), np.zeros((2, 3)))


def test_blend_by_hand():
    # z_A on unseen = [-1, 0, 1] / s; z_B = [1, -1, 0] / s; 1 * z_A + 0.5 * z_B
    blend = BlendRecommender({"a": FixedScores(ROW_A), "b": FixedScores(ROW_B)},
                             weights={"a": 1.0, "b": 0.5}).fit(SEEN)  # fmt: skip
    s = np.sqrt(2 / 3)
    expected = np.array([-0.5, -0.5, 1.0]) / s
    rec = blend.recommend([0], k=3)
    assert rec["title_id"].tolist() == [2, 0, 1]  # tie of 0 and 1 broken by the lower id
    np.testing.assert_allclose(rec["score"], expected[[2, 0, 1]], **CLOSED_FORM)
    np.testing.assert_allclose(blend.score([0, 0, 0], [0, 1, 2]), expected, **CLOSED_FORM)


def test_equal_weights_by_default_and_members_copied():
    member = FixedScores(ROW_A)
    blend = BlendRecommender({"a": member, "b": FixedScores(ROW_B)}).fit(SEEN)
    assert blend.weights_ == {"a": 1.0, "b": 1.0}
    assert blend.models_["a"] is not member and not hasattr(member, "n_users_")


FACTORIES = {
    "ease_als": lambda: BlendRecommender(
        {"ease": EASERecommender(l2=10.0), "als": ALSRecommender(factors=8, iterations=10)},
        weights={"ease": 1.0, "als": 0.5},
    ),
    "ease_knn_equal": lambda: BlendRecommender(
        {"ease": EASERecommender(l2=10.0), "knn": ItemKNNRecommender(k_neighbors=10)}
    ),
}


@pytest.fixture(params=sorted(FACTORIES), scope="module")
def name(request):
    return request.param


@pytest.fixture(scope="module")
def fitted(name, planted):
    return FACTORIES[name]().fit(planted.train)


def test_recommend_frame_and_excludes_seen(fitted, planted):
    users = np.arange(planted.train.shape[0])
    rec = fitted.recommend(users, k=10)
    assert list(rec.columns) == ["user_id", "title_id", "score", "rank"]
    assert np.isfinite(rec["score"]).all()
    seen = planted.train[rec["user_id"].to_numpy(), rec["title_id"].to_numpy()]
    assert not np.asarray(seen).any()
    for _, group in rec.groupby("user_id"):
        assert np.all(np.diff(group["score"].to_numpy()) <= 0)


def test_score_agrees_with_recommend(fitted):
    # float32 members (ALS factors, EASE weights): score and recommend batch the members
    # differently, and BLAS may take another kernel for each batch shape
    rec = fitted.recommend([5, 2, 9, 2], k=8, exclude_seen=False)
    np.testing.assert_allclose(
        fitted.score(rec["user_id"], rec["title_id"]), rec["score"], **FLOAT32
    )


def test_deterministic(name, planted):
    first = FACTORIES[name]().fit(planted.train).recommend(np.arange(60), k=10)
    second = FACTORIES[name]().fit(planted.train).recommend(np.arange(60), k=10)
    pd.testing.assert_frame_equal(first, second)


def test_beats_random_on_planted_structure(fitted, planted):
    users = np.flatnonzero(planted.held_out >= 0)
    rec = fitted.recommend(users, k=5)
    hit_rate = np.mean(rec["title_id"].to_numpy() == planted.held_out[rec["user_id"]]) * 5
    n_unseen = planted.train.shape[1] - np.diff(planted.train.indptr)[users]
    assert hit_rate > 2.5 * np.mean(5 / n_unseen)


def hits(truth: pd.DataFrame, predictions: pd.DataFrame) -> float:
    """Held-out titles found in the predictions: a simple metric for the grid search."""
    pairs = pd.MultiIndex.from_frame(truth[["user_id", "title_id"]])
    return float(pairs.isin(pd.MultiIndex.from_frame(predictions[["user_id", "title_id"]])).sum())


def test_fit_weights_drops_a_useless_member(planted):
    users = np.flatnonzero(planted.held_out >= 0)
    truth = pd.DataFrame({"user_id": users, "title_id": planted.held_out[users]})
    # "anti" ranks titles against popularity within each group: never better than EASE here
    anti = FixedScores(np.tile(np.linspace(0.0, 1.0, 10), 4))
    blend = BlendRecommender({"ease": EASERecommender(l2=10.0), "anti": anti}).fit(planted.train)
    blend.fit_weights(truth, {"ease": [1.0], "anti": [0.0, 0.5, 2.0]}, hits, k=5)
    assert blend.weights_ == {"ease": 1.0, "anti": 0.0}
    assert [row["anti"] for row in blend.weight_scores_] == [0.0, 0.5, 2.0]
    scores = [row["metric"] for row in blend.weight_scores_]
    assert scores[0] == max(scores)
    only_ease = EASERecommender(l2=10.0).fit(planted.train).recommend(users, k=5)
    assert scores[0] == hits(truth, only_ease)


def test_bad_arguments_raise(planted):
    with pytest.raises(ValueError, match="at least one member model"):
        BlendRecommender({}).fit(planted.train)
    with pytest.raises(ValueError, match=r"weights must name exactly the members \['a'\]"):
        BlendRecommender({"a": FixedScores(ROW_A)}, weights={"b": 1.0}).fit(SEEN)
    with pytest.raises(ValueError, match="weights must be finite and >= 0"):
        BlendRecommender({"a": FixedScores(ROW_A)}, weights={"a": -1.0}).fit(SEEN)
    with pytest.raises(ValueError, match="at least one weight must be > 0"):
        BlendRecommender({"a": FixedScores(ROW_A)}, weights={"a": 0.0}).fit(SEEN)
    blend = BlendRecommender({"a": FixedScores(ROW_A)})
    truth = pd.DataFrame({"user_id": [0], "title_id": [1]})
    with pytest.raises(RuntimeError, match="is not fitted"):
        blend.fit_weights(truth, {"a": [1.0]}, hits)
    blend.fit(SEEN)
    with pytest.raises(ValueError, match="grid has no combination"):
        blend.fit_weights(truth, {"a": [0.0]}, hits)
    with pytest.raises(ValueError, match="grid must name exactly the members"):
        blend.fit_weights(truth, {"b": [1.0]}, hits)

"""TwoStageRanker: output contract, determinism, no leakage, and quality on a temporal holdout.

The smoke world's last 7 days are the test window (never seen by any fit); the ranker trains
on the 7 days before them (its own validation window) and is compared with each of its
candidate models fitted on the same log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT32

from persona_lib.models import EASERecommender, ItemKNNRecommender, PopularityRecommender
from persona_lib.models.recommenders.ranker import TwoStageRanker, holdout_labels, play_labels
from persona_lib.models.retention import CompletionModel

try:
    from persona_lib.evaluation import ndcg_at_k
except ImportError:  # pragma: no cover - the evaluation module is written in parallel

    def ndcg_at_k(truth, predictions, k=10, gain_col=None):
        """Binary nDCG@k averaged over the members of ``truth`` (0 without predictions)."""
        top = predictions.sort_values(["user_id", "score"], ascending=[True, False], kind="stable")
        top = top.assign(rank=top.groupby("user_id").cumcount() + 1).query("rank <= @k")
        hit = top.merge(truth[["user_id", "title_id"]], on=["user_id", "title_id"])
        dcg = (1 / np.log2(hit["rank"] + 1)).groupby(hit["user_id"]).sum()
        n_rel = truth.groupby("user_id").size().clip(upper=k)
        ideal = n_rel.map(lambda n: (1 / np.log2(np.arange(2, n + 2))).sum())
        return float((dcg.reindex(ideal.index, fill_value=0) / ideal).mean())


TEST_DAYS = 7
N_CANDIDATES = 50


def candidate_models() -> dict:
    return {
        "popular": PopularityRecommender(by="members"),
        "trending": PopularityRecommender(window_days=7, by="members"),
        "item_knn": ItemKNNRecommender(k_neighbors=50, similarity="bm25"),
        "ease": EASERecommender(l2=200.0),
    }


def make_ranker(**kwargs) -> TwoStageRanker:
    return TwoStageRanker(candidate_models(), n_candidates=N_CANDIDATES, valid_days=7, **kwargs)


@pytest.fixture(scope="module")
def split(smoke_world):
    w = smoke_world
    cutoff = w.events["ts"].max() - pd.Timedelta(days=TEST_DAYS)
    before = (w.events["ts"] < cutoff).to_numpy()
    return w.events[before], w.events[~before], w.titles, len(w.users), len(w.titles)


@pytest.fixture(scope="module")
def ranker(split):
    train, _, titles, n_users, n_titles = split
    return make_ranker().fit(train, n_users=n_users, n_titles=n_titles, titles=titles)


def test_trains_on_the_validation_window_before_the_test_window(ranker, split):
    train = split[0]
    assert ranker.cutoff_ == train["ts"].max() - pd.Timedelta(days=7)
    assert set(ranker.models_) == set(candidate_models())
    assert ranker.feature_names_[:2] == ["score_popular", "rank_popular"]
    assert {"device", "hour", "genre_match", "title_age_years"} <= set(ranker.feature_names_)


def test_recommend_frame_and_excludes_seen(ranker, split):
    train, *_ = split
    users = np.arange(0, 1000, 7)
    rec = ranker.recommend(users, k=10)
    assert list(rec.columns) == ["user_id", "title_id", "score", "rank"]
    assert [str(t) for t in rec.dtypes] == ["int32", "int32", "float64", "int32"]
    assert rec["user_id"].unique().tolist() == users.tolist()
    for _, group in rec.groupby("user_id"):
        assert group["rank"].tolist() == list(range(1, 11))
        assert np.all(np.diff(group["score"].to_numpy()) <= 0) and group["title_id"].is_unique
    played = train.loc[train["event_type"].eq("play_start"), ["user_id", "title_id"]]
    assert rec.merge(played, on=["user_id", "title_id"]).empty
    assert (rec["score"] > 1).all()  # stage-1 candidates score in (1, 2)


def test_score_agrees_with_recommend(ranker):
    # the features come from float32 candidate scores (EASE weights)
    rec = ranker.recommend([5, 2, 9, 2], k=8, exclude_seen=False)
    np.testing.assert_allclose(
        ranker.score(rec["user_id"], rec["title_id"]), rec["score"], **FLOAT32
    )


def test_lists_longer_than_the_candidates_cover_the_catalog(ranker):
    n_titles = ranker.n_titles_
    rec = ranker.recommend([0, 1], k=n_titles + 5)
    n_unseen = n_titles - np.diff(ranker.seen_.indptr)[[0, 1]]
    assert rec.groupby("user_id").size().tolist() == n_unseen.tolist()
    every = ranker.recommend([3], k=n_titles, exclude_seen=False)
    assert len(every) == n_titles
    candidates = every["score"] > 1
    assert candidates.sum() >= N_CANDIDATES and candidates.to_numpy()[: candidates.sum()].all()
    np.testing.assert_allclose(
        ranker.score(every["user_id"], every["title_id"]), every["score"], **FLOAT32
    )


def test_deterministic(ranker, split):
    train, _, titles, n_users, n_titles = split
    again = make_ranker().fit(train, n_users=n_users, n_titles=n_titles, titles=titles)
    users = np.arange(200)
    pd.testing.assert_frame_equal(ranker.recommend(users, k=10), again.recommend(users, k=10))


def test_future_events_do_not_change_training_features(split):
    """Rewrite everything after the training cutoff: only labels may change, never features."""
    train, _, titles, n_users, n_titles = split
    model = make_ranker()
    original = model.training_set(train, n_users, n_titles, titles)
    after = (train["ts"] >= original.cutoff).to_numpy()
    rng = np.random.default_rng(5)
    tampered = train.copy()
    future_titles = tampered.loc[after, "title_id"].to_numpy()
    tampered.loc[after, "title_id"] = rng.permutation(future_titles).astype(np.int32)
    tampered.loc[after, "watch_s"] = tampered.loc[after, "watch_s"] * 3
    changed = model.training_set(tampered, n_users, n_titles, titles)
    assert changed.cutoff == original.cutoff
    key = ["user_id", "title_id"]
    frames = [
        pd.concat(
            [
                pd.DataFrame({"user_id": s.user_id, "title_id": s.title_id}),
                s.features,
                pd.Series(s.gain, name="gain"),
            ],
            axis=1,
        )
        for s in (original, changed)
    ]
    both = frames[0].merge(frames[1], on=key, suffixes=("", "_changed"))
    assert len(both) > 0.2 * len(frames[0])
    for column in original.features.columns:
        pd.testing.assert_series_equal(both[column], both[f"{column}_changed"], check_names=False)
    assert not np.array_equal(both["gain"], both["gain_changed"])  # the labels did move
    common = np.intersect1d(original.user_id, changed.user_id)
    lists = [
        frame.loc[frame["user_id"].isin(common), key].reset_index(drop=True) for frame in frames
    ]
    pd.testing.assert_frame_equal(*lists)  # the same candidates for the same members


def test_matches_or_beats_the_best_candidate_model(ranker, split):
    train, test, titles, n_users, n_titles = split
    truth = play_labels(test, titles)
    truth = truth[np.asarray(ranker.seen_[truth["user_id"], truth["title_id"]]).ravel() == 0]
    users = np.unique(truth["user_id"])
    results = {"ranker": ndcg_at_k(truth, ranker.recommend(users, k=10), k=10)}
    for name, model in candidate_models().items():
        model.fit(train, n_users=n_users, n_titles=n_titles, titles=titles)
        results[name] = ndcg_at_k(truth, model.recommend(users, k=10), k=10)
    best = max(v for name, v in results.items() if name != "ranker")
    print({name: round(v, 4) for name, v in results.items()}, f"members={users.size}")
    # Measured (not tuned here): ranker 0.454, popular 0.455, trending 0.452, ease 0.406,
    # item_knn 0.377 over 570 members (the world with series resumed and binged); a paired
    # standard error is ~0.005. On the smoke world the ranker matches the popularity lists
    # within noise and beats EASE by ~0.05 (about 10 standard errors); before the viewing
    # calibration it trailed "trending" by ~0.02 and beat EASE by ~0.085. This guards against
    # regressions.
    assert results["ranker"] >= best - 0.035, results
    assert results["ranker"] > max(results["ease"], results["item_knn"]) + 0.03, results


def test_fits_a_matrix_with_a_seeded_holdout(planted):
    models = {
        "popular": PopularityRecommender(),
        "ease": EASERecommender(l2=10.0),
        "item_knn": ItemKNNRecommender(k_neighbors=10),
    }
    model = TwoStageRanker(models, n_candidates=10).fit(planted.train)
    assert model.cutoff_ is None and (model.n_users_, model.n_titles_) == planted.train.shape
    rec = model.recommend(np.arange(60), k=5)
    assert not np.asarray(planted.train[rec["user_id"], rec["title_id"]]).any()
    users = np.flatnonzero(planted.held_out >= 0)
    hits = model.recommend(users, k=5)
    rate = np.mean(hits["title_id"].to_numpy() == planted.held_out[hits["user_id"]]) * 5
    n_unseen = planted.train.shape[1] - np.diff(planted.train.indptr)[users]
    assert rate > 2.5 * np.mean(5 / n_unseen)
    again = TwoStageRanker(models, n_candidates=10).fit(planted.train)
    pd.testing.assert_frame_equal(rec, again.recommend(np.arange(60), k=5))
    np.testing.assert_allclose(
        model.score(rec["user_id"], rec["title_id"]), rec["score"], **FLOAT32
    )


def test_holdout_labels_hold_out_a_share_of_each_member(planted):
    train, labels = holdout_labels(planted.train, 0.25, random_state=3)
    counts = np.diff(planted.train.indptr)
    held = labels.groupby("user_id").size().reindex(range(60), fill_value=0).to_numpy()
    expected = np.where(counts >= 2, np.maximum(1, np.round(0.25 * counts)), 0)
    np.testing.assert_array_equal(held, expected)
    assert train.nnz + len(labels) == planted.train.nnz
    assert not np.asarray(train[labels["user_id"], labels["title_id"]]).any()
    second = holdout_labels(planted.train, 0.25, random_state=3)[1]
    pd.testing.assert_frame_equal(labels, second)


def test_play_labels_grade_completion(split):
    train, _, titles, *_ = split
    labels = play_labels(train, titles)
    assert set(labels["gain"].unique()) == {1, 2}
    assert not labels.duplicated(["user_id", "title_id"]).any()


def test_bad_arguments_raise(split, planted):
    train, _, titles, n_users, n_titles = split
    with pytest.raises(ValueError, match="candidate_models must name at least one"):
        TwoStageRanker({}).fit(planted.train)
    with pytest.raises(ValueError, match="n_candidates must be a positive integer"):
        TwoStageRanker(candidate_models(), n_candidates=0).fit(planted.train)
    with pytest.raises(ValueError, match="needs the titles table"):
        make_ranker().fit(train)
    with pytest.raises(ValueError, match="leaves no plays on one side"):
        make_ranker().fit(train, n_users, n_titles, titles, valid_days=400)
    with pytest.raises(RuntimeError, match="is not fitted"):
        make_ranker().recommend([0])


def make_completion_ranker() -> TwoStageRanker:
    return make_ranker(completion_model=CompletionModel(n_estimators=100))


@pytest.fixture(scope="module")
def completion_ranker(split, smoke_world):
    train, _, titles, n_users, n_titles = split
    return make_completion_ranker().fit(train, n_users, n_titles, titles, users=smoke_world.users)


def test_the_completion_option_adds_one_feature_and_only_with_it(ranker, completion_ranker):
    assert "expected_completion" not in ranker.feature_names_ and ranker.completion_ is None
    assert completion_ranker.feature_names_ == [*ranker.feature_names_, "expected_completion"]
    assert completion_ranker.ranker_.feature_importances_[-1] > 0  # the ranker uses it
    with pytest.raises(ValueError, match="completion_model needs an events log"):
        make_completion_ranker().fit(ranker.seen_)


def test_ranker_with_completion_recommends_deterministically(completion_ranker, split, smoke_world):
    train, _, titles, n_users, n_titles = split
    users = np.arange(0, 1000, 7)
    rec = completion_ranker.recommend(users, k=10)
    assert list(rec.columns) == ["user_id", "title_id", "score", "rank"]
    assert rec.groupby("user_id").size().eq(10).all() and (rec["score"] > 1).all()
    played = train.loc[train["event_type"].eq("play_start"), ["user_id", "title_id"]]
    assert rec.merge(played, on=["user_id", "title_id"]).empty
    np.testing.assert_allclose(
        completion_ranker.score(rec["user_id"], rec["title_id"]), rec["score"], **FLOAT32
    )
    again = make_completion_ranker().fit(train, n_users, n_titles, titles, users=smoke_world.users)
    pd.testing.assert_frame_equal(rec, again.recommend(users, k=10))


def test_future_events_do_not_change_the_expected_completion_feature(split, smoke_world):
    """The completion model and its inputs see only the log before the training cutoff."""
    train, _, titles, n_users, n_titles = split
    model = make_completion_ranker()
    original = model.training_set(train, n_users, n_titles, titles, users=smoke_world.users)
    after = (train["ts"] >= original.cutoff).to_numpy()
    tampered = train.copy()
    tampered.loc[after, "watch_s"] = tampered.loc[after, "watch_s"] * 0.1  # nothing completes
    changed = model.training_set(tampered, n_users, n_titles, titles, users=smoke_world.users)
    p = original.features["expected_completion"].to_numpy()
    assert np.all((p > 0) & (p < 1)) and p.std() > 0.01
    np.testing.assert_array_equal(changed.user_id, original.user_id)
    # exactly equal: the same fit on the same rows (any change would be a leak)
    np.testing.assert_array_equal(changed.features["expected_completion"], p)
    assert not np.array_equal(changed.gain, original.gain)  # the labels did move

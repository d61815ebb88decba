"""Recommender tuning: folds from training rows only, grids that scale with the data, the dense
size limit and its fallback, the time budget, blends, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from persona_lib.evaluation import (
    DataScale,
    Tuning,
    dense_title_limit,
    fold_scores,
    ndcg_at_k,
    recommender_grids,
    temporal_split,
    tune_recommenders,
    validation_folds,
)
from persona_lib.evaluation.tuning_space import extend_edges
from persona_lib.models import EASERecommender, PopularityRecommender

N_USERS, N_TITLES = 40, 12
FAST = ("popularity", "ease", "item_knn")


def two_tastes(seed: int = 0) -> pd.DataFrame:
    """Members 0-19 rate 5 of titles 0-5, members 20-39 rate 5 of titles 6-11 (plus one
    cross-over rating each), so a model that learns co-occurrence beats popularity."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(N_USERS):
        own = np.arange(6) + (0 if user < 20 else 6)
        other = np.arange(6) + (6 if user < 20 else 0)
        for title in [*rng.choice(own, 5, replace=False), rng.choice(other)]:
            rows.append((user, int(title), float(rng.integers(1, 6)), len(rows)))
    return pd.DataFrame(rows, columns=["user_id", "title_id", "weight", "ts"])


@pytest.fixture(scope="module")
def tuned() -> Tuning:
    return tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=FAST, budget_seconds=60,
                             k=5, random_state=0)  # fmt: skip


def test_a_model_that_learns_the_two_tastes_is_chosen_over_popularity(tuned):
    assert tuned.chosen != "popularity"
    assert tuned.best["ease"]["fold_mean"] > tuned.best["popularity"]["fold_mean"] + 0.1
    model = tuned.refit(two_tastes(), N_USERS, N_TITLES)
    top = model.recommend([0, 39], k=1)
    assert top["title_id"].iloc[0] < 6 <= top["title_id"].iloc[1]
    assert tuned.skipped.empty and tuned.elapsed_seconds < 60
    json.dumps(tuned.to_dict(), allow_nan=False)  # JSON-safe, no NaN


def test_every_grid_point_is_scored_once_with_its_fold_spread(tuned):
    for name in FAST:
        rows = tuned.scores[(tuned.scores["candidate"] == name)
                            & tuned.scores["stage"].isin(["first", "grid"])]  # fmt: skip
        assert len(rows) == len(tuned.grids[name].points())
        assert all(len(s) == 2 for s in rows["fold_scores"])
        spread = rows["fold_scores"].map(lambda s: abs(s[0] - s[1]) / np.sqrt(2))
        assert np.allclose(rows["fold_sd"], spread, atol=1e-6)
    assert tuned.scores["stage"].iloc[0] == "first" and tuned.scores["candidate"].iloc[0] == (
        "popularity")  # fmt: skip


def test_the_blend_is_kept_out_unless_its_paired_interval_is_above_zero(tuned):
    check = tuned.blend_check
    assert set(check["params"]["members"]) <= set(FAST)
    assert check["chosen"] == (check["ci95"][0] > 0 and check["fold_mean"] >
                               tuned.best[check["vs"]]["fold_mean"])  # fmt: skip
    assert (tuned.chosen == "blend") == check["chosen"]
    blend = tuned.make("blend").fit(two_tastes(), N_USERS, N_TITLES)
    assert len(blend.recommend([0], k=3)) == 3


def test_a_zero_budget_scores_only_the_first_unit_and_lists_what_it_skipped():
    tuning = tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=FAST, budget_seconds=0)
    assert list(tuning.scores["candidate"]) == ["popularity"]
    assert tuning.chosen == "popularity" and tuning.weights is None
    skipped = tuning.skipped
    assert {"ease", "item_knn", "blend"} <= set(skipped["candidate"])
    n_points = sum(len(tuning.grids[n].points()) for n in ("ease", "item_knn"))
    assert (skipped["reason"] == "time budget spent").sum() == n_points
    assert tuning.to_dict()["skipped"][0]["stage"] == "first"


def test_the_regularization_grids_move_with_the_interaction_count():
    small = DataScale(1000, 500, 10_000, 500, 2.0)
    large = DataScale(1000, 500, 40_000, 500, 2.0)
    g_small, _ = recommender_grids(small)
    g_large, _ = recommender_grids(large)
    for name, key in [("ease", "l2"), ("als", "regularization"), ("edlae", "l2")]:
        ratio = np.array(g_large[name].grid[key]) / np.array(g_small[name].grid[key])
        assert np.allclose(ratio, 4.0, rtol=0.01), (name, ratio)
    assert g_small["ease"].grid["l2"] == [50.0, 100.0, 200.0, 400.0]  # {2.5 .. 20} x 20 per title
    assert g_small["als"].grid["alpha"] == [1.0, 3.0]  # mean confidence {2, 6} / weight 2
    tiny, _ = recommender_grids(DataScale(10, 12, 30, 12, 1.0))
    assert max(tiny["als"].grid["factors"]) <= 12 // 4
    with pytest.raises(ValueError, match="above its bound"):  # edge steps stop at the bound too
        tiny["als"].make({"factors": 4})
    assert max(tiny["item_knn"].grid["k_neighbors"]) < 12


def test_dense_models_drop_out_above_the_memory_limit_with_a_fallback():
    assert dense_title_limit(2**31, 28) == 8757 and dense_title_limit(2**31, 24) == 9459
    grids, excluded = recommender_grids(DataScale(10_000, 9_000, 10**6, 9_000, 1.0))
    assert set(excluded) == {"ease", "edlae"} and "memory_bytes" in excluded["ease"]
    assert {"item_knn", "rp3beta", "als"} <= set(grids)
    _, above_all = recommender_grids(DataScale(10_000, 10_000, 10**6, 10_000, 1.0))
    assert set(above_all) == {"ease", "edlae", "item_knn", "rp3beta"}
    # 12 titles: EASE needs 28 * 144 = 4,032 bytes, item-kNN 24 * 144 = 3,456
    tuning = tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=FAST,
                               budget_seconds=None, memory_bytes=3_500)  # fmt: skip
    assert "ease" not in tuning.best and "item_knn" in tuning.best
    assert tuning.skipped.set_index("candidate").loc["ease", "reason"].startswith("12 titles")
    with pytest.raises(ValueError, match="no family can be tuned"):
        tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=["ease"], memory_bytes=100)


def test_stratified_folds_hold_only_training_rows_and_new_pairs():
    frame = two_tastes()
    train, test = temporal_split(frame, 0.25)
    for fold in validation_folds(train, "stratified", n_folds=3, random_state=5):
        assert set(fold.fit.index) | set(fold.truth.index) <= set(train.index)
        assert not set(fold.truth.index) & set(test.index)
        fitted = set(zip(fold.fit["user_id"], fold.fit["title_id"], strict=True))
        assert not fitted & set(zip(fold.truth["user_id"], fold.truth["title_id"], strict=True))
    seeds = [validation_folds(train, "stratified", 1, random_state=s)[0].truth.index.tolist()
             for s in (0, 1)]  # fmt: skip
    assert seeds[0] != seeds[1]


def test_temporal_folds_never_reach_past_the_training_cut():
    frame = two_tastes()
    train, test = temporal_split(frame, 0.25)
    cut = test["ts"].min()
    folds = validation_folds(train, "temporal", n_folds=2, valid_days=30)
    for i, fold in enumerate(folds):
        truth_rows = train.loc[fold.truth.index]
        assert set(fold.fit.index) <= set(train.index) and set(truth_rows.index) <= set(train.index)
        assert fold.fit["ts"].max() < truth_rows["ts"].min()
        assert truth_rows["ts"].max() < cut
        assert truth_rows["ts"].max() <= train["ts"].max() - 30 * i
    assert folds[1].fit["ts"].max() < folds[0].fit["ts"].max()


def test_temporal_folds_of_an_events_log_use_plays_before_the_cut():
    frame = two_tastes()
    ts = pd.Timestamp("2025-01-01") + pd.to_timedelta(frame["ts"] * 3, unit="h")
    events = frame.assign(ts=ts, event_type="play_start")
    train = events[events["ts"] < ts.quantile(0.8)]
    fold = validation_folds(train, "temporal", n_folds=1, valid_days=5)[0]
    inner_cut = train["ts"].max() - pd.Timedelta(days=5)
    assert fold.fit["ts"].max() < inner_cut
    late = train[train["ts"] >= inner_cut]
    assert set(zip(fold.truth["user_id"], fold.truth["title_id"], strict=True)) <= set(
        zip(late["user_id"], late["title_id"], strict=True))  # fmt: skip
    with pytest.raises(ValueError, match="split an events log in time"):
        validation_folds(train, "stratified")


def test_tuning_is_deterministic_for_a_seed():
    families = ("popularity", "ease", "als")
    runs = [tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=families,
                              budget_seconds=None, random_state=7) for _ in range(2)]  # fmt: skip
    columns = ["candidate", "stage", "fold_mean", "fold_sd"]
    pd.testing.assert_frame_equal(runs[0].scores[columns], runs[1].scores[columns])
    assert runs[0].chosen == runs[1].chosen and runs[0].params == runs[1].params
    assert runs[0].best == runs[1].best and runs[0].blend_check == runs[1].blend_check


def test_fold_scores_average_to_ndcg_at_k():
    folds = validation_folds(two_tastes(), "stratified", n_folds=2)
    per_fold = fold_scores(lambda: EASERecommender(l2=10.0), folds, N_USERS, N_TITLES, k=5)
    for fold, per_member in zip(folds, per_fold, strict=True):
        model = EASERecommender(l2=10.0).fit(fold.fit, N_USERS, N_TITLES)
        rec = model.recommend(np.unique(fold.truth["user_id"]), k=5)
        assert per_member.mean() == pytest.approx(ndcg_at_k(fold.truth, rec, k=5), abs=1e-12)
    assert fold_scores(PopularityRecommender, [(folds[0].fit, folds[0].truth)], N_USERS,
                       N_TITLES)[0].size == folds[0].truth["user_id"].nunique()  # fmt: skip


def test_an_edge_walk_stops_when_the_budget_returns_none():
    calls = []

    def score_of(params):
        calls.append(params["l2"])
        return None

    assert extend_edges({"l2": [1.0, 2.0]}, {"l2": 2.0}, 0.5, score_of) == ({"l2": 2.0}, 0.5, [])
    assert calls == [4.0]


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="budget_seconds must be >= 0"):
        tune_recommenders(two_tastes(), N_USERS, N_TITLES, budget_seconds=-1)
    with pytest.raises(ValueError, match="unknown families"):
        tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=["svd"])
    with pytest.raises(ValueError, match="how must be one of"):
        validation_folds(two_tastes(), "random")
    tuning = tune_recommenders(two_tastes(), N_USERS, N_TITLES, budget_seconds=0)
    with pytest.raises(ValueError, match="no blend was tried"):
        tuning.make("blend")
    assert tuning.make("ease").l2 == tuning.grids["ease"].center()["l2"]  # unscored: middle
    with pytest.raises(ValueError, match="'svd' is not a candidate"):
        tuning.make("svd")


def test_max_points_runs_the_first_units_in_the_stated_order_and_lists_the_rest():
    full = tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=FAST, budget_seconds=None,
                             k=5, random_state=0)  # fmt: skip
    cut = tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=FAST, budget_seconds=None,
                            max_points=4, k=5, random_state=0)  # fmt: skip
    # each family's middle point first, then the rest of the best family's grid
    assert cut.units == 4 and len(cut.scores) == 4 and cut.max_points == 4
    columns = ["candidate", "stage", "fold_mean"]
    pd.testing.assert_frame_equal(cut.scores[columns], full.scores[columns].head(4))
    assert list(cut.scores["stage"]) == ["first", "first", "first", "grid"]
    assert set(cut.skipped["reason"]) == {"the limit of 4 settings was reached"}
    assert "blend" in set(cut.skipped["candidate"]) and not cut.blend_check
    n_grid = sum(len(cut.grids[n].points()) for n in FAST)
    assert (cut.skipped["stage"] == "grid").sum() == n_grid - 4
    assert cut.to_dict()["max_points"] == 4 and cut.to_dict()["units"] == 4
    # a unit budget above the whole search changes nothing; the blend counts as one unit
    assert full.blend_check
    assert full.units == (full.scores["candidate"] != "blend").sum() + 1
    roomy = tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=FAST, budget_seconds=None,
                              max_points=full.units, k=5, random_state=0)  # fmt: skip
    pd.testing.assert_frame_equal(roomy.scores[columns], full.scores[columns])
    assert roomy.skipped.empty and roomy.chosen == full.chosen and roomy.units == full.units


def test_max_points_of_one_scores_only_the_first_unit():
    tuning = tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=FAST,
                               budget_seconds=None, max_points=1)  # fmt: skip
    assert list(tuning.scores["candidate"]) == ["popularity"] and tuning.chosen == "popularity"
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="max_points must be a positive integer or None"):
            tune_recommenders(two_tastes(), N_USERS, N_TITLES, max_points=bad)


def test_the_table_has_one_row_per_candidate_best_score_first(tuned):
    table = tuned.table()
    assert list(table.columns) == ["candidate", "settings", "valid_ndcg_at_5", "fold_sd", "scored",
                                   "skipped", "chosen"]  # fmt: skip
    assert set(table["candidate"]) == {*FAST, "blend"} and table["chosen"].sum() == 1
    assert table["valid_ndcg_at_5"].is_monotonic_decreasing
    row = table.set_index("candidate").loc["ease"]
    assert row["valid_ndcg_at_5"] == tuned.best["ease"]["fold_mean"]
    assert row["settings"] == f"l2 = {tuned.best['ease']['params']['l2']:g}"
    assert row["scored"] == (tuned.scores["candidate"] == "ease").sum() and row["skipped"] == 0
    assert table.set_index("candidate").loc["popularity", "settings"] == "(none)"
    cut = tune_recommenders(two_tastes(), N_USERS, N_TITLES, families=FAST, budget_seconds=None,
                            max_points=1).table().set_index("candidate")  # fmt: skip
    assert cut.index[-1] in {"ease", "item_knn", "blend"} and np.isnan(cut["fold_sd"].iloc[-1])
    assert cut.loc["blend", "settings"] == "" and cut.loc["ease", "scored"] == 0
    assert cut.loc["ease", "skipped"] == len(tuned.grids["ease"].points())

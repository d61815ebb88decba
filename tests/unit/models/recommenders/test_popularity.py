"""PopularityRecommender: hand-computed counts, ties, and the recent window."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from persona_lib.models import PopularityRecommender

X = sp.csr_matrix(np.array([[1, 0, 2, 0], [3, 0, 0, 0], [0, 0, 1, 5]], dtype=np.float32))


def test_sum_of_weights_and_member_counts():
    np.testing.assert_array_equal(PopularityRecommender().fit(X).popularity_, [4, 0, 3, 5])
    by_members = PopularityRecommender(by="members").fit(X)
    np.testing.assert_array_equal(by_members.popularity_, [2, 0, 2, 1])


def test_ties_go_to_the_lower_title_id():
    rec = PopularityRecommender(by="members").fit(X).recommend([1], k=4, exclude_seen=False)
    assert rec["title_id"].tolist() == [0, 2, 3, 1]
    assert rec["score"].tolist() == [2, 2, 1, 0]


def test_same_ranking_for_everyone_minus_seen():
    rec = PopularityRecommender().fit(X).recommend([0, 1, 2], k=2)
    assert rec.groupby("user_id")["title_id"].apply(list).to_dict() == {
        0: [3, 1], 1: [3, 2], 2: [0, 1]}  # fmt: skip


def frame(rows):
    return pd.DataFrame(rows, columns=["user_id", "title_id", "weight", "ts"]).assign(
        ts=lambda f: pd.Timestamp("2025-01-01") + pd.to_timedelta(f["ts"], unit="D")
    )


def test_recent_window_counts_only_recent_plays_but_excludes_all_seen():
    log = frame([(0, 0, 1, 0), (1, 0, 1, 1), (2, 0, 1, 2), (0, 1, 1, 29), (1, 1, 1, 30),
                 (3, 2, 1, 25)])  # fmt: skip
    overall = PopularityRecommender().fit(log)
    assert overall.recommend([3], k=1)["title_id"].tolist() == [0]
    recent = PopularityRecommender(window_days=7).fit(log)
    np.testing.assert_array_equal(recent.popularity_, [0, 2, 1])
    assert recent.window_start_ == pd.Timestamp("2025-01-24")
    assert recent.recommend([3], k=3)["title_id"].tolist() == [1, 0]  # 2 seen, long ago
    assert recent.recommend([0], k=3)["title_id"].tolist() == [2]  # 0 seen outside the window


def test_recent_window_on_an_events_log(smoke_world):
    w = smoke_world
    model = PopularityRecommender(window_days=3).fit(
        w.events, titles=w.titles, n_users=len(w.users), n_titles=len(w.titles)
    )
    full = PopularityRecommender().fit(w.events, titles=w.titles, n_users=len(w.users))
    assert model.popularity_.sum() < full.popularity_.sum()
    assert model.seen_.nnz == full.seen_.nnz


def test_invalid_arguments():
    with pytest.raises(ValueError, match="window_days needs a frame with a 'ts' column"):
        PopularityRecommender(window_days=7).fit(X)
    with pytest.raises(ValueError, match="window_days must be > 0"):
        PopularityRecommender(window_days=0).fit(frame([(0, 0, 1, 0)]))
    with pytest.raises(ValueError, match="by must be one of"):
        PopularityRecommender(by="plays").fit(X)

"""Real-time scoring: one member's page equals the batch page; recent plays take effect."""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import FLOAT32, assert_equal_up_to_ties

from persona_lib.models import (
    ALSRecommender,
    EASERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
)
from persona_lib.models.homepage.page import ROW_KINDS
from persona_lib.models.homepage.scorer import HomepageScorer, title_neighbours
from persona_lib.sim import load_preset, simulate

FACTORIES = {
    "als": lambda: ALSRecommender(factors=8, regularization=10.0, iterations=5),
    "ease": lambda: EASERecommender(l2=200.0),
    "item_knn": lambda: ItemKNNRecommender(k_neighbors=20),
    "popularity": PopularityRecommender,
    "none": lambda: None,
}


@pytest.fixture(scope="module")
def world():
    return simulate(load_preset("smoke").replace(n_users=300, n_days=14))


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def scorer(request, world):
    model = FACTORIES[request.param]()
    if model is not None:
        model.fit(world.events, n_users=300, n_titles=len(world.titles), titles=world.titles)
    return HomepageScorer.from_recommender(model, world.titles, events=world.events)


def test_single_page_equals_batch_page(scorer):
    # ALS scores one member and a batch by different BLAS calls, in float32: the scores agree to
    # float32 precision, so rows and titles may differ only where their scores tie within it
    users = np.arange(0, 300, 7)
    batch = scorer.pages(users, n_rows=6, n_cols=8)
    for i in (0, 5, len(users) - 1):
        one = scorer.page(users[i], n_rows=6, n_cols=8)
        rows = np.stack([one.row_kind[0], one.row_key[0]], axis=-1)
        batch_rows = np.stack([batch.row_kind[i], batch.row_key[i]], axis=-1)
        assert_equal_up_to_ties(rows, one.row_score[0], batch_rows, batch.row_score[i], **FLOAT32)
        assert_equal_up_to_ties(
            one.title_id[0], one.score[0], batch.title_id[i], batch.score[i], **FLOAT32
        )
    frame = scorer.page(users[0], n_rows=6, n_cols=8).to_frame()
    assert len(frame) == 48 and frame["title_id"].is_unique


def test_unknown_member_gets_a_popularity_page(scorer):
    page = scorer.page(10_000, n_rows=3, n_cols=5)
    assert page.title_id.shape == (1, 3, 5)
    assert "continue" not in page.row_names()[0]


def test_recent_plays_become_played_anchors(world):
    model = FACTORIES["als"]().fit(world.events, n_users=300, n_titles=len(world.titles),
                                   titles=world.titles)  # fmt: skip
    scorer = HomepageScorer.from_recommender(model, world.titles, events=world.events,
                                             priors={"because": 3.0})  # fmt: skip
    before = scorer.page(3, n_rows=6, n_cols=8)
    played = scorer.history.rows([3])[0][0]
    recent = int(np.argmax(np.where(played, -1, scorer.history.popularity_)))  # has neighbours
    after = scorer.page(3, history=[recent], n_rows=6, n_cols=8)
    assert f"because:{recent}" in after.row_names()[0]
    discovery = ~np.isin(after.row_kind[0], [ROW_KINDS.index("continue"),
                                             ROW_KINDS.index("trending")])  # fmt: skip
    assert recent not in after.title_id[0][discovery]
    assert not np.allclose(after.score, before.score)  # the member was folded in again


def test_title_neighbours_skip_self_and_dissimilar():
    sim = np.array([[1.0, 0.5, -0.2], [0.5, 1.0, 0.1], [-0.2, 0.1, 1.0]])
    assert title_neighbours(sim, 2).tolist() == [[1, -1], [0, 2], [1, -1]]

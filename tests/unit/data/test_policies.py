"""Serving policies: page shapes, logged propensities and learning from logged plays only."""

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT32

from persona_lib.data import schema
from persona_lib.data.policies import (
    ROW_NAMES,
    Page,
    PageRequest,
    PopularityGenrePolicy,
    artwork_index,
)
from persona_lib.sim import SimulationConfig
from persona_lib.sim.population import make_population


@pytest.fixture(scope="module")
def catalog():
    pop = make_population(SimulationConfig(n_users=50, n_titles=80, n_days=5))
    return pop.titles, pop.artworks


def request_for(catalog, users, day=0, n_rows=8, n_cols=10, seed=0):
    titles, artworks = catalog
    users = np.asarray(users)
    return PageRequest(
        np.arange(users.size),
        users,
        np.zeros(users.size, np.int8),
        np.full(users.size, 20, np.int8),
        day,
        n_rows,
        n_cols,
        np.random.default_rng(seed),
        titles,
        artworks,
    )


def plays_frame(users, titles_played):
    n = len(users)
    return pd.DataFrame(
        {
            "ts": np.full(n, np.datetime64("2025-01-01T20:00", "ms")),
            "user_id": np.asarray(users, np.int32),
            "event_type": pd.Categorical(["play_start"] * n, categories=list(schema.EVENT_TYPES)),
            "title_id": np.asarray(titles_played, np.int32),
        }
    )


def test_page_shapes_dtypes_and_propensities(catalog):
    policy = PopularityGenrePolicy()
    page = policy.serve(request_for(catalog, np.arange(5)))
    assert page.title_id.shape == page.artwork_id.shape == page.pscore.shape == (5, 8, 10)
    assert page.row_id.shape == (5, 8)
    assert page.title_id.dtype == np.int32 and page.artwork_id.dtype == np.int32
    assert page.pscore.dtype == np.float32
    titles, artworks = catalog
    _, count = artwork_index(artworks)
    np.testing.assert_allclose(page.pscore, 1.0 / count[page.title_id], **FLOAT32)
    names = [page.row_names[i] for i in page.row_id[0]]
    assert names[:3] == ["popular", "trending", "new"]  # no series in progress yet
    assert set(names[3:]) <= {f"genre:{g}" for g in schema.GENRES}


def test_artwork_is_uniform_among_a_titles_artworks(catalog):
    titles, artworks = catalog
    policy = PopularityGenrePolicy()
    page = policy.serve(request_for(catalog, np.zeros(4000, int), n_rows=1, n_cols=1))
    first = page.title_id[:, 0, 0]
    title = np.bincount(first).argmax()
    chosen = page.artwork_id[first == title, 0, 0]
    freq = np.bincount(chosen - chosen.min()) / chosen.size
    offset, count = artwork_index(artworks)
    assert freq.size == count[title]
    assert np.all(np.abs(freq - 1 / count[title]) < 0.06)


def test_update_learns_popularity_genres_and_continue_watching(catalog):
    titles, _ = catalog
    policy = PopularityGenrePolicy(exploration=0.0)
    policy.serve(request_for(catalog, [0]))
    series = titles.loc[titles["kind"] == "series", "title_id"].to_numpy()
    hit = int(series[0])
    policy.update(plays_frame([1] * 30 + [2], [hit] * 31))
    page = policy.serve(request_for(catalog, [1, 3], day=1))
    names = [ROW_NAMES[i] for i in page.row_id[0]]
    assert names[0] == "continue" and page.title_id[0, 0, 0] == hit
    popular = list(page.row_id[1]).index(ROW_NAMES.index("popular"))
    assert page.title_id[1, popular, 0] == hit
    hit_genres = {f"genre:{g}" for g in titles.loc[hit, "genres"].split("|")}
    genre_rows = [n for n in names if n.startswith("genre:")]
    assert set(genre_rows[: len(hit_genres)]) == hit_genres


def test_fewer_rows_than_requested_are_allowed(catalog):
    page = PopularityGenrePolicy().serve(request_for(catalog, [0, 1], n_rows=40, n_cols=6))
    assert page.title_id.shape[1] <= len(ROW_NAMES) - 1
    assert page.title_id.shape[2] == 6


def test_page_rejects_inconsistent_shapes():
    with pytest.raises(ValueError, match="must share one"):
        Page(
            np.zeros((1, 2, 3), np.int32),
            np.zeros((1, 2, 2), np.int32),
            np.ones((1, 2, 3), np.float32),
            np.zeros((1, 2), np.int16),
            ("popular",),
        )
    with pytest.raises(ValueError, match="row_id must have shape"):
        Page(
            np.zeros((1, 2, 3), np.int32),
            np.zeros((1, 2, 3), np.int32),
            np.ones((1, 2, 3), np.float32),
            np.zeros((1, 3), np.int16),
            ("popular",),
        )


def test_cached_rankings_and_artwork_index_serve_the_same_pages(catalog):
    cached, fresh = PopularityGenrePolicy(), PopularityGenrePolicy()
    for day in range(3):
        for seed in range(2):
            fresh._candidate_cache = {}  # rank from scratch for every request
            fresh._artwork_index_cache = None
            a = cached.serve(request_for(catalog, [0, 1, 2], day=day, seed=seed))
            b = fresh.serve(request_for(catalog, [0, 1, 2], day=day, seed=seed))
            np.testing.assert_array_equal(a.title_id, b.title_id)
            np.testing.assert_array_equal(a.artwork_id, b.artwork_id)
        for policy in (cached, fresh):
            policy.update(plays_frame([day, 4], [day, 7]))

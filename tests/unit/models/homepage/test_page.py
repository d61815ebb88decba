"""Page building: shape, no repeated title, played titles kept out, row choice and diversity."""

from __future__ import annotations

import numpy as np
import pytest

from persona_lib.models.homepage.page import (
    ROW_KINDS,
    MemberInputs,
    PageCatalog,
    build_pages,
    standardize,
)

N_TITLES, GENRES = 60, ("A", "B", "C")


def make_catalog(n_neighbours: int = 5) -> PageCatalog:
    ids = np.arange(N_TITLES)
    genres = np.zeros((N_TITLES, len(GENRES)), dtype=bool)
    genres[ids, ids % 3] = True
    genres[ids % 10 == 0, 1] = True  # some titles in two genres
    neighbours = (ids[:, None] + np.arange(1, n_neighbours + 1)) % N_TITLES
    trending = np.linspace(2.0, 1.0, N_TITLES)
    return PageCatalog(genres, GENRES, neighbours, trending, ids >= N_TITLES - 6)


def make_members(n: int = 5, random_state: int = 0) -> MemberInputs:
    rng = np.random.default_rng(random_state)
    played = rng.random((n, N_TITLES)) < 0.1
    cont = np.full((n, 3), -1)
    cont[0, :2] = np.flatnonzero(played[0])[:2]
    anchors = np.full((n, 2), -1)
    anchors[:, 0] = np.argmax(played, axis=1)
    return MemberInputs(rng.normal(size=(n, N_TITLES)), played, cont, anchors)


def test_page_shape_and_no_repeats():
    members = make_members()
    page = build_pages(np.arange(5), members, make_catalog(), n_rows=4, n_cols=5)
    assert page.title_id.shape == (5, 4, 5)
    for u in range(5):
        titles = page.title_id[u].ravel()
        assert np.unique(titles).size == titles.size  # never twice on one page
        names = page.row_names()[u]
        assert len(set(names)) == len(names)  # never the same row twice


def test_played_titles_only_in_continue_and_trending_rows():
    members = make_members()
    page = build_pages(np.arange(5), members, make_catalog(), n_rows=5, n_cols=4)
    kinds = np.asarray(ROW_KINDS)[page.row_kind]
    for u in range(5):
        for r in range(5):
            if kinds[u, r] in ("continue", "trending"):
                continue
            assert not members.played[u, page.title_id[u, r]].any()


def test_continue_row_holds_unfinished_titles_first():
    members = make_members()
    page = build_pages(np.arange(5), members, make_catalog(), n_rows=3, n_cols=4,
                       priors={"continue": 10.0})  # fmt: skip
    assert page.row_names()[0, 0] == "continue"
    assert page.title_id[0, 0, :2].tolist() == members.continue_ids[0, :2].tolist()
    assert "continue" not in page.row_names()[1]  # member 1 has nothing unfinished


def test_top_picks_are_the_best_unplayed_titles():
    members = make_members()
    page = build_pages(np.arange(5), members, make_catalog(), n_rows=2, n_cols=5,
                       diversity=0.0, priors={"top_picks": 5.0, "continue": 0.0})  # fmt: skip
    z = np.where(members.played, -np.inf, members.scores)
    for u in range(5):
        assert page.row_names()[u, 0] == "top_picks"
        assert page.title_id[u, 0].tolist() == np.argsort(-z[u])[:5].tolist()
        assert np.allclose(page.score[u, 0], standardize(members.scores)[u, page.title_id[u, 0]])


def test_because_row_names_its_anchor():
    members = make_members()
    page = build_pages(np.arange(5), members, make_catalog(), n_rows=8, n_cols=3,
                       priors={"because": 5.0})  # fmt: skip
    anchor = members.anchors[2, 0]
    assert f"because:{anchor}" in page.row_names()[2]
    frame = page.to_frame()
    assert list(frame.columns) == ["user_id", "row_position", "row_id", "col_position",
                                   "title_id", "score"]  # fmt: skip
    assert len(frame) == 5 * 8 * 3


def test_diversity_mixes_row_kinds():
    """Genre rows are alike (same pool, overlapping genres): diversity brings other kinds in."""
    members = make_members(n=20, random_state=1)
    catalog = make_catalog()

    def kinds_per_page(diversity):
        page = build_pages(np.arange(20), members, catalog, n_rows=4, n_cols=4,
                           diversity=diversity)  # fmt: skip
        return np.mean([np.unique(row).size for row in page.row_kind])

    assert kinds_per_page(0.9) > kinds_per_page(0.0)


def test_page_can_always_be_filled_from_a_small_catalog():
    members = make_members(n=3)
    members.played[:] = True  # everything played: trending still fills the page
    page = build_pages(np.arange(3), members, make_catalog(), n_rows=6, n_cols=10)
    assert all(np.unique(t).size == 60 for t in page.title_id.reshape(3, -1))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="diversity must be in"):
        build_pages([0], make_members(1), make_catalog(), 2, 2, diversity=1.5)
    with pytest.raises(ValueError, match="cannot fill 7 x 10"):
        build_pages([0], make_members(1), make_catalog(), 7, 10)

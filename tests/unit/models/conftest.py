"""A small members x titles world with planted taste groups, shared by the recommender tests.

60 members and 40 titles in 4 taste groups: member u is in group ``[0, 0, 1, 2, 3][u % 5]``
(group 0 the largest), title j in group ``j // 10``. A member plays a title of their own group
with probability 0.85 * base_j, of another group with 0.05 * base_j, where base_j falls from 1
to 0.4 within each group (so popularity alone carries some signal too). Each member's held-out
title is one random play. Titles carry their group's genre and synopsis words, so content
models see the groups as well.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

N_USERS, N_TITLES, N_GROUPS = 60, 40, 4
GROUP_GENRES = ("Drama", "Comedy", "Horror", "Anime")
GROUP_WORDS = (
    ("family", "secret", "grief", "letters", "winter"),
    ("wedding", "roommates", "prank", "chaos", "party"),
    ("haunted", "cellar", "scream", "curse", "blood"),
    ("mecha", "academy", "spirit", "tournament", "ninja"),
)
COMMON_WORDS = ("city", "journey", "night", "friend", "story", "road", "summer", "truth")


def make_planted(random_state: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(random_state)
    user_group = np.array([0, 0, 1, 2, 3])[np.arange(N_USERS) % 5]  # group 0 the largest
    title_group = np.arange(N_TITLES) // (N_TITLES // N_GROUPS)
    base = np.tile(np.linspace(1.0, 0.4, N_TITLES // N_GROUPS), N_GROUPS)
    match = user_group[:, None] == title_group[None, :]
    played = rng.random((N_USERS, N_TITLES)) < np.where(match, 0.85, 0.05) * base
    weights = np.where(played, 1.0 + rng.integers(0, 40, played.shape), 0.0)
    held_out = np.full(N_USERS, -1)
    for u in range(N_USERS):
        titles = np.flatnonzero(played[u])
        if titles.size >= 2:
            held_out[u] = rng.choice(titles)
            weights[u, held_out[u]] = 0.0
    train = sp.csr_matrix(weights.astype(np.float32))
    train.eliminate_zeros()
    synopses = [
        " ".join([*rng.choice(GROUP_WORDS[g], 3), *rng.choice(COMMON_WORDS, 2)])
        for g in title_group
    ]
    titles = pd.DataFrame({
        "title_id": np.arange(N_TITLES, dtype=np.int32),
        "genres": [GROUP_GENRES[g] for g in title_group],
        "synopsis": synopses,
    })  # fmt: skip
    return SimpleNamespace(train=train, held_out=held_out, titles=titles,
                           user_group=user_group, title_group=title_group)  # fmt: skip


@pytest.fixture(scope="session")
def planted() -> SimpleNamespace:
    return make_planted()

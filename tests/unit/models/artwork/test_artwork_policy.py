"""`ArtworkPolicy` in the simulator: learning artwork beats uniform artwork, deterministically."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_lib.models.artwork import (
    ArtworkCatalog,
    ArtworkPolicy,
    LinUCBPolicy,
    UniformRandomPolicy,
)
from persona_lib.sim import load_preset, simulate

N_DAYS = 8


def config():
    return load_preset("smoke").replace(n_days=N_DAYS)


def true_take(world) -> dict[str, float]:
    """True click probability of the shown artwork vs a uniform artwork on the same impressions.

    ``lift`` isolates the artwork choice: the pages (titles, members, devices) differ between
    worlds, so raw take fractions mix in the title mix.
    """
    imp = world.events[world.events["event_type"] == "impression"]
    user, title = imp["user_id"].to_numpy(), imp["title_id"].to_numpy()
    device = imp["device"].cat.codes.to_numpy()
    shown = world.truth.click_prob(user, title, imp["artwork_id"].to_numpy(), device)
    cand = ArtworkCatalog.from_tables(world.titles, world.artworks).candidates[title]
    k = cand.shape[1]
    every = world.truth.click_prob(np.repeat(user, k), np.repeat(title, k),
                                   np.maximum(cand, 0).ravel(), np.repeat(device, k))  # fmt: skip
    every = every.reshape(cand.shape)
    valid = cand >= 0
    uniform = (every * valid).sum(axis=1) / valid.sum(axis=1)
    plays = world.events[world.events["event_type"] == "play_stop"]["watch_s"] >= 600
    return {"take": float(shown.mean()), "lift": float(shown.mean() / uniform.mean()),
            "quality_plays_per_impression": float(plays.sum() / len(imp))}  # fmt: skip


@pytest.fixture(scope="module")
def worlds():
    return {
        "uniform": simulate(config(), ArtworkPolicy(UniformRandomPolicy())),
        "linucb": simulate(config(), ArtworkPolicy(LinUCBPolicy(alpha=0.1))),
    }


def test_learned_artwork_beats_uniform(worlds):
    uniform, linucb = true_take(worlds["uniform"]), true_take(worlds["linucb"])
    print(f"\nuniform {uniform}\nlinucb  {linucb}")
    assert abs(uniform["lift"] - 1.0) < 0.02
    assert linucb["lift"] > 1.08  # measured 1.167 on the smoke preset, 8 days
    assert linucb["take"] > uniform["take"] * 1.04


def test_logged_pscores_are_the_bandits(worlds):
    world = worlds["linucb"]
    imp = world.events[world.events["event_type"] == "impression"]
    pscore = world.propensities.set_index("event_id").loc[imp["event_id"], "pscore"].to_numpy()
    assert (pscore == 1).mean() > 0.5  # LinUCB is deterministic but for exact ties


def test_same_world_twice(worlds):
    again = simulate(config(), ArtworkPolicy(LinUCBPolicy(alpha=0.1)))
    pd.testing.assert_frame_equal(again.events, worlds["linucb"].events)
    pd.testing.assert_frame_equal(again.propensities, worlds["linucb"].propensities)


def test_uniform_bandit_keeps_the_default_pages(worlds):
    """With a uniform bandit only the artwork draw differs from the default policy's world."""
    default = simulate(config())
    imp = default.events["event_type"] == "impression"
    ours = worlds["uniform"].events["event_type"] == "impression"
    ratio = imp.sum() / ours.sum()
    assert 0.95 < ratio < 1.05


def test_bad_reward_is_named():
    with pytest.raises(ValueError, match="reward must be one of"):
        ArtworkPolicy(LinUCBPolicy(), reward="hours")

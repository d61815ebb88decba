"""The viewing model: series progress, autoplayed episodes, evening sittings, the U-shaped watch."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import beta

from persona_lib.sim import SimulationConfig
from persona_lib.sim.day import (
    COMPLETION_FRACTION,
    MAX_EPISODES_PER_SITTING,
    episodes_after,
    is_evening,
    watch_fraction_shape,
)
from persona_lib.sim.sessions import SeriesProgress

HOUR_MS = 3_600_000


def test_series_progress_keeps_the_most_episodes_per_member_and_series():
    progress = SeriesProgress(n_titles=10)
    assert progress.episodes(np.array([0, 1]), np.array([3, 3])).tolist() == [0, 0]
    progress.update(np.array([1, 0, 1]), np.array([3, 5, 3]), np.array([2, 4, 1]))
    assert progress.keys.tolist() == [5, 13]  # sorted user * n_titles + title
    assert progress.episodes(np.array([1, 0, 0, 2]), np.array([3, 5, 3, 3])).tolist() == [
        2,
        4,
        0,
        0,
    ]
    progress.update(np.array([1, 2]), np.array([3, 9]), np.array([1, 7]))  # never goes back
    assert progress.episodes(np.array([1, 2]), np.array([3, 9])).tolist() == [2, 7]
    progress.update(np.array([1]), np.array([3]), np.array([6]))
    assert progress.episodes(np.array([1]), np.array([3])).tolist() == [6]
    assert progress.keys.tolist() == [5, 13, 29]


def test_evening_runs_from_seven_to_one():
    hours = np.arange(24)
    expected = (hours >= 19) | (hours < 1)
    assert (is_evening(hours * HOUR_MS + 5 * 60_000) == expected).all()


def test_episodes_after_is_geometric_capped_and_longer_in_the_evening():
    config = SimulationConfig(binge_intercept=0.5, evening_binge=1.0)
    fit = np.zeros(3)
    stay = expit(0.5)
    # floor(log u / log s) further episodes: u = s^2.5 gives 2, u just above s gives 0
    u = np.array([stay**2.5, stay * 1.0001, 1e-300])
    got = episodes_after(config, fit, np.zeros(3, bool), u)
    assert got.tolist() == [2, 0, MAX_EPISODES_PER_SITTING - 1]
    # the same uniform stays longer in the evening (a larger stay probability)
    assert episodes_after(config, fit[:1], np.ones(1, bool), u[:1])[0] > 2
    # the mean over uniforms is the capped geometric mean sum_{k=1}^{cap} s^k
    grid = (np.arange(200_000) + 0.5) / 200_000
    mean = episodes_after(config, np.zeros(grid.size), np.zeros(grid.size, bool), grid).mean()
    cap = MAX_EPISODES_PER_SITTING - 1
    assert mean == pytest.approx(sum(stay**k for k in range(1, cap + 1)), rel=1e-3)


def test_watch_fraction_is_u_shaped_and_completion_rises_with_fit():
    a, b = watch_fraction_shape(np.array([-1.0, 0.0, 1.0]))
    assert (a < 1).all() or (b < 1).all()  # a + b = 1.2: a density that rises at an end
    assert np.allclose(a + b, 1.2)
    done = beta.sf(COMPLETION_FRACTION, a, b)
    assert (np.diff(done) > 0).all()
    # mostly finished or left early: the middle of the film holds the least mass
    middle = beta.cdf(0.7, a[1], b[1]) - beta.cdf(0.3, a[1], b[1])
    assert middle < beta.cdf(0.1, a[1], b[1]) + done[1]

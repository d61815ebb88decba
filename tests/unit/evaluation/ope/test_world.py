"""The OPE study in the streaming simulator: exact truths, the logging runs, unbiased IPW."""

import numpy as np
import pytest
from tolerances import approx64

from persona_lib.evaluation import split_rounds, true_policy_value
from persona_lib.evaluation.ope import WorldBandit, uniform_logging
from persona_lib.evaluation.ope.estimators import DoublyRobust, InverseProbabilityWeighting
from persona_lib.evaluation.ope.study import simulate_estimates
from persona_lib.models.artwork import artwork_rounds
from persona_lib.sim import SimulationConfig, simulate


@pytest.fixture(scope="module")
def world_pool():
    config = SimulationConfig(n_users=150, n_titles=60, n_days=4, random_state=3)
    world = simulate(config)
    _, pool = split_rounds(artwork_rounds(world), 0.5)
    return world, pool


def _first_slot(candidates):
    dist = np.zeros(candidates.shape)
    dist[:, 0] = 1.0
    return dist


def test_uniform_logging_spreads_over_real_candidates_only():
    dist = uniform_logging(np.array([[4, 5, -1], [1, 2, 3]]))
    np.testing.assert_allclose(dist, [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_value_is_the_exact_truth_of_the_pool(world_pool):
    world, pool = world_pool
    dist = _first_slot(pool.candidates)
    env = WorldBandit.from_world(world, pool, dist)
    assert env.policy_value() == approx64(true_policy_value(world, pool, dist))
    # uniform logging's value is the mean of each round's candidates
    valid = pool.candidates >= 0
    expected = np.mean(env.reward_prob.sum(axis=1) / valid.sum(axis=1))
    assert env.policy_value(env.logging_dist) == approx64(expected)
    assert 0.0 < env.policy_value() < 0.5


def test_logging_run_draws_actions_and_propensities_from_the_logging_policy(world_pool):
    world, pool = world_pool
    env = WorldBandit.from_world(world, pool, _first_slot(pool.candidates), q_folds=0)
    log = env.sample_rounds(20_000, np.random.default_rng(0))
    k = (pool.candidates >= 0).sum(axis=1)
    assert log.q_hat is None
    assert log.action_dist.shape == (20_000, pool.candidates.shape[1])
    # every drawn slot is a real candidate, and its propensity is 1 / k of its round
    assert np.all(np.isin(log.pscore, 1.0 / np.unique(k)))
    assert log.reward.mean() == pytest.approx(env.policy_value(env.logging_dist), abs=0.01)
    again = env.sample_rounds(20_000, np.random.default_rng(0))
    np.testing.assert_array_equal(log.action, again.action)


def test_reward_model_is_fitted_per_log_on_artwork_features(world_pool):
    world, pool = world_pool
    env = WorldBandit.from_world(world, pool, _first_slot(pool.candidates))
    log = env.sample_rounds(3_000, np.random.default_rng(1))
    assert log.q_hat.shape == (3_000, pool.candidates.shape[1])
    assert np.all((log.q_hat >= 0) & (log.q_hat <= 1))


def test_ipw_is_unbiased_over_repeated_logging_runs(world_pool):
    world, pool = world_pool
    env = WorldBandit.from_world(world, pool, _first_slot(pool.candidates), q_folds=0)
    est = simulate_estimates({"ipw": InverseProbabilityWeighting(), "dr": DoublyRobust()}, (2_000,),
                             n_runs=60, n_bootstrap=0, env=env)  # fmt: skip
    ipw = est[est["estimator"] == "ipw"]["estimate"]
    se = ipw.std(ddof=1) / np.sqrt(len(ipw))
    assert abs(ipw.mean() - env.policy_value()) < 3.5 * se


def test_bad_distributions_are_rejected_with_rows(world_pool):
    world, pool = world_pool
    dist = _first_slot(pool.candidates)
    dist[3] = 0.0
    with pytest.raises(ValueError, match=r"action_dist .* bad rows \[3\]"):
        WorldBandit.from_world(world, pool, dist)
    with pytest.raises(ValueError, match="shape"):
        WorldBandit.from_world(world, pool, dist[:, :1])

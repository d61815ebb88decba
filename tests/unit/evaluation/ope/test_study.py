"""OPE simulation study: the environment's truth, unbiased IPW, and the summary table."""

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import expit
from tolerances import FLOAT64, approx64

from persona_lib.evaluation.ope.estimators import DoublyRobust, InverseProbabilityWeighting
from persona_lib.evaluation.ope.study import (
    SyntheticBandit,
    make_synthetic_bandit,
    run_study,
    simulate_estimates,
    summarize_estimates,
)

COLUMNS = [
    "estimator",
    "n",
    "truth",
    "n_runs",
    "mean_estimate",
    "bias",
    "variance",
    "mse",
    "relative_rmse",
    "coverage",
    "ci_width",
]


def _context_free(epsilon_eval: float = 0.1) -> SyntheticBandit:
    # theta = W = E = 0: p(x, a) = sigmoid(b + f_a gamma) whatever the context.
    return SyntheticBandit(
        intercept=-0.5,
        theta=np.zeros(2),
        action_features=np.array([[1.0], [0.0], [-1.0]]),
        gamma=np.array([1.0]),
        interaction=np.zeros((2, 1)),
        logging_noise=np.zeros((2, 1)),
        beta_logging=1.0,
        epsilon_logging=0.3,
        epsilon_eval=epsilon_eval,
    )


def test_true_value_closed_form_without_context():
    env = _context_free(epsilon_eval=0.1)
    p = expit(np.array([0.5, -0.5, -1.5]))
    # epsilon-greedy: (1 - eps) on the best action plus eps spread uniformly
    assert env.policy_value(n_contexts=1000) == approx64(0.9 * p[0] + 0.1 * p.mean())
    # logging: (1 - eps_b) softmax(logit) + eps_b / K
    odds = p / (1 - p)  # exp(logit)
    pi_b = 0.7 * odds / odds.sum() + 0.3 / 3
    assert env.policy_value(env.logging_policy, n_contexts=1000) == approx64(pi_b @ p)


def test_true_value_matches_gaussian_integral():
    # one context dimension, action-free reward: V = E[sigmoid(b + theta x)], x ~ N(0, 1)
    env = SyntheticBandit(
        intercept=-0.5,
        theta=np.array([1.5]),
        action_features=np.zeros((2, 1)),
        gamma=np.zeros(1),
        interaction=np.zeros((1, 1)),
        logging_noise=np.zeros((1, 1)),
    )
    density = lambda x: np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    exact, _ = quad(lambda x: expit(-0.5 + 1.5 * x) * density(x), -12, 12)
    assert env.policy_value(n_contexts=200_000) == pytest.approx(exact, abs=2e-3)


def test_logged_rounds_follow_the_logging_policy():
    env = make_synthetic_bandit(n_actions=4, dim_context=3, random_state=1)
    log = env.sample_rounds(20_000, np.random.default_rng(0))
    pi_b = env.logging_policy(log.context)
    np.testing.assert_allclose(log.pscore, pi_b[np.arange(20_000), log.action])
    assert log.pscore.min() >= env.epsilon_logging / env.n_actions
    counts = np.bincount(log.action, minlength=4) / 20_000
    np.testing.assert_allclose(counts, pi_b.mean(axis=0), atol=0.015)
    assert set(np.unique(log.reward)) <= {0.0, 1.0}
    np.testing.assert_allclose(log.action_dist.sum(axis=1), 1.0)


def test_ipw_is_unbiased():
    table = run_study({"ipw": InverseProbabilityWeighting()}, (1000,), n_runs=60, n_bootstrap=0)
    row = table.iloc[0]
    standard_error = np.sqrt(row["variance"] / row["n_runs"])
    assert abs(row["bias"]) < 4 * standard_error
    assert abs(row["bias"]) < 0.03


def test_table_columns_and_ipw_mse_falls_with_n():
    estimators = {"ipw": InverseProbabilityWeighting(), "dr": DoublyRobust()}
    table = run_study(estimators, (250, 1000, 4000), n_runs=20, n_bootstrap=50)
    assert list(table.columns) == COLUMNS
    assert table[["estimator", "n"]].values.tolist() == [
        [name, n] for name in ("ipw", "dr") for n in (250, 1000, 4000)
    ]
    ipw = table[table["estimator"] == "ipw"]
    assert np.all(np.diff(ipw["mse"].to_numpy()) < 0)
    assert table["coverage"].between(0.0, 1.0).all()
    np.testing.assert_allclose(table["mse"], table["bias"] ** 2 + table["variance"], **FLOAT64)


def test_summary_on_a_hand_computed_case():
    estimates = pd.DataFrame(
        {
            "estimator": ["a", "a", "a", "a"],
            "n": [10, 10, 10, 10],
            "run": [0, 1, 2, 3],
            "estimate": [0.4, 0.6, 0.5, 0.7],
            "low": [0.3, 0.45, 0.45, 0.65],
            "high": [0.5, 0.7, 0.55, 0.75],
        }
    )
    row = summarize_estimates(estimates, truth=0.5).iloc[0]
    # errors -0.1, 0.1, 0, 0.2: bias 0.05, mse 0.015, variance 0.015 - 0.0025
    assert row["bias"] == pytest.approx(0.05)
    assert row["mse"] == pytest.approx(0.015)
    assert row["variance"] == pytest.approx(0.0125)
    assert row["relative_rmse"] == pytest.approx(np.sqrt(0.015) / 0.5)
    assert row["coverage"] == pytest.approx(0.75)
    assert row["ci_width"] == pytest.approx((0.2 + 0.25 + 0.1 + 0.1) / 4)


def test_runs_are_reproducible_and_share_logs():
    estimators = {"ipw": InverseProbabilityWeighting(), "ipw_too": InverseProbabilityWeighting()}
    first = simulate_estimates(estimators, (100,), n_runs=3, n_bootstrap=0)
    second = simulate_estimates(estimators, (100,), n_runs=3, n_bootstrap=0)
    pd.testing.assert_frame_equal(first, second)
    by_name = first.pivot(index="run", columns="estimator", values="estimate")
    np.testing.assert_array_equal(by_name["ipw"], by_name["ipw_too"])
    assert first["low"].isna().all()


def test_invalid_environment_and_runs():
    with pytest.raises(ValueError, match="interaction must have shape"):
        SyntheticBandit(
            intercept=0.0,
            theta=np.zeros(2),
            action_features=np.zeros((3, 1)),
            gamma=np.zeros(1),
            interaction=np.zeros((3, 1)),
            logging_noise=np.zeros((2, 1)),
        )
    with pytest.raises(ValueError, match="epsilon_logging must be in"):
        make_synthetic_bandit(epsilon_logging=0.0)
    with pytest.raises(ValueError, match="n_runs must be at least 2"):
        simulate_estimates({"ipw": InverseProbabilityWeighting()}, (100,), n_runs=1)

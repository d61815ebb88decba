"""Off-policy estimators: hand-computed tiny cases, invariants, bootstrap intervals and errors."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from tolerances import FLOAT64, approx64, approx_closed_form

from persona_lib.evaluation.ope.estimators import (
    DirectMethod,
    DoublyRobust,
    Interval,
    InverseProbabilityWeighting,
    ReplayMethod,
    SelfNormalizedDoublyRobust,
    SelfNormalizedIPW,
    SwitchDoublyRobust,
    effective_sample_size,
    fit_reward_model,
    importance_weights,
)

# Four rounds, two actions.
#   pi_e(a_i | x_i) = [0.5, 0, 0.2, 1]   ->  w = pi_e / pscore = [1, 0, 0.25, 4]
#   q_hat(x_i, pi_e) = [0.4, 0.4, 0.42, 0.7]  (sum 1.92)
#   r_i - q_hat(x_i, a_i) = [0.4, -0.4, -0.1, 0.3]  ->  w * residual = [0.4, 0, -0.025, 1.2]
TINY = {
    "reward": np.array([1.0, 0.0, 0.0, 1.0]),
    "action": np.array([0, 1, 0, 1]),
    "pscore": np.array([0.5, 0.5, 0.8, 0.25]),
    "action_dist": np.array([[0.5, 0.5], [1.0, 0.0], [0.2, 0.8], [0.0, 1.0]]),
    "q_hat": np.array([[0.6, 0.2], [0.4, 0.4], [0.1, 0.5], [0.3, 0.7]]),
}
ALL = [
    InverseProbabilityWeighting(),
    SelfNormalizedIPW(),
    DirectMethod(),
    DoublyRobust(),
    SelfNormalizedDoublyRobust(),
    SwitchDoublyRobust(),
]


@pytest.mark.parametrize(
    ("estimator", "expected"),
    [
        # mean(w r) = (1 + 0 + 0 + 4) / 4
        (InverseProbabilityWeighting(), 1.25),
        # clipped w = [1, 0, 0.25, 2]: (1 + 2) / 4
        (InverseProbabilityWeighting(lambda_=2.0), 0.75),
        # sum(w r) / sum(w) = 5 / 5.25
        (SelfNormalizedIPW(), 20 / 21),
        # mean(q_hat(x, pi_e)) = 1.92 / 4
        (DirectMethod(), 0.48),
        # (1.92 + 0.4 + 0 - 0.025 + 1.2) / 4
        (DoublyRobust(), 0.87375),
        # clipped: (1.92 + 0.4 - 0.025 + 2 * 0.3) / 4
        (DoublyRobust(lambda_=2.0), 0.72375),
        # 0.48 + 1.575 / mean(w) / 4 = 0.48 + 1.575 / 5.25
        (SelfNormalizedDoublyRobust(), 0.78),
        # round 4 (w = 4 > 2) falls back to DM: (1.92 + 0.4 - 0.025) / 4
        (SwitchDoublyRobust(tau=2.0), 0.57375),
        (SwitchDoublyRobust(), 0.87375),
    ],
)
def test_hand_computed_tiny_case(estimator, expected):
    assert estimator.estimate_policy_value(**TINY) == approx_closed_form(expected)


def test_replay_averages_the_matching_rounds():
    # the evaluated policy picks [0, 1, 0, 0]: rounds 1-3 match (rewards 1, 0, 0), round 4 not
    picks = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    value = ReplayMethod().estimate_policy_value(
        reward=TINY["reward"], action=TINY["action"], action_dist=picks
    )
    assert value == pytest.approx(1 / 3)


def test_replay_equals_snipw_under_uniform_logging():
    rng = np.random.default_rng(3)
    n, k = 500, 4
    action = rng.integers(0, k, n)
    reward = rng.binomial(1, 0.3, n).astype(float)
    picks = np.eye(k)[rng.integers(0, k, n)]
    inputs = {"reward": reward, "action": action, "action_dist": picks}
    replay = ReplayMethod().estimate_policy_value(**inputs)
    snipw = SelfNormalizedIPW().estimate_policy_value(**inputs, pscore=np.full(n, 1 / k))
    assert replay == approx64(snipw)  # two estimators, equal on paper


def test_position_axis_selects_the_logged_slot():
    # round 1: slot 1, pi_e = 0.25 -> w = 0.5; round 2: slot 0, pi_e = 1 -> w = 2; IPW = 2.5 / 2
    dist = np.zeros((2, 2, 2))
    dist[0, :, 0], dist[0, :, 1] = [0.9, 0.1], [0.25, 0.75]
    dist[1, :, 0], dist[1, :, 1] = [0.0, 1.0], [1.0, 0.0]
    value = InverseProbabilityWeighting().estimate_policy_value(
        reward=[1.0, 1.0], action=[0, 1], pscore=[0.5, 0.5], action_dist=dist, position=[1, 0]
    )
    assert value == pytest.approx(1.25)
    np.testing.assert_allclose(importance_weights([0, 1], [0.5, 0.5], dist, [1, 0]), [0.5, 2.0])


def test_effective_sample_size():
    # (1 + 0 + 0.25 + 4)^2 / (1 + 0 + 0.0625 + 16) = 27.5625 / 17.0625 = 21 / 13
    assert effective_sample_size([1.0, 0.0, 0.25, 4.0]) == pytest.approx(21 / 13)
    assert effective_sample_size(np.full(7, 0.3)) == pytest.approx(7.0)
    with pytest.raises(ValueError, match="all zero"):
        effective_sample_size([0.0, 0.0])
    with pytest.raises(ValueError, match="non-negative"):
        effective_sample_size([1.0, -1.0])


# --- invariants ------------------------------------------------------------------------------
def simulate_logs(seed: int, n: int = 400, n_actions: int = 3):
    """Logs of a context-dependent stochastic logging policy; evaluated policy and truth fixed."""
    world = np.random.default_rng(0)  # the same contexts, policies and click rates every seed
    n_contexts = 5
    q = world.uniform(0.05, 0.6, size=(n_contexts, n_actions))
    pi_b = world.dirichlet(np.ones(n_actions) * 2, size=n_contexts)
    pi_e = world.dirichlet(np.ones(n_actions), size=n_contexts)
    truth = float(np.mean(np.sum(pi_e * q, axis=1)))  # contexts are uniform
    rng = np.random.default_rng(seed)
    x = rng.integers(0, n_contexts, n)
    action = (rng.random(n)[:, None] > np.cumsum(pi_b[x], axis=1)).sum(axis=1)
    reward = rng.binomial(1, q[x, action]).astype(float)
    logs = {
        "reward": reward,
        "action": action,
        "pscore": pi_b[x, action],
        "action_dist": pi_e[x],
    }
    return logs, q[x], truth


def test_ipw_is_unbiased_over_many_seeds():
    estimates = []
    for seed in range(300):
        logs, _, truth = simulate_logs(seed)
        estimates.append(InverseProbabilityWeighting().estimate_policy_value(**logs))
    estimates = np.array(estimates)
    standard_error = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - truth) < 4 * standard_error


def test_dr_is_unbiased_with_a_wrong_model_and_dm_with_the_right_one():
    dr, dm = [], []
    for seed in range(200):
        logs, q, truth = simulate_logs(seed)
        dr.append(DoublyRobust().estimate_policy_value(**logs, q_hat=np.full_like(q, 0.5)))
        dm.append(DirectMethod().estimate_policy_value(**logs, q_hat=q))
    assert abs(np.mean(dr) - truth) < 4 * np.std(dr, ddof=1) / np.sqrt(len(dr))
    assert abs(np.mean(dm) - truth) < 4 * np.std(dm, ddof=1) / np.sqrt(len(dm))


def test_dr_equals_dm_when_the_model_fits_every_logged_reward():
    logs, q, _ = simulate_logs(1)
    exact = q.copy()
    exact[np.arange(len(exact)), logs["action"]] = logs["reward"]
    for estimator in (DoublyRobust(), SelfNormalizedDoublyRobust(), SwitchDoublyRobust(tau=3.0)):
        value = estimator.estimate_policy_value(**logs, q_hat=exact)
        assert value == pytest.approx(DirectMethod().estimate_policy_value(**logs, q_hat=exact))


def test_self_normalized_equals_plain_when_weights_average_to_one():
    # w = [0.5, 1.5, 1, 1] (mean 1)
    inputs = dict(TINY, pscore=np.array([1.0, 0.5, 0.2, 1.0]))
    inputs["action_dist"] = np.array([[0.5, 0.5], [0.25, 0.75], [0.2, 0.8], [0.0, 1.0]])
    w = importance_weights(inputs["action"], inputs["pscore"], inputs["action_dist"])
    np.testing.assert_allclose(w, [0.5, 1.5, 1.0, 1.0])
    ipw = InverseProbabilityWeighting().estimate_policy_value(**inputs)
    assert SelfNormalizedIPW().estimate_policy_value(**inputs) == approx64(ipw)
    dr = DoublyRobust().estimate_policy_value(**inputs)
    sndr = SelfNormalizedDoublyRobust().estimate_policy_value(**inputs)
    assert sndr == approx64(dr)


def test_clipping_bounds_and_monotonicity():
    logs, _, _ = simulate_logs(2)
    w = importance_weights(logs["action"], logs["pscore"], logs["action_dist"])
    values = [
        InverseProbabilityWeighting(lambda_=lam).estimate_policy_value(**logs)
        for lam in (0.5, 1.0, 2.0, w.max(), np.inf)
    ]
    assert values == sorted(values)  # non-negative rewards: more clipping, lower estimate
    assert values[0] <= 0.5 * logs["reward"].max()
    assert values[-2] == values[-1]  # a threshold at the largest weight clips nothing
    snipw = SelfNormalizedIPW().estimate_policy_value(**logs)
    assert logs["reward"].min() <= snipw <= logs["reward"].max()


def test_switch_dr_limits():
    logs, q, _ = simulate_logs(4)
    q_hat = np.clip(q + 0.1, 0, 1)
    dr = DoublyRobust().estimate_policy_value(**logs, q_hat=q_hat)
    dm = DirectMethod().estimate_policy_value(**logs, q_hat=q_hat)
    assert (logs["action_dist"][np.arange(400), logs["action"]] > 0).all()  # every w > 0
    big = SwitchDoublyRobust(tau=1e12).estimate_policy_value(**logs, q_hat=q_hat)
    zero = SwitchDoublyRobust(tau=0.0).estimate_policy_value(**logs, q_hat=q_hat)
    assert big == approx64(dr)
    assert zero == approx64(dm)


# --- intervals -------------------------------------------------------------------------------
@pytest.mark.parametrize("estimator", ALL, ids=lambda e: e.name)
def test_interval_covers_the_estimate_and_is_reproducible(estimator):
    logs, q, _ = simulate_logs(5)
    value = estimator.estimate_policy_value(**logs, q_hat=q)
    interval = estimator.estimate_interval(**logs, q_hat=q, n_bootstrap=300, random_state=1)
    assert isinstance(interval, Interval)
    assert interval.low <= value <= interval.high
    assert interval.low < interval.high
    assert interval == estimator.estimate_interval(**logs, q_hat=q, n_bootstrap=300, random_state=1)
    assert set(interval.to_dict()) == {"mean", "low", "high"}


def test_self_normalized_bootstrap_recomputes_the_normalizer():
    # every reward 1: SNIPW is exactly 1 on every resample (resampling normalized terms is not)
    logs, _, _ = simulate_logs(6)
    logs["reward"] = np.ones_like(logs["reward"])
    interval = SelfNormalizedIPW().estimate_interval(**logs, n_bootstrap=200)
    assert interval.low == pytest.approx(1.0) and interval.high == pytest.approx(1.0)


def test_narrower_interval_at_larger_alpha():
    logs, _, _ = simulate_logs(7)
    wide = InverseProbabilityWeighting().estimate_interval(**logs, alpha=0.01, n_bootstrap=500)
    narrow = InverseProbabilityWeighting().estimate_interval(**logs, alpha=0.5, n_bootstrap=500)
    assert wide.low <= narrow.low <= narrow.high <= wide.high


def test_interval_argument_errors():
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        InverseProbabilityWeighting().estimate_interval(**TINY, alpha=1.0)
    with pytest.raises(ValueError, match="n_bootstrap must be at least 2"):
        InverseProbabilityWeighting().estimate_interval(**TINY, n_bootstrap=1)
    with pytest.raises(ValueError, match="low <= high"):
        Interval(mean=0.0, low=1.0, high=0.0)


# --- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reward": np.ones(3)}, "reward has 3 rounds but action_dist has 4"),
        ({"pscore": np.array([0.5, 0.0, 0.8, 0.25])}, r"pscore must be in \(0, 1\]"),
        ({"pscore": np.array([0.5, -0.1, 0.8, 0.25])}, r"pscore must be in \(0, 1\]"),
        ({"pscore": np.array([0.5, np.nan, 0.8, 0.25])}, "pscore must be finite"),
        ({"action": np.array([0, 2, 0, 1])}, r"action must be in 0 \.\. 1"),
        ({"action": np.array([[0, 1, 0, 1]])}, "action must be 1-D"),
        ({"q_hat": np.zeros((4, 3))}, r"q_hat has shape \(4, 3\) but action_dist has shape"),
        ({"action_dist": np.full((4, 2), 0.7)}, "action_dist must sum to 1 over actions"),
        ({"action_dist": np.ones(4)}, "action_dist must have shape"),
        ({"position": np.zeros(4, dtype=int)}, "position is given but action_dist has no"),
    ],
)
def test_clear_errors(change, message):
    with pytest.raises(ValueError, match=message):
        DoublyRobust().estimate_policy_value(**(TINY | change))


def test_missing_inputs_and_bad_hyperparameters():
    with pytest.raises(ValueError, match=r"dm needs q_hat \(estimated rewards"):
        DirectMethod().estimate_policy_value(action_dist=TINY["action_dist"])
    with pytest.raises(ValueError, match="ipw needs pscore"):
        InverseProbabilityWeighting().estimate_policy_value(
            reward=TINY["reward"], action=TINY["action"], action_dist=TINY["action_dist"]
        )
    with pytest.raises(ValueError, match="position is needed: action_dist has 2 positions"):
        InverseProbabilityWeighting().estimate_policy_value(
            **(TINY | {"action_dist": np.full((4, 2, 2), 0.5)})
        )
    with pytest.raises(ValueError, match="ReplayMethod needs a deterministic evaluated policy"):
        ReplayMethod().estimate_policy_value(**TINY)
    with pytest.raises(ValueError, match=r"lambda_ must be > 0"):
        InverseProbabilityWeighting(lambda_=0.0)
    with pytest.raises(ValueError, match=r"tau must be >= 0"):
        SwitchDoublyRobust(tau=-1.0)
    with pytest.raises(TypeError, match="lambda_ must be a number"):
        DoublyRobust(lambda_="1")


def test_estimators_are_frozen_and_describe_themselves():
    estimator = SwitchDoublyRobust(tau=5.0)
    with pytest.raises(AttributeError):
        estimator.tau = 1.0
    assert estimator.to_dict() == {"estimator": "switch-dr", "tau": 5.0}
    assert DoublyRobust().to_dict() == {"estimator": "dr", "lambda_": "inf"}


# --- reward model ----------------------------------------------------------------------------
def click_logs(n: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    context = rng.normal(size=(n, 3))
    action = rng.integers(0, 4, n)
    position = rng.integers(0, 2, n)
    logit = context @ [1.0, -0.5, 0.0] + np.array([-1.0, 0.0, 0.5, -2.0])[action] - position
    reward = rng.binomial(1, 1 / (1 + np.exp(-logit))).astype(float)
    return context, action, position, reward


def test_reward_model_reads_every_action_off_the_fitted_coefficients():
    context, action, position, reward = click_logs()
    q_hat = fit_reward_model(
        context, action, reward, 4, n_folds=1, position=position, n_positions=2
    )
    assert q_hat.shape == (2000, 4, 2)
    features = np.hstack([context, np.eye(4)[action], np.eye(2)[position]])
    direct = LogisticRegression(C=1.0, max_iter=2000).fit(features, reward)
    for a, p in [(0, 0), (3, 1)]:
        other = np.hstack(
            [context, np.tile(np.eye(4)[a], (2000, 1)), np.tile(np.eye(2)[p], (2000, 1))]
        )
        np.testing.assert_allclose(q_hat[:, a, p], direct.predict_proba(other)[:, 1], **FLOAT64)


def test_reward_model_is_cross_fitted_and_sensible():
    context, action, _, reward = click_logs()
    q_hat = fit_reward_model(context, action, reward, 4, n_folds=2, random_state=0)
    assert q_hat.shape == (2000, 4)
    assert np.all((q_hat > 0) & (q_hat < 1))
    # action 2 has the largest true effect, action 3 the smallest
    assert q_hat[:, 2].mean() > q_hat[:, 0].mean() > q_hat[:, 3].mean()
    again = fit_reward_model(context, action, reward, 4, n_folds=2, random_state=0)
    np.testing.assert_array_equal(q_hat, again)
    in_sample = fit_reward_model(context, action, reward, 4, n_folds=1)
    assert not np.allclose(q_hat, in_sample)


def test_reward_model_constant_fold_and_errors():
    context = np.zeros((6, 1))
    q_hat = fit_reward_model(context, [0, 1, 0, 1, 0, 1], np.zeros(6), 2)
    np.testing.assert_array_equal(q_hat, np.zeros((6, 2)))
    with pytest.raises(ValueError, match="reward must be binary"):
        fit_reward_model(context, np.zeros(6, dtype=int), np.full(6, 0.5), 2)
    with pytest.raises(ValueError, match="context must be 2-D"):
        fit_reward_model(np.zeros(6), np.zeros(6, dtype=int), np.zeros(6), 2)
    with pytest.raises(ValueError, match="give both position and n_positions"):
        fit_reward_model(context, np.zeros(6, dtype=int), np.zeros(6), 2, position=np.zeros(6))
    with pytest.raises(ValueError, match=r"n_folds must be in 1 \.\. n_rounds"):
        fit_reward_model(context, np.zeros(6, dtype=int), np.zeros(6), 2, n_folds=7)

"""A simulation study of the off-policy estimators against a known truth.

The shape of the comparison in Saito et al. (2021), "Open Bandit Dataset and Pipeline", sec. 5:
a synthetic contextual bandit whose expected reward is known, a logging policy whose
propensities are known, and an evaluated policy whose true value is computed from the reward
function. Each estimator is run on many independent logs of each size ``n``; its bias, variance,
MSE, relative RMSE and the coverage of its bootstrap interval are measured against the truth.

The environment (`SyntheticBandit`):

- contexts ``x ~ N(0, I_d)``; action ``a`` has features ``f_a`` (dimension ``m``);
- Bernoulli rewards with ``p(x, a) = sigmoid(b + x theta + f_a gamma + x W f_a)``: a linear part
  and a context-action interaction, which the additive logistic reward model of
  `fit_reward_model` cannot represent, so the direct method is biased by design;
- the logging policy ``pi_b = (1 - eps_b) softmax(beta_b s_b(x, .)) + eps_b / K`` with a noisy
  score ``s_b(x, a) = logit p(x, a) + x E f_a`` (``E`` fixed noise), so propensities are known
  and at least ``eps_b / K``;
- the evaluated policy ``pi_e``, epsilon-greedy on the true ``p(x, a)``.

The true value ``V(pi) = E_x[sum_a pi(a | x) p(x, a)]`` is the mean over a large fixed sample of
contexts (`SyntheticBandit.policy_value`); with 200,000 contexts its Monte Carlo error is about
1e-4, two orders below the estimators' errors at the sample sizes studied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from persona_lib.evaluation.ope.estimators import OffPolicyEstimator, fit_reward_model

__all__ = [
    "BanditEnvironment",
    "LoggedRounds",
    "SyntheticBandit",
    "make_synthetic_bandit",
    "run_study",
    "simulate_estimates",
    "summarize_estimates",
]

_CHUNK = 50_000  # contexts per block when computing a policy value: bounds memory


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class LoggedRounds:
    """One log of ``n`` rounds from the logging policy, with the evaluated policy beside it.

    Attributes
    ----------
    context : numpy.ndarray, shape (n, d)
    action : numpy.ndarray of int, shape (n,)
    reward : numpy.ndarray of 0 / 1, shape (n,)
    pscore : numpy.ndarray, shape (n,)
        ``pi_b(a_i | x_i)``.
    action_dist : numpy.ndarray, shape (n, n_actions)
        ``pi_e(a | x_i)`` of the evaluated policy.
    q_hat : numpy.ndarray, shape (n, n_actions), optional
        A cross-fitted reward model the environment fitted on this log itself (e.g. one that
        knows the actions' features); when absent the study fits `fit_reward_model`.
    """

    context: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    action_dist: np.ndarray
    q_hat: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class SyntheticBandit:
    """A contextual bandit with a known reward function (see the module docstring).

    Attributes
    ----------
    intercept : float
        ``b``.
    theta : numpy.ndarray, shape (d,)
        Context main effect.
    action_features : numpy.ndarray, shape (n_actions, m)
        ``f_a``.
    gamma : numpy.ndarray, shape (m,)
        Action main effect ``f_a gamma``.
    interaction : numpy.ndarray, shape (d, m)
        ``W``.
    logging_noise : numpy.ndarray, shape (d, m)
        ``E``: how the logging policy's score departs from the truth.
    beta_logging : float
        Inverse temperature of the logging softmax.
    epsilon_logging : float
        Share of uniform exploration in the logging policy, in (0, 1]; bounds the propensities.
    epsilon_eval : float
        Share of uniform exploration in the epsilon-greedy evaluated policy, in [0, 1].
    """

    intercept: float
    theta: np.ndarray
    action_features: np.ndarray
    gamma: np.ndarray
    interaction: np.ndarray
    logging_noise: np.ndarray
    beta_logging: float = 1.0
    epsilon_logging: float = 0.2
    epsilon_eval: float = 0.1
    n_actions: int = field(init=False)
    dim_context: int = field(init=False)

    def __post_init__(self) -> None:
        k, m = np.shape(self.action_features)
        d = np.shape(self.theta)[0]
        shapes = {"gamma": (m,), "interaction": (d, m), "logging_noise": (d, m)}
        for name, shape in shapes.items():
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(
                    f"{name} must have shape {shape}; got {np.shape(getattr(self, name))}"
                )
        if not 0.0 < self.epsilon_logging <= 1.0:
            raise ValueError(f"epsilon_logging must be in (0, 1]; got {self.epsilon_logging}")
        if not 0.0 <= self.epsilon_eval <= 1.0:
            raise ValueError(f"epsilon_eval must be in [0, 1]; got {self.epsilon_eval}")
        object.__setattr__(self, "n_actions", int(k))
        object.__setattr__(self, "dim_context", int(d))

    def _logit(self, context: np.ndarray, interaction: np.ndarray) -> np.ndarray:
        linear = self.intercept + context @ self.theta
        return (
            linear[:, None]
            + (self.action_features @ self.gamma)[None, :]
            + (context @ interaction @ self.action_features.T)
        )

    def expected_reward(self, context: np.ndarray) -> np.ndarray:
        """``p(x_i, a)`` for every action, shape (n, n_actions)."""
        return _sigmoid(self._logit(context, self.interaction))

    def logging_policy(self, context: np.ndarray) -> np.ndarray:
        """``pi_b(a | x_i)``: softmax of the noisy score mixed with uniform, (n, n_actions)."""
        score = self._logit(context, self.interaction + self.logging_noise)
        soft = _softmax(self.beta_logging * score)
        return (1.0 - self.epsilon_logging) * soft + self.epsilon_logging / self.n_actions

    def evaluation_policy(self, context: np.ndarray) -> np.ndarray:
        """``pi_e(a | x_i)``: epsilon-greedy on the true ``p(x_i, a)``, (n, n_actions)."""
        best = np.argmax(self.expected_reward(context), axis=1)
        dist = np.full((context.shape[0], self.n_actions), self.epsilon_eval / self.n_actions)
        dist[np.arange(context.shape[0]), best] += 1.0 - self.epsilon_eval
        return dist

    def policy_value(
        self,
        policy: Callable[[np.ndarray], np.ndarray] | None = None,
        n_contexts: int = 200_000,
        random_state: int = 12345,
    ) -> float:
        """True value ``mean_x sum_a pi(a | x) p(x, a)`` over ``n_contexts`` fixed contexts.

        Parameters
        ----------
        policy : callable, context (n, d) -> action probabilities (n, n_actions), optional
            Defaults to `evaluation_policy`.
        n_contexts : int
            Size of the context sample; its Monte Carlo error shrinks as ``1 / sqrt(n_contexts)``.
        random_state : int
            Seed of the context sample, apart from the seeds of the logs.

        Examples
        --------
        >>> env = make_synthetic_bandit(random_state=0)
        >>> 0.0 < env.policy_value(n_contexts=1000) < 1.0
        True
        """
        policy = self.evaluation_policy if policy is None else policy
        rng = np.random.default_rng(random_state)
        total = 0.0
        for start in range(0, n_contexts, _CHUNK):
            x = rng.standard_normal((min(_CHUNK, n_contexts - start), self.dim_context))
            total += float(np.sum(policy(x) * self.expected_reward(x)))
        return total / n_contexts

    def sample_rounds(self, n: int, rng: np.random.Generator) -> LoggedRounds:
        """Draw ``n`` logged rounds: contexts, logging actions and Bernoulli rewards."""
        x = rng.standard_normal((n, self.dim_context))
        pi_b = self.logging_policy(x)
        cdf = np.cumsum(pi_b, axis=1)
        action = np.minimum((rng.random(n)[:, None] > cdf).sum(axis=1), self.n_actions - 1)
        rows = np.arange(n)
        p = self.expected_reward(x)[rows, action]
        reward = (rng.random(n) < p).astype(float)
        return LoggedRounds(x, action, reward, pi_b[rows, action], self.evaluation_policy(x))


def make_synthetic_bandit(
    n_actions: int = 10,
    dim_context: int = 5,
    dim_action: int = 3,
    beta_logging: float = 1.0,
    epsilon_logging: float = 0.2,
    epsilon_eval: float = 0.1,
    random_state: int = 0,
) -> SyntheticBandit:
    """A `SyntheticBandit` with Gaussian coefficients, scaled so logits have sd of about 1.

    The intercept puts the mean reward near 0.3; the logging noise ``E`` has the scale of the
    true interaction, so the logging policy is informative but misranks actions often.

    Examples
    --------
    >>> make_synthetic_bandit(n_actions=4, dim_context=2).n_actions
    4
    """
    rng = np.random.default_rng(random_state)
    scale = 1.0 / np.sqrt(dim_context * dim_action)
    return SyntheticBandit(
        intercept=-1.0,
        theta=rng.normal(0.0, 0.5 / np.sqrt(dim_context), dim_context),
        action_features=rng.normal(size=(n_actions, dim_action)),
        gamma=rng.normal(0.0, 0.5 / np.sqrt(dim_action), dim_action),
        interaction=rng.normal(0.0, scale, (dim_context, dim_action)),
        logging_noise=rng.normal(0.0, scale, (dim_context, dim_action)),
        beta_logging=beta_logging,
        epsilon_logging=epsilon_logging,
        epsilon_eval=epsilon_eval,
    )


class BanditEnvironment(Protocol):
    """What the study needs of an environment: `SyntheticBandit` or `WorldBandit`."""

    n_actions: int

    def sample_rounds(self, n: int, rng: np.random.Generator) -> LoggedRounds: ...

    def policy_value(self) -> float: ...


def _estimate_once(
    env: BanditEnvironment,
    estimators: Mapping[str, OffPolicyEstimator],
    n: int,
    rng: np.random.Generator,
    n_bootstrap: int,
    alpha: float,
) -> list[tuple[str, float, float, float]]:
    """(name, estimate, low, high) of every estimator on one fresh log of ``n`` rounds."""
    log = env.sample_rounds(n, rng)
    seed = int(rng.integers(2**31))
    inputs = {
        "action_dist": log.action_dist,
        "reward": log.reward,
        "action": log.action,
        "pscore": log.pscore,
    }
    if log.q_hat is not None:
        inputs["q_hat"] = log.q_hat
    elif any("q_hat" in est.needs for est in estimators.values()):
        inputs["q_hat"] = fit_reward_model(
            log.context, log.action, log.reward, env.n_actions, n_folds=2, random_state=seed
        )
    rows = []
    for name, est in estimators.items():
        value = est.estimate_policy_value(**inputs)
        low = high = np.nan
        if n_bootstrap > 0:
            ci = est.estimate_interval(
                **inputs, n_bootstrap=n_bootstrap, alpha=alpha, random_state=seed
            )
            low, high = ci.low, ci.high
        rows.append((name, value, low, high))
    return rows


def simulate_estimates(
    estimators: Mapping[str, OffPolicyEstimator],
    sample_sizes: Sequence[int] = (500, 1000, 2000, 4000),
    n_runs: int = 200,
    random_state: int = 0,
    n_bootstrap: int = 200,
    alpha: float = 0.05,
    env: BanditEnvironment | None = None,
) -> pd.DataFrame:
    """Every estimator on ``n_runs`` independent logs of each size; one row per estimate.

    Run ``r`` at size index ``j`` draws its log from ``default_rng([random_state, j, r])``, so
    all estimators see the same logs (common random numbers) and runs are reproducible one by
    one. The reward model ``q_hat`` is `fit_reward_model` with two cross-fitted folds, refitted
    on each log. ``n_bootstrap = 0`` skips the intervals (``low`` and ``high`` are NaN).

    Returns
    -------
    pandas.DataFrame
        Columns ``estimator, n, run, estimate, low, high``.
    """
    env = make_synthetic_bandit() if env is None else env
    if n_runs < 2:
        raise ValueError(f"n_runs must be at least 2; got {n_runs}")
    records = []
    for j, n in enumerate(sample_sizes):
        for run in range(n_runs):
            rng = np.random.default_rng([random_state, j, run])
            for name, value, low, high in _estimate_once(
                env, estimators, int(n), rng, n_bootstrap, alpha
            ):
                records.append((name, int(n), run, value, low, high))
    return pd.DataFrame(records, columns=["estimator", "n", "run", "estimate", "low", "high"])


def summarize_estimates(estimates: pd.DataFrame, truth: float) -> pd.DataFrame:
    """Bias, variance, MSE, relative RMSE and interval coverage per (estimator, n).

    ``bias = mean(V_hat) - V``, ``variance = mean((V_hat - mean(V_hat))^2)`` (ddof 0, so that
    ``mse = bias^2 + variance`` exactly), ``relative_rmse = sqrt(mse) / V``, ``coverage`` the
    share of runs with ``low <= V <= high`` and ``ci_width`` the mean of ``high - low`` (NaN
    without intervals).

    Parameters
    ----------
    estimates : pandas.DataFrame
        As returned by `simulate_estimates`.
    truth : float
        The evaluated policy's true value ``V``.
    """
    frame = estimates.assign(
        error=estimates["estimate"] - truth,
        covered=(estimates["low"] <= truth) & (truth <= estimates["high"]),
        width=estimates["high"] - estimates["low"],
    )
    grouped = frame.groupby(["estimator", "n"], sort=False)
    table = grouped.agg(
        n_runs=("run", "size"),
        mean_estimate=("estimate", "mean"),
        bias=("error", "mean"),
        variance=("estimate", lambda s: float(np.var(s))),
        mse=("error", lambda s: float(np.mean(np.square(s)))),
        coverage=("covered", "mean"),
        ci_width=("width", "mean"),
    ).reset_index()
    # rows by estimator (in order of first appearance), then by n within each
    order = {name: i for i, name in enumerate(pd.unique(table["estimator"]))}
    table = table.sort_values("estimator", key=lambda s: s.map(order), kind="stable")
    table = table.reset_index(drop=True)
    table.loc[table["ci_width"].isna(), "coverage"] = np.nan
    table.insert(2, "truth", truth)
    table.insert(table.columns.get_loc("mse") + 1, "relative_rmse", np.sqrt(table["mse"]) / truth)
    return table


def run_study(
    estimators: Mapping[str, OffPolicyEstimator],
    sample_sizes: Sequence[int] = (500, 1000, 2000, 4000),
    n_runs: int = 200,
    random_state: int = 0,
    n_bootstrap: int = 200,
    alpha: float = 0.05,
    env: BanditEnvironment | None = None,
) -> pd.DataFrame:
    """The simulation study: `simulate_estimates` summarized against the true value.

    Parameters
    ----------
    estimators : mapping of name to estimator
        E.g. ``{"ipw": InverseProbabilityWeighting(), "dr": DoublyRobust()}``; the evaluated
        policy is stochastic, so `ReplayMethod` does not apply.
    sample_sizes : sequence of int
        Log sizes ``n``.
    n_runs : int
        Independent logs per size.
    random_state : int
        Seed of the logs (the environment and the truth's contexts have their own).
    n_bootstrap : int
        Bootstrap replicates per interval; 0 skips intervals and coverage.
    alpha : float
        Miscoverage of the intervals (0.05 gives 95 %).
    env : SyntheticBandit or any `BanditEnvironment`, optional
        Defaults to ``make_synthetic_bandit()``; `persona_lib.evaluation.ope.world.WorldBandit`
        runs the same study in the streaming simulator.

    Returns
    -------
    pandas.DataFrame
        One row per (estimator, n): ``estimator, n, truth, n_runs, mean_estimate, bias,
        variance, mse, relative_rmse, coverage, ci_width``.

    Examples
    --------
    >>> from persona_lib.evaluation.ope.estimators import InverseProbabilityWeighting
    >>> table = run_study({"ipw": InverseProbabilityWeighting()}, (200,), n_runs=5, n_bootstrap=0)
    >>> table[["estimator", "n", "n_runs"]].values.tolist()
    [['ipw', 200, 5]]
    """
    env = make_synthetic_bandit() if env is None else env
    estimates = simulate_estimates(
        estimators, sample_sizes, n_runs, random_state, n_bootstrap, alpha, env
    )
    return summarize_estimates(estimates, env.policy_value())


def coverage_by_size(table: pd.DataFrame, estimators=("dr", "ipw")) -> dict[str, dict[str, float]]:
    """Interval coverage per estimator and log size from a `run_study` table, for JSON reports."""
    chosen = table[table["estimator"].isin(list(estimators))]
    return {
        name: {
            str(int(n)): round(float(c), 4)
            for n, c in zip(rows["n"], rows["coverage"], strict=True)
        }
        for name, rows in chosen.groupby("estimator")
    }

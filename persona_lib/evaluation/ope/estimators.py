"""Off-policy estimators (OPE): the value of an evaluated policy from another policy's logs.

Logged bandit feedback is ``n`` rounds ``(x_i, a_i, r_i)`` with ``pscore_i = pi_b(a_i | x_i)``, the
logging policy's probability of the logged action. The evaluated policy is given by its action
probabilities ``action_dist[i, a] = pi_e(a | x_i)``, shape (n, n_actions), or per slot of a
recommendation interface, shape (n, n_actions, n_positions) with ``position[i]`` the logged slot.
Model-based estimators also take ``q_hat[i, a] = q_hat(x_i, a)``, the estimated expected reward of
every action (same shape as ``action_dist``), e.g. from `fit_reward_model`. ``w_i =
pi_e(a_i | x_i) / pscore_i`` is the importance weight and ``E_n`` the mean over rounds.

Each estimator is a frozen dataclass (its hyperparameters) with the same two verbs:
``estimate_policy_value(...) -> float`` and ``estimate_interval(...) -> Interval``. Formulas follow
Saito et al. (2021), "Open Bandit Dataset and Pipeline", whose obp package they match to 1e-12
(``benchmarks/obd_ope.py`` checks it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np

from persona_lib.evaluation.ope.bootstrap import Interval, RoundTerms, bootstrap_interval
from persona_lib.evaluation.ope.inputs import LoggedInputs, check_inputs, check_weights
from persona_lib.evaluation.ope.reward_model import fit_reward_model

__all__ = [
    "DirectMethod",
    "DoublyRobust",
    "Interval",
    "InverseProbabilityWeighting",
    "OffPolicyEstimator",
    "standard_estimators",
    "ReplayMethod",
    "SelfNormalizedDoublyRobust",
    "SelfNormalizedIPW",
    "SwitchDoublyRobust",
    "effective_sample_size",
    "fit_reward_model",
    "importance_weights",
]

ArrayLike = np.ndarray | list


def importance_weights(
    action: ArrayLike, pscore: ArrayLike, action_dist: ArrayLike, position: ArrayLike | None = None
) -> np.ndarray:
    """Importance weights ``w_i = pi_e(a_i | x_i, position_i) / pscore_i``, shape (n_rounds,).

    Examples
    --------
    >>> importance_weights([0, 1], [0.5, 0.25], [[1.0, 0.0], [0.5, 0.5]]).tolist()
    [2.0, 2.0]
    """
    data = check_inputs(
        {"action": action, "pscore": pscore, "action_dist": action_dist, "position": position},
        needs=("action", "pscore"),
    )
    return data.weights()


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size ``(sum_i w_i)^2 / sum_i w_i^2`` of importance weights.

    Equals ``n`` for equal weights and falls towards 1 as one weight dominates (Kish 1965,
    *Survey Sampling*, sec. 11.7).

    Examples
    --------
    >>> effective_sample_size([1.0, 1.0, 1.0, 1.0])
    4.0
    >>> effective_sample_size([2.0, 0.0, 0.0, 0.0])
    1.0
    """
    w = check_weights(weights)
    return float(w.sum() ** 2 / np.square(w).sum())


@dataclass(frozen=True)
class OffPolicyEstimator:
    """Base class: validates inputs, estimates a value and bootstraps its interval.

    A subclass sets ``name`` and ``needs`` (the inputs besides ``action_dist``) and implements
    only ``_round_terms``, its equation.
    """

    name: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()

    def _round_terms(self, data: LoggedInputs) -> RoundTerms:
        raise NotImplementedError

    def _terms(self, **inputs: ArrayLike | None) -> RoundTerms:
        return self._round_terms(check_inputs(inputs, needs=self.needs, estimator=self.name))

    def estimate_policy_value(
        self,
        *,
        action_dist: ArrayLike,
        reward: ArrayLike | None = None,
        action: ArrayLike | None = None,
        pscore: ArrayLike | None = None,
        q_hat: ArrayLike | None = None,
        position: ArrayLike | None = None,
    ) -> float:
        """Estimate the evaluated policy's value (mean reward per round).

        Parameters
        ----------
        action_dist : array, shape (n, n_actions) or (n, n_actions, n_positions)
            ``pi_e(a | x_i)`` of the evaluated policy; sums to 1 over actions.
        reward : array, shape (n,)
            Logged rewards ``r_i``.
        action : array of int, shape (n,)
            Logged actions ``a_i`` in ``0 .. n_actions - 1``.
        pscore : array, shape (n,)
            Logging propensities ``pi_b(a_i | x_i)`` in (0, 1].
        q_hat : array, same shape as ``action_dist``
            Estimated expected rewards of every action (model-based estimators).
        position : array of int, shape (n,), optional
            0-based logged slot; needed when ``action_dist`` has more than one position.

        Returns
        -------
        float
        """
        terms = self._terms(
            action_dist=action_dist,
            reward=reward,
            action=action,
            pscore=pscore,
            q_hat=q_hat,
            position=position,
        )
        return terms.value()

    def estimate_interval(
        self,
        *,
        action_dist: ArrayLike,
        reward: ArrayLike | None = None,
        action: ArrayLike | None = None,
        pscore: ArrayLike | None = None,
        q_hat: ArrayLike | None = None,
        position: ArrayLike | None = None,
        n_bootstrap: int = 1000,
        alpha: float = 0.05,
        random_state: int = 0,
    ) -> Interval:
        """Percentile bootstrap ``1 - alpha`` interval of the value (see `bootstrap_interval`).

        Inputs as in `estimate_policy_value`; each replicate recomputes the whole estimator.
        """
        terms = self._terms(
            action_dist=action_dist,
            reward=reward,
            action=action,
            pscore=pscore,
            q_hat=q_hat,
            position=position,
        )
        return bootstrap_interval(terms, n_bootstrap, alpha, random_state)

    def to_dict(self) -> dict[str, object]:
        """The estimator's name and hyperparameters (``inf`` as the string ``"inf"``)."""
        params = {k: (v if np.isfinite(v) else str(v)) for k, v in asdict(self).items()}
        return {"estimator": self.name, **params}


def _check_threshold(name: str, value: float, *, allow_zero: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    if np.isnan(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound} (inf for none); got {value}")


@dataclass(frozen=True)
class ReplayMethod(OffPolicyEstimator):
    """Replay method (RM): the mean reward over rounds where the evaluated policy agrees.

    ``V_RM = sum_i 1{pi_e(x_i) = a_i} r_i / sum_i 1{pi_e(x_i) = a_i}``

    for a deterministic evaluated policy (``action_dist`` one-hot). Unbiased when the logging
    policy is uniformly random (Li, Chu, Langford & Wang 2011, "Unbiased offline evaluation of
    contextual-bandit-based news article recommendation algorithms", WSDM). A stochastic policy
    is refused: use an importance-weighted estimator instead.
    """

    name: ClassVar[str] = "rm"
    needs: ClassVar[tuple[str, ...]] = ("reward", "action")

    def _round_terms(self, data: LoggedInputs) -> RoundTerms:
        chosen = data.pi_factual()
        if not np.all((data.action_dist == 0.0) | (data.action_dist == 1.0)):
            raise ValueError(
                "ReplayMethod needs a deterministic evaluated policy (action_dist one-hot); "
                "use InverseProbabilityWeighting for a stochastic one"
            )
        if not chosen.any():
            raise ValueError("ReplayMethod: no logged round matches the evaluated policy's action")
        return RoundTerms(base=np.zeros_like(chosen), numer=chosen * data.reward, denom=chosen)


@dataclass(frozen=True)
class InverseProbabilityWeighting(OffPolicyEstimator):
    """Inverse probability weighting (IPW / IPS), optionally with clipped weights.

    ``V_IPW = E_n[min(w_i, lambda_) r_i]``,  ``w_i = pi_e(a_i | x_i) / pi_b(a_i | x_i)``.

    Unbiased for ``lambda_ = inf`` when ``pi_b > 0`` wherever ``pi_e > 0`` (Horvitz & Thompson
    1952; Precup, Sutton & Singh 2000); a finite ``lambda_`` trades bias for variance
    (Strehl et al. 2010, "Learning from logged implicit exploration data").
    """

    lambda_: float = np.inf
    name: ClassVar[str] = "ipw"
    needs: ClassVar[tuple[str, ...]] = ("reward", "action", "pscore")

    def __post_init__(self) -> None:
        _check_threshold("lambda_", self.lambda_, allow_zero=False)

    def _round_terms(self, data: LoggedInputs) -> RoundTerms:
        w = np.minimum(data.weights(), self.lambda_)
        return RoundTerms(base=np.zeros_like(w), numer=w * data.reward)


@dataclass(frozen=True)
class SelfNormalizedIPW(OffPolicyEstimator):
    """Self-normalized inverse probability weighting (SNIPW).

    ``V_SNIPW = E_n[w_i r_i] / E_n[w_i]``: IPW divided by the mean weight, whose expectation
    is 1. Consistent, bounded by the reward range, with lower variance than IPW (Swaminathan &
    Joachims 2015, "The self-normalized estimator for counterfactual learning", NeurIPS).
    """

    name: ClassVar[str] = "snipw"
    needs: ClassVar[tuple[str, ...]] = ("reward", "action", "pscore")

    def _round_terms(self, data: LoggedInputs) -> RoundTerms:
        w = data.weights()
        return RoundTerms(base=np.zeros_like(w), numer=w * data.reward, denom=w)


@dataclass(frozen=True)
class DirectMethod(OffPolicyEstimator):
    """Direct method (DM): the reward model's prediction averaged over the evaluated policy.

    ``V_DM = E_n[sum_a pi_e(a | x_i) q_hat(x_i, a)]``.

    Low variance, biased as much as ``q_hat`` is wrong (Beygelzimer & Langford 2009, "The offset
    tree for learning with partial labels"; Dudik et al. 2014).
    """

    name: ClassVar[str] = "dm"
    needs: ClassVar[tuple[str, ...]] = ("q_hat",)

    def _round_terms(self, data: LoggedInputs) -> RoundTerms:
        q_pi = data.q_hat_under_policy()
        return RoundTerms(base=q_pi, numer=np.zeros_like(q_pi))


@dataclass(frozen=True)
class DoublyRobust(OffPolicyEstimator):
    """Doubly robust (DR): DM plus an importance-weighted correction of its residual.

    ``V_DR = E_n[q_hat(x_i, pi_e) + min(w_i, lambda_) (r_i - q_hat(x_i, a_i))]`` with
    ``q_hat(x, pi_e) = sum_a pi_e(a | x) q_hat(x, a)``.

    Unbiased if either the weights or ``q_hat`` are right (Dudik, Erhan, Langford & Li 2014,
    "Doubly robust policy evaluation and optimization", Statistical Science). A finite
    ``lambda_`` clips the weights (Su et al. 2020, pessimistic shrinkage).
    """

    lambda_: float = np.inf
    name: ClassVar[str] = "dr"
    needs: ClassVar[tuple[str, ...]] = ("reward", "action", "pscore", "q_hat")

    def __post_init__(self) -> None:
        _check_threshold("lambda_", self.lambda_, allow_zero=False)

    def _round_terms(self, data: LoggedInputs) -> RoundTerms:
        w = np.minimum(data.weights(), self.lambda_)
        return RoundTerms(base=data.q_hat_under_policy(), numer=w * data.residual())


@dataclass(frozen=True)
class SelfNormalizedDoublyRobust(OffPolicyEstimator):
    """Self-normalized doubly robust (SNDR): DR whose correction is divided by the mean weight.

    ``V_SNDR = E_n[q_hat(x_i, pi_e)] + E_n[w_i (r_i - q_hat(x_i, a_i))] / E_n[w_i]``.

    (Kallus & Uehara 2019, "Intrinsically efficient, stable, and bounded off-policy evaluation
    for reinforcement learning", NeurIPS; as in obp.)
    """

    name: ClassVar[str] = "sndr"
    needs: ClassVar[tuple[str, ...]] = ("reward", "action", "pscore", "q_hat")

    def _round_terms(self, data: LoggedInputs) -> RoundTerms:
        w = data.weights()
        return RoundTerms(base=data.q_hat_under_policy(), numer=w * data.residual(), denom=w)


@dataclass(frozen=True)
class SwitchDoublyRobust(OffPolicyEstimator):
    """Switch doubly robust (Switch-DR): DR where the weight is at most ``tau``, else DM.

    ``V_SwitchDR = E_n[q_hat(x_i, pi_e) + 1{w_i <= tau} w_i (r_i - q_hat(x_i, a_i))]``.

    ``tau = inf`` is DR; ``tau = 0`` is DM (on rounds with ``w_i > 0``). Wang, Agarwal & Dudik
    2017, "Optimal and adaptive off-policy evaluation in contextual bandits", ICML (their
    SWITCH-DR; obp's ``lambda_`` is ``tau`` here).
    """

    tau: float = np.inf
    name: ClassVar[str] = "switch-dr"
    needs: ClassVar[tuple[str, ...]] = ("reward", "action", "pscore", "q_hat")

    def __post_init__(self) -> None:
        _check_threshold("tau", self.tau, allow_zero=True)

    def _round_terms(self, data: LoggedInputs) -> RoundTerms:
        w = data.weights()
        kept = np.where(w <= self.tau, w, 0.0)
        return RoundTerms(base=data.q_hat_under_policy(), numer=kept * data.residual())


def standard_estimators(tau: float = 10.0) -> dict[str, OffPolicyEstimator]:
    """The usual panel, by short name: IPS (plain and clipped at ``tau``), SNIPS, DM, DR, SNDR
    and switch-DR (threshold ``tau``). Fix ``tau`` before looking at any estimate."""
    return {
        "ipw": InverseProbabilityWeighting(),
        "ipw_clipped": InverseProbabilityWeighting(lambda_=tau),
        "snipw": SelfNormalizedIPW(),
        "dm": DirectMethod(),
        "dr": DoublyRobust(),
        "sndr": SelfNormalizedDoublyRobust(),
        "switch_dr": SwitchDoublyRobust(tau=tau),
    }

"""Validation of logged bandit feedback for the off-policy estimators in `ope`.

`check_inputs` turns user arrays into a `LoggedInputs` whose shapes, ranges and lengths agree,
with error messages that name the offending argument; the estimators then only do arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

_SUM_TOL = 1e-6  # action_dist rows must sum to 1 within this (float32 inputs, rounding)
_ROLE = {
    "reward": "logged rewards",
    "action": "logged actions",
    "pscore": "logging propensities",
    "q_hat": "estimated rewards of every action, e.g. from fit_reward_model",
}


@dataclass(frozen=True)
class LoggedInputs:
    """Validated inputs; ``action_dist`` and ``q_hat`` always have a position axis.

    Attributes
    ----------
    action_dist : numpy.ndarray, shape (n, n_actions, n_positions)
    position : numpy.ndarray of int, shape (n,)
    reward, pscore : numpy.ndarray of float, shape (n,), or None when not given
    action : numpy.ndarray of int, shape (n,), or None
    q_hat : numpy.ndarray, shape (n, n_actions, n_positions), or None
    """

    action_dist: np.ndarray
    position: np.ndarray
    reward: np.ndarray | None = None
    action: np.ndarray | None = None
    pscore: np.ndarray | None = None
    q_hat: np.ndarray | None = None

    @property
    def rows(self) -> np.ndarray:
        return np.arange(self.action_dist.shape[0])

    def pi_factual(self) -> np.ndarray:
        """``pi_e(a_i | x_i, position_i)``, shape (n,)."""
        return self.action_dist[self.rows, self.action, self.position]

    def weights(self) -> np.ndarray:
        """Importance weights ``pi_e(a_i | x_i) / pscore_i``, shape (n,)."""
        return self.pi_factual() / self.pscore

    def q_hat_under_policy(self) -> np.ndarray:
        """``q_hat(x_i, pi_e) = sum_a pi_e(a | x_i) q_hat(x_i, a)`` at the logged slot, (n,)."""
        pi = self.action_dist[self.rows, :, self.position]
        return np.sum(pi * self.q_hat[self.rows, :, self.position], axis=1)

    def residual(self) -> np.ndarray:
        """``r_i - q_hat(x_i, a_i)``, shape (n,)."""
        return self.reward - self.q_hat[self.rows, self.action, self.position]


def check_weights(weights: object) -> np.ndarray:
    """Importance weights as a float array: 1-D, finite, non-negative, not all zero."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights must be a non-empty 1-D array; got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    if not np.any(w > 0):
        raise ValueError("weights are all zero")
    return w


def _numeric(name: str, values: object) -> np.ndarray:
    """`values` as a numeric array (bools as 0/1); a ragged or non-numeric input raises an error
    that names the argument (numeric text such as "1.0" is refused, not parsed)."""
    try:
        array = np.asarray(values)
    except ValueError as exc:  # nested sequences of unequal lengths
        raise ValueError(f"{name} must be a rectangular array ({exc})") from None
    if array.dtype == bool:
        array = array.astype(np.int8)
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be numeric; got dtype {array.dtype}")
    return array


def _vector(name: str, values: object, n: int) -> np.ndarray:
    array = _numeric(name, values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {array.shape}")
    if array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0]} rounds but action_dist has {n}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return array


def _index(name: str, values: object, n: int, size: int, what: str) -> np.ndarray:
    array = _vector(name, values, n)
    if not np.issubdtype(array.dtype, np.integer):
        if np.any(array != np.round(array)):
            raise ValueError(f"{name} must hold integers")
    bad = (array < 0) | (array >= size)
    if np.any(bad):
        raise ValueError(f"{name} must be in 0 .. {size - 1} ({what}); got {array[bad][0]}")
    return array.astype(np.intp)


def _action_dist(values: object) -> np.ndarray:
    dist = _numeric("action_dist", values).astype(float)
    if dist.ndim == 2:
        dist = dist[:, :, np.newaxis]
    if dist.ndim != 3 or 0 in dist.shape:
        raise ValueError(
            "action_dist must have shape (n, n_actions) or (n, n_actions, n_positions); "
            f"got shape {np.shape(values)}"
        )
    if not np.all(np.isfinite(dist)) or np.any(dist < 0) or np.any(dist > 1):
        raise ValueError("action_dist must hold probabilities in [0, 1]")
    sums = dist.sum(axis=1)
    if np.any(np.abs(sums - 1.0) > _SUM_TOL):
        raise ValueError(f"action_dist must sum to 1 over actions; a row sums to {sums.min():.6g}")
    return dist


def check_inputs(
    inputs: Mapping[str, object], needs: tuple[str, ...], estimator: str = ""
) -> LoggedInputs:
    """Validate estimator inputs; ``needs`` lists those that must not be None.

    Raises
    ------
    ValueError, TypeError
        With a message naming the argument: missing input, shape or length mismatch, an action
        or position out of range, ``pscore`` outside (0, 1], ``action_dist`` not a distribution.
    """
    who = f"{estimator} " if estimator else ""
    for name in needs:
        if inputs.get(name) is None:
            raise ValueError(f"{who}needs {name} ({_ROLE[name]})")
    if inputs.get("action_dist") is None:
        raise ValueError(f"{who}needs action_dist (the evaluated policy's action probabilities)")
    raw_dist = inputs["action_dist"]
    dist = _action_dist(raw_dist)
    n, n_actions, n_positions = dist.shape
    checked: dict[str, np.ndarray | None] = dict.fromkeys(("reward", "action", "pscore", "q_hat"))
    if inputs.get("position") is None:
        if n_positions > 1:
            raise ValueError(f"position is needed: action_dist has {n_positions} positions")
        position = np.zeros(n, dtype=np.intp)
    elif np.ndim(raw_dist) == 2:
        raise ValueError(
            "position is given but action_dist has no position axis; "
            "pass action_dist of shape (n, n_actions, n_positions)"
        )
    else:
        position = _index("position", inputs["position"], n, n_positions, "0-based slot")
    if inputs.get("reward") is not None:
        checked["reward"] = _vector("reward", inputs["reward"], n).astype(float)
    if inputs.get("action") is not None:
        checked["action"] = _index("action", inputs["action"], n, n_actions, "n_actions - 1 max")
    if inputs.get("pscore") is not None:
        pscore = _vector("pscore", inputs["pscore"], n).astype(float)
        if np.any(pscore <= 0) or np.any(pscore > 1):
            low, high = pscore.min(), pscore.max()
            raise ValueError(f"pscore must be in (0, 1]; got values from {low:.6g} to {high:.6g}")
        checked["pscore"] = pscore
    if inputs.get("q_hat") is not None:
        q_hat = _numeric("q_hat", inputs["q_hat"]).astype(float)
        if q_hat.shape != np.shape(raw_dist):
            raise ValueError(
                f"q_hat has shape {q_hat.shape} but action_dist has shape {np.shape(raw_dist)}"
            )
        if not np.all(np.isfinite(q_hat)):
            raise ValueError("q_hat must be finite (no NaN or inf)")
        checked["q_hat"] = q_hat.reshape(dist.shape)
    return LoggedInputs(action_dist=dist, position=position, **checked)

"""A cross-fitted logistic reward model ``q_hat(x, a)`` for the model-based OPE estimators."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold


def _one_hot(index: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((index.shape[0], size))
    out[np.arange(index.shape[0]), index] = 1.0
    return out


def _check(context, action, reward, n_actions, position, n_positions, n_folds):
    x = np.asarray(context, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"context must be 2-D (n_rounds, n_features); got shape {x.shape}")
    n = x.shape[0]
    a = np.asarray(action)
    r = np.asarray(reward, dtype=float)
    if a.shape != (n,) or r.shape != (n,):
        raise ValueError(
            f"action and reward must have shape ({n},) like context's rows; "
            f"got {a.shape} and {r.shape}"
        )
    if not np.all(np.isin(r, (0.0, 1.0))):
        raise ValueError("reward must be binary (0 / 1) for the logistic reward model")
    if np.any((a < 0) | (a >= n_actions)):
        raise ValueError(f"action must be in 0 .. {n_actions - 1}")
    if (position is None) != (n_positions is None):
        raise ValueError("give both position and n_positions, or neither")
    p = np.zeros(n, dtype=np.intp) if position is None else np.asarray(position, dtype=np.intp)
    if p.shape != (n,) or np.any((p < 0) | (p >= (n_positions or 1))):
        raise ValueError(f"position must have shape ({n},) with values in 0 .. n_positions - 1")
    if not 1 <= n_folds <= n:
        raise ValueError(f"n_folds must be in 1 .. n_rounds; got {n_folds}")
    return x, a.astype(np.intp), r, p


def fit_reward_model(
    context: np.ndarray,
    action: np.ndarray,
    reward: np.ndarray,
    n_actions: int,
    n_folds: int = 2,
    random_state: int = 0,
    position: np.ndarray | None = None,
    n_positions: int | None = None,
) -> np.ndarray:
    """Cross-fitted click model: ``q_hat[i, a(, p)] = P(r = 1 | x_i, a(, p))`` for every action.

    A logistic regression (scikit-learn, L2, C = 1) on ``[x, one_hot(a), one_hot(p)]``. Rounds
    are split into ``n_folds`` shuffled folds; each fold's predictions come from the model fitted
    on the other folds (cross-fitting, Chernozhukov et al. 2018), so ``q_hat`` of a logged round
    never saw its own reward; ``n_folds = 1`` fits and predicts on all rounds. The logit is
    additive, ``x beta + beta_a + beta_p + b``, so every action's prediction is read off the
    coefficients without building one row per action. A training fold with a single reward value
    predicts that constant.

    Parameters
    ----------
    context : array, shape (n_rounds, n_features)
    action : array of int, shape (n_rounds,)
    reward : array of 0 / 1, shape (n_rounds,)
    n_actions : int
    n_folds : int
    random_state : int
        Seeds the fold shuffle.
    position, n_positions : optional
        0-based logged slot and number of slots; the result then has a position axis.

    Returns
    -------
    numpy.ndarray, shape (n_rounds, n_actions) or (n_rounds, n_actions, n_positions)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 3))
    >>> a = rng.integers(0, 2, 200)
    >>> r = rng.binomial(1, 0.3, 200)
    >>> fit_reward_model(x, a, r, n_actions=2).shape
    (200, 2)
    """
    x, a, r, p = _check(context, action, reward, n_actions, position, n_positions, n_folds)
    n_slots = n_positions or 1
    q_hat = np.empty((x.shape[0], n_actions, n_slots))
    if n_folds == 1:
        folds = [(np.arange(x.shape[0]), np.arange(x.shape[0]))]
    else:
        folds = KFold(n_folds, shuffle=True, random_state=random_state).split(x)
    for train, test in folds:
        if np.unique(r[train]).size == 1:
            q_hat[test] = r[train][0]
            continue
        features = np.hstack([x, _one_hot(a, n_actions), _one_hot(p, n_slots)])
        model = LogisticRegression(C=1.0, max_iter=2000).fit(features[train], r[train])
        coef = model.coef_[0]
        d = x.shape[1]
        logit = (
            (x[test] @ coef[:d] + model.intercept_[0])[:, None, None]
            + coef[d : d + n_actions][None, :, None]
            + coef[d + n_actions :][None, None, :]
        )
        q_hat[test] = 1.0 / (1.0 + np.exp(-logit))
    return q_hat if n_positions is not None else q_hat[:, :, 0]

"""Upsell targeting: whom to send a plan-upgrade offer, from a randomized offer log.

The offer (a first month at a discount) was randomized in the ``upgrade_offers`` log, so an
uplift learner (`persona_lib.models.retention.uplift`) estimates each member's incremental upgrade
probability ``tau(x) = P(upgrade | x, offered) - P(upgrade | x, not offered)``. The decision is
to offer to the top share ``q`` of eligible members by estimated uplift (`top_share`).

Honest evaluation needs the model to score members it was not fitted on: `cross_fit_uplift`
splits members into ``n_folds`` folds at random, fits on all folds but one and scores that one,
so every member gets an out-of-fold score from a model that never saw their outcome.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.models.retention.uplift import (
    BoosterParams,
    ClassTransformation,
    TLearner,
    XLearner,
)

# Screen pressure and engagement drive the offer's effect; few features keep the tiny number of
# upgrades (a few %) from being spread over noise columns.
UPSELL_FEATURES = [
    "n_profiles", "n_devices", "concurrent_blocks_30d", "plan", "sessions_per_week",
    "hours_28d", "tenure_days", "viewing_hours",
]  # fmt: skip
LEARNERS = {"t": TLearner, "x": XLearner, "class_transformation": ClassTransformation}


def make_learner(learner: str = "x", params: BoosterParams | None = None, propensity=None):
    """A fresh uplift meta-learner by name: ``"t"``, ``"x"`` or ``"class_transformation"``."""
    if learner not in LEARNERS:
        raise ValueError(f"learner must be one of {sorted(LEARNERS)}, got {learner!r}")
    return LEARNERS[learner](params, propensity)


def cross_fit_uplift(
    X: pd.DataFrame,
    treatment,
    y,
    n_folds: int = 2,
    learner: str = "x",
    params: BoosterParams | None = None,
    propensity: float | None = None,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold uplift scores: each row scored by a learner fitted on the other folds.

    Parameters
    ----------
    X : features, one row per member (n, p).
    treatment : (n,) binary, the randomized offer.
    y : (n,) binary outcome (upgraded).
    n_folds : folds (>= 2); members are assigned at random (``random_state``).
    learner, params, propensity : see `make_learner`.

    Returns
    -------
    (score, fold): the out-of-fold estimated uplift (n,) and each row's fold (n,).

    Examples
    --------
    >>> score, fold = cross_fit_uplift(X, offers["offered"], offers["upgraded"])  # doctest: +SKIP
    """
    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or n_folds < 2:
        raise ValueError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    w = np.asarray(treatment).astype(bool)
    y = np.asarray(y, dtype=np.float64)
    if not len(X) == w.size == y.size:
        raise ValueError(f"X, treatment and y lengths differ: {len(X)}, {w.size}, {y.size}")
    rng = np.random.default_rng(random_state)
    fold = rng.permutation(np.arange(w.size) % n_folds)
    score = np.zeros(w.size)
    X = X.reset_index(drop=True)
    for k in range(n_folds):
        test = fold == k
        model = make_learner(learner, params, propensity)
        model.fit(X[~test], w[~test], y[~test])
        score[test] = model.predict_uplift(X[test])
    return score, fold


def top_share(score, q: float) -> np.ndarray:
    """Boolean mask of the top ``ceil(q n)`` rows by ``score`` (ties by row order).

    Examples
    --------
    >>> top_share([0.1, 0.5, 0.3, 0.2], 0.5)
    array([False,  True,  True, False])
    """
    s = np.asarray(score, dtype=np.float64)
    if not 0 <= q <= 1:
        raise ValueError(f"q must be in [0, 1], got {q}")
    out = np.zeros(s.size, dtype=bool)
    out[np.argsort(-s, kind="stable")[: int(np.ceil(q * s.size))]] = True
    return out


def random_share(n: int, q: float, random_state: int = 0) -> np.ndarray:
    """Boolean mask of ``ceil(q n)`` rows drawn at random (the untargeted baseline)."""
    if not 0 <= q <= 1:
        raise ValueError(f"q must be in [0, 1], got {q}")
    rng = np.random.default_rng(random_state)
    return top_share(rng.random(int(n)), q)

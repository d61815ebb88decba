"""Choosing a model without the test split and without the simulator's truth.

A notebook that picks the model with the best test score, or the best score against the
simulator's truth, reports that same score with an optimistic bias: the choice used the number
it then reports. Here the choice uses only training rows.

- `choose_on_validation`: each candidate is fit on the earlier training rows and scored (ROC AUC)
  on a validation part carved from the training rows (for churn, the latest training snapshots);
  the best validation score wins.
- `choose_uplift_learner`: each uplift learner is cross-fitted on the training rows, folds grouped
  by member so a member's days never sit on both sides; the Qini coefficient of the out-of-fold
  predictions on the *logged* outcomes (what a team without the truth sees) decides.

Either returns a `Selection`: the chosen name, the criterion, and each candidate's score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from persona_lib.evaluation.uplift import qini_coefficient

__all__ = ["Selection", "choose_on_validation", "choose_uplift_learner", "group_folds"]


@dataclass(frozen=True)
class Selection:
    """The outcome of a model choice.

    Attributes
    ----------
    chosen : str
        The candidate with the best score.
    criterion : str
        What was compared, as it reads in a sentence ("validation AUC").
    scores : DataFrame
        One row per candidate: ``candidate``, ``score`` and, for cross-fitting, ``fold_mean``
        and ``fold_se`` (the spread of the per-fold scores); ``chosen`` marks the winner.
    """

    chosen: str
    criterion: str
    scores: pd.DataFrame


def _pick(
    scores: dict[str, float], criterion: str, extra: dict[str, dict] | None = None
) -> Selection:
    finite = {k: v for k, v in scores.items() if np.isfinite(v)}
    if not finite:
        raise ValueError(f"no candidate has a finite {criterion}")
    chosen = max(finite, key=finite.get)  # first of equal scores, in the candidates' order
    rows = [{"candidate": k, "score": v, **(extra or {}).get(k, {}), "chosen": k == chosen}
            for k, v in scores.items()]  # fmt: skip
    return Selection(chosen, criterion, pd.DataFrame(rows))


def choose_on_validation(
    candidates: Mapping[str, Callable[[], object]], X_fit: pd.DataFrame, y_fit,
    X_val: pd.DataFrame, y_val,
) -> Selection:  # fmt: skip
    """Fit each candidate on ``(X_fit, y_fit)`` and choose the best ROC AUC on ``(X_val, y_val)``.

    Parameters
    ----------
    candidates : mapping of name to a factory
        ``factory()`` returns an unfitted classifier with ``fit(X, y)`` and ``predict_proba``.
    X_fit, y_fit : training rows the candidates are fit on.
    X_val, y_val : validation rows carved from the training data (never the test split).

    Returns
    -------
    Selection
        Criterion ``"validation AUC"``.

    Raises
    ------
    ValueError
        If there are no candidates or the validation labels hold one class.
    """
    from sklearn.metrics import roc_auc_score

    if not candidates:
        raise ValueError("choose_on_validation needs at least one candidate")
    y_val = np.asarray(y_val).astype("int64")
    if len(np.unique(y_val)) < 2:
        raise ValueError("the validation rows must hold both classes")
    scores = {}
    for name, make in candidates.items():
        model = make().fit(X_fit, y_fit)
        scores[name] = float(roc_auc_score(y_val, model.predict_proba(X_val)[:, 1]))
    return _pick(scores, "validation AUC")


def group_folds(groups, n_folds: int, random_state: int = 0) -> np.ndarray:
    """Fold number (0 to ``n_folds - 1``) of each row; all rows of a group share a fold.

    Examples
    --------
    >>> folds = group_folds(["a", "a", "b", "c"], 2)
    >>> bool(folds[0] == folds[1])
    True
    """
    if n_folds < 2:
        raise ValueError("n_folds must be at least 2")
    unique, inverse = np.unique(np.asarray(groups), return_inverse=True)
    if unique.size < n_folds:
        raise ValueError(f"{unique.size} groups cannot fill {n_folds} folds")
    order = np.random.default_rng(random_state).permutation(unique.size)
    fold_of_group = np.empty(unique.size, dtype=np.int64)
    fold_of_group[order] = np.arange(unique.size) % n_folds
    return fold_of_group[inverse]


def choose_uplift_learner(
    candidates: Mapping[str, Callable[[], object]], X: pd.DataFrame, treatment, y, groups,
    n_folds: int = 3, random_state: int = 0,
) -> Selection:  # fmt: skip
    """Choose the uplift learner with the best cross-fitted Qini coefficient on logged outcomes.

    Each learner is fit on all folds but one and predicts the left-out fold; the Qini coefficient
    (normalized, `qini_coefficient`) of the pooled out-of-fold predictions against the logged
    outcome ``y`` and ``treatment`` is the score. No true effect is used.

    Parameters
    ----------
    candidates : mapping of name to a factory
        ``factory()`` returns an unfitted learner with ``fit(X, treatment, y)`` and
        ``predict_uplift(X)``.
    X, treatment, y : the training rows of a randomized experiment.
    groups : array-like
        The unit of randomization or of repeated rows (member id): folds never split a group.
    n_folds : int
        Cross-fitting folds.
    random_state : int
        Seed of the fold assignment.

    Returns
    -------
    Selection
        Criterion ``"cross-fitted logged Qini"``; ``scores`` also holds ``fold_mean`` and
        ``fold_se`` of the per-fold Qini coefficients.
    """
    if not candidates:
        raise ValueError("choose_uplift_learner needs at least one candidate")
    w = np.asarray(treatment).astype(bool)
    y = np.asarray(y, dtype=np.float64)
    folds = group_folds(groups, n_folds, random_state)
    scores, extra = {}, {}
    for name, make in candidates.items():
        out_of_fold = np.empty(len(y), dtype=np.float64)
        for k in range(n_folds):
            test = folds == k
            learner = make().fit(X[~test], w[~test], y[~test])
            out_of_fold[test] = learner.predict_uplift(X[test])
        per_fold = np.array([qini_coefficient(y[folds == k], w[folds == k], out_of_fold[folds == k])
                             for k in range(n_folds)])  # fmt: skip
        scores[name] = float(qini_coefficient(y, w, out_of_fold))
        extra[name] = {
            "fold_mean": float(np.nanmean(per_fold)),
            "fold_se": float(np.nanstd(per_fold, ddof=1) / np.sqrt(n_folds)),
        }
    return _pick(scores, "cross-fitted logged Qini", extra)

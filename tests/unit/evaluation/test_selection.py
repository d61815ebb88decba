"""Model choice uses training rows only: the informative candidate wins, no truth is read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_lib.evaluation.selection import (
    choose_on_validation,
    choose_uplift_learner,
    group_folds,
)


class _ByColumn:
    """A classifier/uplift stub that scores rows by one column (or by noise)."""

    def __init__(self, column: str | None, seed: int = 0):
        self.column, self.rng = column, np.random.default_rng(seed)

    def fit(self, X, *args):
        self.fitted_rows_ = len(X)
        return self

    def _score(self, X):
        if self.column is None:
            return self.rng.uniform(size=len(X))
        return 1 / (1 + np.exp(-X[self.column].to_numpy()))

    def predict_proba(self, X):
        p = self._score(X)
        return np.column_stack([1 - p, p])

    def predict_uplift(self, X):
        return self._score(X)


def _classification(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-2 * X["signal"]))).astype(int)
    return X, y


def test_validation_choice_picks_the_informative_model():
    X, y = _classification()
    pick = choose_on_validation(
        {"noise": lambda: _ByColumn("noise"), "signal": lambda: _ByColumn("signal")},
        X.iloc[:3000],
        y[:3000],
        X.iloc[3000:],
        y[3000:],
    )
    assert pick.chosen == "signal" and pick.criterion == "validation AUC"
    scores = pick.scores.set_index("candidate")
    assert scores.loc["signal", "score"] > 0.7 > scores.loc["noise", "score"]
    assert scores["chosen"].tolist() == [False, True]


def test_validation_needs_both_classes():
    X, y = _classification()
    with pytest.raises(ValueError, match="both classes"):
        choose_on_validation({"a": lambda: _ByColumn("signal")}, X, y, X, np.zeros(len(y)))


def test_group_folds_keep_groups_together_and_fill_every_fold():
    groups = np.repeat(np.arange(50), 4)
    folds = group_folds(groups, 3, random_state=1)
    assert set(folds) == {0, 1, 2}
    assert all(len(set(folds[groups == g])) == 1 for g in range(50))
    with pytest.raises(ValueError):
        group_folds([1, 2], 3)


def test_uplift_choice_uses_logged_outcomes_and_picks_the_real_effect():
    rng = np.random.default_rng(0)
    n = 20_000
    X = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n)})
    w = rng.uniform(size=n) < 0.5
    tau = 0.2 * (X["x"].to_numpy() > 0)
    y = (rng.uniform(size=n) < 0.2 + w * tau).astype(float)
    members = np.arange(n) // 5
    pick = choose_uplift_learner(
        {"noise": lambda: _ByColumn(None), "x": lambda: _ByColumn("x")},
        X,
        w,
        y,
        members,
        n_folds=3,
    )
    assert pick.chosen == "x" and pick.criterion == "cross-fitted logged Qini"
    scores = pick.scores.set_index("candidate")
    assert scores.loc["x", "score"] > scores.loc["noise", "score"] + 0.05
    assert {"fold_mean", "fold_se"} <= set(scores.columns)

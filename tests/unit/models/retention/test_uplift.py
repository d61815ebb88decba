"""Meta-learners recover a planted heterogeneous effect; the send-hour model finds the peak."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from persona_lib.models.retention.uplift import (
    BoosterParams,
    ClassTransformation,
    SendHourModel,
    TLearner,
    XLearner,
    best_send_hour,
    circular_gap,
)

FAST = BoosterParams(n_estimators=60, learning_rate=0.1, num_leaves=7, min_child_samples=100)
TINY = BoosterParams(n_estimators=10, num_leaves=4, min_child_samples=50)


def planted(n: int = 15_000, share: float = 0.3, seed: int = 0):
    """Binary outcome with ``tau(x) = 0.25 [x0 > 0] - 0.05 + 0.1 x1`` (in probability)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "x0": rng.normal(size=n),
            "x1": rng.uniform(-1, 1, size=n),
            "x2": rng.normal(size=n),
            "segment": pd.array(rng.choice(["a", "b", "c"], size=n), dtype="str"),
        }
    )
    tau = 0.25 * (X["x0"] > 0) - 0.05 + 0.1 * X["x1"]
    base = 0.25 * expit(X["x2"].to_numpy()) + 0.1 * (X["segment"] == "a")
    w = rng.random(n) < share
    y = rng.random(n) < base + w * tau.to_numpy() + 0.1
    return X, w, y.astype(int), tau.to_numpy()


@pytest.fixture(scope="module")
def data():
    return planted()


@pytest.mark.parametrize(
    "learner",
    [TLearner(FAST), XLearner(FAST, propensity=0.3), ClassTransformation(FAST, propensity=0.3)],
    ids=["T", "X", "CT"],
)
def test_learners_recover_the_planted_effect(learner, data):
    X, w, y, tau = data
    pred = learner.fit(X, w, y).predict_uplift(X)
    assert pred.shape == (len(X),)
    assert np.corrcoef(pred, tau)[0, 1] > 0.7
    assert abs(pred.mean() - tau.mean()) < 0.03


@pytest.fixture(scope="module")
def small():
    return planted(n=3000, seed=4)


def test_fits_are_deterministic(small):
    X, w, y, _ = small
    a = XLearner(FAST).fit(X, w, y).predict_uplift(X)
    b = XLearner(FAST).fit(X, w, y).predict_uplift(X)
    np.testing.assert_array_equal(a, b)


def test_propensity_is_estimated_or_given(small):
    X, w, y, _ = small
    assert XLearner(TINY).fit(X, w, y).propensity_ == pytest.approx(w.mean())
    assert XLearner(TINY, propensity=0.25).fit(X, w, y).propensity_ == 0.25
    with pytest.raises(ValueError, match=r"propensity must be in \(0, 1\)"):
        XLearner(TINY, propensity=1.0).fit(X, w, y)


def test_class_transformation_forms(small):
    X, w, y, tau = small
    assert ClassTransformation(TINY, propensity=0.3).fit(X, w, y).method_ == "regression"
    half = planted(share=0.5, seed=1)
    model = ClassTransformation(FAST, propensity=0.5).fit(half[0], half[1], half[2])
    assert model.method_ == "classification"
    assert np.corrcoef(model.predict_uplift(half[0]), half[3])[0, 1] > 0.7
    with pytest.raises(ValueError, match="classification form needs propensity 0.5"):
        ClassTransformation(TINY, propensity=0.3, method="classification").fit(X, w, y)


def test_continuous_outcome_uses_regressors():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"x": rng.normal(size=5000)})
    w = rng.random(5000) < 0.5
    y = X["x"].to_numpy() * w * 2.0 + rng.normal(size=5000)
    pred = TLearner(FAST).fit(X, w, y).predict_uplift(X)
    assert np.corrcoef(pred, X["x"])[0, 1] > 0.8


def test_input_errors(small):
    X, w, y, _ = small
    with pytest.raises(ValueError, match="treatment must be binary"):
        TLearner(TINY).fit(X, w * 2, y)
    with pytest.raises(ValueError, match="both treated and control rows are needed"):
        TLearner(TINY).fit(X, np.ones(len(X), bool), y)
    with pytest.raises(ValueError, match="lengths differ"):
        TLearner(TINY).fit(X, w[:-1], y)
    model = TLearner(TINY).fit(X, w, y)
    with pytest.raises(ValueError, match="X lacks the features seen in fit"):
        model.predict_uplift(X.drop(columns="x2"))


def test_circular_gap():
    np.testing.assert_array_equal(circular_gap([1, 23, 12, 5], [23, 1, 0, 5]), [2, -2, -12, 0])


def test_send_hour_model_finds_an_hour_before_the_usual_viewing_time():
    rng = np.random.default_rng(3)
    n = 20_000
    typical = rng.uniform(0, 24, size=n)
    best = np.round(typical - 1) % 24
    hour = rng.integers(0, 24, size=n)
    gap = np.abs(circular_gap(hour, best))
    opened = rng.random(n) < 0.02 + 0.22 * np.exp(-(gap**2) / (2 * 2.5**2))
    X = pd.DataFrame({"typical_hour": typical, "noise": rng.normal(size=n)})
    model = SendHourModel(
        BoosterParams(n_estimators=60, learning_rate=0.1, min_child_samples=200)
    ).fit(X, hour, opened)
    members = X.iloc[:500]
    chosen = best_send_hour(model, members)
    assert chosen.dtype == np.int64 and chosen.min() >= 0 and chosen.max() <= 23
    assert np.mean(np.abs(circular_gap(chosen, best[:500])) <= 1) > 0.8
    assert model.open_curve(members).shape == (500, 24)

"""ChurnModel's cross-fitted procedure: capacity by inner CV, calibration with no rows set aside."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from tolerances import FLOAT64

from persona_lib.evaluation import classification_report
from persona_lib.models.retention import (
    CalibratedClassifier,
    ChurnConfig,
    ChurnModel,
    CompletionModel,
    MarginCalibrator,
)
from persona_lib.models.retention.capacity import inner_folds, search_logistic

MODELS = ["logistic", "lightgbm"]
FAST = {"n_estimators": 80}  # a cap on trees keeps each fit well under a second


def _table(n: int, seed: int, kind: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Churn driven by ``x`` (numeric) and ``plan`` / ``device`` (categorical, string)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    plan = rng.choice(["ads", "standard", "premium"], size=n)
    device = rng.choice(["tv", "mobile"], size=n)
    numeric = -1.5 + 1.5 * x if kind != "categorical" else -1.5
    categorical = 1.2 * (plan == "premium") - 0.8 * (device == "tv") if kind != "numeric" else 0
    y = (rng.random(n) < expit(numeric + categorical)).astype("int64")
    columns = {
        "numeric": {"x": x, "noise": rng.normal(size=n)},
        "categorical": {"plan": pd.Categorical(plan), "device": pd.array(device, dtype="str")},
    }
    if kind == "mixed":
        frame = {**columns["numeric"], **columns["categorical"], "flag": rng.random(n) < 0.5}
    else:
        frame = columns[kind]
    return pd.DataFrame(frame), y


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kind", ["numeric", "categorical", "mixed"])
def test_fits_numeric_categorical_and_mixed_frames(model, kind):
    X, y = _table(1500, 0, kind)
    X_test, y_test = _table(1500, 1, kind)
    fitted = ChurnModel(model=model, **FAST).fit(X, y)
    p = fitted.predict_proba(X_test)
    assert p.shape == (1500, 2) and np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, **FLOAT64)
    assert classification_report(y_test, p[:, 1])["roc_auc"] > 0.65
    assert fitted.procedure_ == "cross_fit"
    expected = {"C"} if model == "logistic" else {"num_leaves", "min_child_samples", "n_estimators"}
    assert set(fitted.best_params_) == expected


@pytest.mark.parametrize("model", MODELS)
def test_no_row_is_set_aside(model):
    X, y = _table(1200, 2, "mixed")
    fitted = ChurnModel(model=model, **FAST).fit(X, y)
    assert fitted.n_train_rows_ == fitted.n_calibration_rows_ == len(X)
    # the final base model is the one fit on every row with the chosen capacity
    again = fitted._base_model(fitted.best_params_).fit(fitted._design(X), y)
    direct = (
        again.decision_function(fitted._design(X))
        if model == "logistic"
        else again.booster_.predict(fitted._design(X), raw_score=True)
    )
    np.testing.assert_allclose(fitted.decision_function(X), direct, **FLOAT64)
    held_out = ChurnModel(model=model, procedure="holdout", **FAST).fit(X, y)
    assert held_out.n_train_rows_ == 900 and held_out.n_calibration_rows_ == 300
    assert held_out.inner_scores_ is None


def test_the_chosen_capacity_has_the_lowest_held_out_loss():
    X, y = _table(1500, 3, "mixed")
    fitted = ChurnModel(model="lightgbm", **FAST).fit(X, y)
    scores = fitted.inner_scores_
    chosen = scores[scores["chosen"]].iloc[0]
    assert chosen["log_loss"] == scores["log_loss"].min()
    assert {k: chosen[k] for k in fitted.best_params_} == fitted.best_params_
    assert 1 <= fitted.best_params_["n_estimators"] <= FAST["n_estimators"]
    grid = ChurnConfig().capacity_grid
    tried = list(zip(scores["num_leaves"], scores["min_child_samples"], strict=True))
    assert tried == [tuple(pair) for pair in grid[: len(tried)]]
    if len(tried) < len(grid):  # the path stopped because the loss rose
        assert scores["log_loss"].iloc[-1] > scores["log_loss"].iloc[-2]
    logistic = ChurnModel(model="logistic").fit(X, y)
    assert list(logistic.inner_scores_["C"]) == sorted(ChurnConfig().C_grid)
    search = logistic_search(X, y)
    payload = json.loads(json.dumps(search.to_dict()))
    assert payload["n_folds"] == 3 and len(payload["scores"]) == len(ChurnConfig().C_grid)
    assert payload["best_params"] == logistic.best_params_
    best = logistic.inner_scores_.loc[logistic.inner_scores_["log_loss"].idxmin(), "C"]
    assert logistic.best_params_ == {"C": best} and logistic.base_.C == best


def logistic_search(X: pd.DataFrame, y: np.ndarray):
    """`search_logistic` on the design a default logistic ChurnModel builds."""
    model = ChurnModel(model="logistic").fit(X, y)
    return search_logistic(model._design(X), y, ChurnConfig().C_grid, inner_folds(y, 3, 0))


def test_capacity_grows_with_an_interaction_the_simple_trees_cannot_hold():
    rng = np.random.default_rng(4)
    n = 6000
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    parity = np.sign(X["a"] * X["b"] * X["c"]).to_numpy()  # a three-way interaction
    y = (rng.random(n) < expit(-1.0 + 2.0 * parity)).astype("int64")
    interaction = ChurnModel(model="lightgbm", n_estimators=300).fit(X, y)
    additive = ChurnModel(model="lightgbm", n_estimators=300).fit(X, (rng.random(n) < expit(
        -1.0 + X["a"].to_numpy())).astype("int64"))  # fmt: skip
    assert interaction.best_params_["num_leaves"] > additive.best_params_["num_leaves"]


@pytest.mark.parametrize("model", MODELS)
def test_a_fixed_random_state_is_deterministic(model):
    X, y = _table(1000, 5, "mixed")
    a = ChurnModel(model=model, random_state=7, **FAST).fit(X, y)
    b = ChurnModel(ChurnConfig(model=model, random_state=7, **FAST)).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.best_params_ == b.best_params_
    pd.testing.assert_frame_equal(a.inner_scores_, b.inner_scores_)
    other = ChurnModel(model=model, random_state=8, **FAST).fit(X, y)
    assert not np.allclose(other.inner_scores_["log_loss"], a.inner_scores_["log_loss"])


def test_inner_folds_are_stratified_and_shrink_for_a_rare_class():
    y = np.array([1] * 9 + [0] * 91)
    folds = inner_folds(y, 3, 0)
    assert len(folds) == 3
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(100))
    assert [int(y[test].sum()) for _, test in folds] == [3, 3, 3]
    assert len(inner_folds(np.array([1, 1] + [0] * 50), 5, 0)) == 2
    with pytest.raises(ValueError, match="needs at least 2 rows of each class, got 1"):
        inner_folds(np.array([1] + [0] * 50), 3, 0)


def test_calibration_variants_under_cross_fitting():
    X, y = _table(1500, 6, "numeric")
    plain = ChurnModel(model="logistic", calibration="none").fit(X, y)
    assert plain.calibrator_ is None and plain.n_calibration_rows_ == 0
    np.testing.assert_allclose(plain.predict_proba(X), plain.base_.predict_proba(plain._design(X)))
    iso = ChurnModel(model="logistic", calibration="isotonic").fit(X, y)
    p = iso.predict_proba(X)[:, 1]
    assert isinstance(iso.calibrator_, MarginCalibrator)
    assert p.min() >= 0 and p.max() <= 1 and abs(p.mean() - y.mean()) < 0.02


def test_platt_scaling_on_log_odds_leaves_calibrated_margins_alone():
    rng = np.random.default_rng(7)
    f = rng.normal(-1.0, 1.5, size=40_000)
    y = (rng.random(f.size) < expit(f)).astype("int64")
    a, b = MarginCalibrator().fit(f, y).coef_
    assert a == pytest.approx(1.0, abs=0.05) and b == pytest.approx(0.0, abs=0.05)
    a2, _ = MarginCalibrator().fit(2.0 * f, y).coef_  # an overconfident model is shrunk
    assert a2 == pytest.approx(0.5, abs=0.03)
    p = MarginCalibrator().fit(f, y).predict(np.array([0.0, logit(0.9)]))
    np.testing.assert_allclose(p, [0.5, 0.9], atol=0.02)
    iso = MarginCalibrator("isotonic").fit(f, y).predict(np.sort(f))
    assert np.all(np.diff(iso) >= 0)
    with pytest.raises(ValueError, match="method must be one of"):
        MarginCalibrator("beta").fit(f, y)


def test_other_estimators_keep_the_held_out_procedure():
    assert CalibratedClassifier.default_procedure == "holdout"
    assert CompletionModel.default_procedure == "holdout"
    X, y = _table(800, 8, "numeric")
    fitted = CalibratedClassifier(n_estimators=30).fit(X, y)
    assert fitted.procedure_ == "holdout" and fitted.n_train_rows_ == 600
    crossed = CalibratedClassifier(procedure="cross_fit", **FAST).fit(X, y)
    assert crossed.procedure_ == "cross_fit" and crossed.n_train_rows_ == 800


def test_config_and_input_errors():
    with pytest.raises(ValueError, match="procedure must be one of"):
        ChurnConfig(procedure="bootstrap")
    with pytest.raises(ValueError, match="inner_folds must be at least 2, got 1"):
        ChurnConfig(inner_folds=1)
    with pytest.raises(ValueError, match="capacity_grid must hold"):
        ChurnConfig(capacity_grid=((7,),))
    with pytest.raises(ValueError, match="C_grid must hold positive values"):
        ChurnConfig(C_grid=(0.0, 1.0))
    with pytest.raises(ValueError, match="n_estimators and early_stopping_rounds"):
        ChurnConfig(early_stopping_rounds=0)
    X, y = _table(300, 9, "numeric")
    with pytest.raises(ValueError, match="X has 300 rows but y has 299"):
        ChurnModel().fit(X, y[:-1])
    one = np.zeros(300, dtype="int64")
    one[0] = 1
    with pytest.raises(ValueError, match="cross-fitting needs at least 2 rows of each class"):
        ChurnModel().fit(X, one)
    with pytest.raises(ValueError, match="y must be binary"):
        ChurnModel().fit(X, np.where(y == 1, 2, 0))

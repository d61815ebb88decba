"""ChurnModel on a planted signal, and the classification metrics it is judged by."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from tolerances import FLOAT64

from persona_lib.evaluation import (
    calibration_table,
    classification_report,
    cumulative_gains,
    top_decile_capture,
)
from persona_lib.models.retention.churn import ChurnConfig, ChurnModel

MODELS = ["logistic", "lightgbm"]


def _planted(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Churn driven by ``drop`` (strong) and the ``premium`` plan; ``noise`` has NaNs."""
    rng = np.random.default_rng(seed)
    drop = rng.normal(size=n)
    noise = rng.normal(size=n)
    noise[rng.random(n) < 0.1] = np.nan
    plan = rng.choice(["ads", "standard", "premium"], size=n)
    logit = -2.5 + 1.5 * drop + 0.8 * (plan == "premium")
    p = expit(logit)
    X = pd.DataFrame(
        {"drop": drop, "noise": noise, "plan": pd.Categorical(plan), "flag": rng.random(n) < 0.5}
    )
    return X, (rng.random(n) < p).astype("int8"), p


@pytest.fixture(scope="module")
def planted():
    return _planted(6000, 0), _planted(6000, 1)


@pytest.fixture(scope="module")
def fitted(planted):
    (X, y, _), _ = planted
    return {m: ChurnModel(model=m, n_estimators=100).fit(X, y) for m in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_recovers_the_planted_signal(planted, fitted, model):
    _, (X_test, y_test, p_true) = planted
    p = fitted[model].predict_proba(X_test)
    assert p.shape == (len(X_test), 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    auc = classification_report(y_test, p[:, 1])["roc_auc"]
    ceiling = classification_report(y_test, p_true)["roc_auc"]
    assert auc > 0.8 and auc > ceiling - 0.03
    drivers = fitted[model].global_drivers()
    assert drivers["feature"].iloc[0] == "drop"
    assert set(drivers["feature"]) == {"drop", "noise", "plan", "flag"}
    assert drivers["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("model", MODELS)
def test_calibrated_mean_prediction_matches_the_base_rate(planted, fitted, model):
    _, (X_test, y_test, p_true) = planted
    p = fitted[model].predict_proba(X_test)[:, 1]
    assert p.mean() == pytest.approx(y_test.mean(), abs=0.015)
    table = calibration_table(y_test, p, n_bins=5)
    assert np.all(np.abs(table["mean_predicted"] - table["observed_rate"]) < 4 * table["se"] + 0.02)


@pytest.mark.parametrize("model", MODELS)
def test_explanations_sum_to_the_raw_margin(planted, fitted, model):
    _, (X_test, _, _) = planted
    contrib = fitted[model].explain(X_test.iloc[:300])
    assert list(contrib.columns) == ["drop", "noise", "plan", "flag", "bias"]
    margin = fitted[model].decision_function(X_test.iloc[:300])
    np.testing.assert_allclose(contrib.sum(axis=1), margin, **FLOAT64)


@pytest.mark.parametrize("model", MODELS)
def test_fit_is_deterministic_and_handles_unseen_categories(planted, model):
    (X, y, _), (X_test, _, _) = planted
    a = ChurnModel(model=model, n_estimators=50).fit(X, y)
    b = ChurnModel(ChurnConfig(model=model, n_estimators=50)).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))
    odd = X_test.iloc[:5].assign(plan=pd.Categorical(["family"] * 5))
    assert np.isfinite(a.predict_proba(odd)).all()
    if model == "logistic":  # an unseen plan contributes nothing, not another plan's effect
        assert (a.explain(odd)["plan"] == 0).all()


def test_isotonic_and_uncalibrated_variants(planted):
    (X, y, _), (X_test, y_test, _) = planted
    for calibration in ("isotonic", "none"):
        model = ChurnModel(model="logistic", calibration=calibration).fit(X, y)
        p = model.predict_proba(X_test)[:, 1]
        assert abs(p.mean() - y_test.mean()) < 0.02
    assert model.calibrator_ is None


def test_calibrates_with_a_handful_of_positives(planted):
    (X, y, _), _ = planted
    y_few = np.zeros(len(y), dtype="int8")
    y_few[np.flatnonzero(y)[:4]] = 1  # one positive lands in the calibration fold
    p = ChurnModel(model="lightgbm", n_estimators=20).fit(X, y_few).predict_proba(X)[:, 1]
    assert np.isfinite(p).all() and p.mean() < 0.01


def test_config_and_input_errors(planted):
    (X, y, _), _ = planted
    with pytest.raises(ValueError, match="model must be one of"):
        ChurnConfig(model="forest")
    with pytest.raises(ValueError, match="calibration must be one of"):
        ChurnModel(calibration="beta").fit(X, y)
    with pytest.raises(ValueError, match="y must contain both classes"):
        ChurnModel().fit(X, np.zeros(len(X)))
    model = ChurnModel(model="logistic").fit(X, y)
    with pytest.raises(ValueError, match=r"X lacks the features seen in fit: \['flag'\]"):
        model.predict_proba(X.drop(columns="flag"))
    assert ChurnConfig().to_dict()["calibration"] == "sigmoid"


# --- metrics: hand-computed cases --------------------------------------------------------


def test_classification_report_hand_values():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    r = classification_report(y, p)
    assert r["roc_auc"] == pytest.approx(0.75)  # 3 of 4 positive-negative pairs ordered
    assert r["pr_auc"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert r["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    ll = -(np.log(0.9) + np.log(0.6) + np.log(0.35) + np.log(0.8)) / 4
    assert r["log_loss"] == pytest.approx(ll)
    assert (r["base_rate"], r["mean_predicted"], r["n"]) == (0.5, pytest.approx(0.4125), 4)
    assert np.isnan(classification_report([0, 0], [0.2, 0.3])["roc_auc"])
    with pytest.raises(ValueError, match="p must be probabilities"):
        classification_report([0, 1], [0.2, 1.3])


def test_calibration_table_bins():
    y = np.array([0, 0, 1, 0, 1, 1])
    p = np.array([0.1, 0.1, 0.2, 0.6, 0.7, 0.9])
    table = calibration_table(y, p, n_bins=2, strategy="quantile")
    assert list(table["n"]) == [3, 3]
    np.testing.assert_allclose(table["observed_rate"], [1 / 3, 2 / 3])
    np.testing.assert_allclose(table["mean_predicted"], [0.4 / 3, 2.2 / 3])
    uniform = calibration_table(y, p, n_bins=10, strategy="uniform")
    assert list(uniform["bin"]) == [1, 2, 6, 7, 9] and uniform["n"].sum() == 6
    with pytest.raises(ValueError, match="strategy must be one of"):
        calibration_table(y, p, strategy="kmeans")


def test_gains_and_top_decile_capture():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    p = np.linspace(0.9, 0.0, 10)
    gains = cumulative_gains(y, p)
    assert len(gains) == 11 and gains.iloc[0, :2].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(gains["share_captured"].iloc[[1, 3, 10]], [1 / 3, 2 / 3, 1.0])
    assert gains["lift"].iloc[1] == pytest.approx(10 / 3)
    top = top_decile_capture(y, p)
    assert top == {"capture": pytest.approx(1 / 3), "lift": pytest.approx(10 / 3), "n_targeted": 1}
    assert top_decile_capture(y, p, share=0.3)["capture"] == pytest.approx(2 / 3)

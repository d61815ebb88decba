"""PlayPredictor: learns a planted signal, is deterministic, and handles pandas 3 strings."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from persona_lib.models.homepage import PlayPredictor


def synthetic(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Play probability rises with ``position_score`` and on tv; ``noise`` carries nothing."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "position_score": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "device": pd.array(rng.choice(["tv", "mobile", "web"], size=n), dtype="str"),
            "same_language": rng.random(n) < 0.5,
        }
    )
    logit = 1.5 * X["position_score"] + 1.0 * (X["device"] == "tv") + 0.5 * X["same_language"]
    y = rng.random(n) < 1 / (1 + np.exp(-(logit.to_numpy() - 0.5)))
    return X, y


def test_learns_the_planted_signal():
    X, y = synthetic(4000, seed=0)
    X_test, y_test = synthetic(2000, seed=1)
    model = PlayPredictor(n_estimators=100, random_state=0).fit(X, y)
    proba = model.predict_proba(X_test)
    assert proba.shape == (2000, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert roc_auc_score(y_test, proba[:, 1]) > 0.7
    importances = model.feature_importances_
    assert importances["feature"].iloc[0] == "position_score"
    assert set(importances.columns) == {"feature", "gain", "gain_share", "splits"}
    assert importances["gain"].is_monotonic_decreasing
    np.testing.assert_allclose(importances["gain_share"].sum(), 1)


def test_same_seed_same_predictions():
    X, y = synthetic(1500, seed=2)
    first = PlayPredictor(n_estimators=50, random_state=3).fit(X, y).predict_proba(X)
    second = PlayPredictor(n_estimators=50, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_sklearn_conventions_and_unseen_categories():
    model = PlayPredictor(num_leaves=7, random_state=5)
    assert model.num_leaves == 7 and model.random_state == 5 and not hasattr(model, "model_")
    X, y = synthetic(500, seed=4)
    assert model.fit(X, y) is model
    new = X.head(3).assign(device=pd.array(["car", "tv", "web"], dtype="str"))
    assert model.predict_proba(new).shape == (3, 2)
    with pytest.raises(ValueError, match="lacks the features seen in fit"):
        model.predict_proba(X.drop(columns="noise"))
    with pytest.raises(ValueError, match="y must be binary"):
        PlayPredictor().fit(X, np.full(len(X), 2))

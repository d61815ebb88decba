"""Will the member play this tile? A deterministic LightGBM classifier on impression features."""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.models.frames import align_features, learn_categories


class PlayPredictor:
    """Gradient-boosted play probability per impression, scikit-learn style.

    Wraps ``lightgbm.LGBMClassifier`` on CPU with one thread and ``deterministic=True``, so a
    fixed ``random_state`` gives identical predictions. String and object columns are cast to
    ``category`` (LightGBM rejects pandas 3 ``str`` columns) with the categories seen in
    ``fit``; unseen values at prediction become missing.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples : int or float
        LightGBM tree settings.
    random_state : int
        Seed for LightGBM's bagging and feature sampling.

    Attributes
    ----------
    model_ : lightgbm.LGBMClassifier
    feature_names_ : list of str
    categories_ : dict of str to Index
        Categories of each categorical feature, as seen in ``fit``.

    Examples
    --------
    >>> model = PlayPredictor(random_state=0).fit(X, y)  # doctest: +SKIP
    >>> model.predict_proba(X)[:, 1]  # doctest: +SKIP
    """

    def __init__(
        self,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        random_state: int = 0,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        return align_features(X, self.feature_names_, self.categories_)

    def fit(self, X: pd.DataFrame, y) -> PlayPredictor:
        """Fit on a feature frame ``X`` and binary labels ``y`` (0/1 or bool); return self."""
        from lightgbm import LGBMClassifier  # heavy backend, imported when used

        y = np.asarray(y).astype("int64")
        if not np.isin(y, (0, 1)).all():
            raise ValueError("y must be binary (0/1 or bool)")
        self.feature_names_ = list(X.columns)
        self.categories_ = learn_categories(X, dropna=False)
        self.model_ = LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            random_state=self.random_state,
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )
        self.model_.fit(self._prepare(X), y)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities, shape ``(n, 2)``; column 1 is the play probability."""
        return self.model_.predict_proba(self._prepare(X))

    @property
    def feature_importances_(self) -> pd.DataFrame:
        """Tidy importances: ``feature``, ``gain``, ``gain_share``, ``splits``, by gain."""
        booster = self.model_.booster_
        gain = booster.feature_importance(importance_type="gain")
        out = pd.DataFrame(
            {
                "feature": self.feature_names_,
                "gain": gain,
                "gain_share": gain / gain.sum() if gain.sum() > 0 else np.zeros(len(gain)),
                "splits": booster.feature_importance(importance_type="split"),
            }
        )
        return out.sort_values("gain", ascending=False, ignore_index=True)

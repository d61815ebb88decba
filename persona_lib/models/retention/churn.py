"""Calibrated churn classifier (logistic or LightGBM) with per-member explanations.

The base model is fit on one stratified part of the training rows and its scores are mapped to
probabilities on the held-out rest (Platt's sigmoid or isotonic regression, scikit-learn's
`CalibratedClassifierCV` around a `FrozenEstimator`, the replacement of ``cv="prefit"``).
Explanations are additive on the base model's raw margin (log-odds): LightGBM's TreeSHAP
(``pred_contrib=True``) or, for the logistic model, ``coef * standardized value`` summed over a
feature's one-hot and missing-indicator columns; either way they sum, with ``bias``, to the
margin. Calibration is monotone, so it changes probabilities, not the ranking.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from persona_lib.models.frames import align_features, learn_categories

MODELS = ("logistic", "lightgbm")
CALIBRATIONS = ("sigmoid", "isotonic", "none")
DRIVER_SAMPLE = 2000  # rows of the fit set that `global_drivers()` explains


@dataclass(frozen=True)
class ChurnConfig:
    """Settings of a `CalibratedClassifier`: model family, calibration and model knobs."""

    model: str = "lightgbm"
    calibration: str = "sigmoid"  # Platt scaling: steadier than isotonic with few positives
    calibration_fraction: float = 0.25  # share of training rows held out for calibration
    # small, shallow trees: churn has few positives (a few hundred a month per 20,000 members)
    n_estimators: int = 300
    learning_rate: float = 0.02
    num_leaves: int = 7
    min_child_samples: int = 100
    C: float = 1.0  # inverse L2 strength of the logistic model
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {list(MODELS)}, got {self.model!r}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(
                f"calibration must be one of {list(CALIBRATIONS)}, got {self.calibration!r}"
            )
        if not 0 < self.calibration_fraction < 1:
            raise ValueError("calibration_fraction must be in (0, 1)")

    def to_dict(self) -> dict:
        return asdict(self)


class CalibratedClassifier:
    """A binary classifier with a held-out calibration step and additive explanations.

    Parameters
    ----------
    config : ChurnConfig, optional
        Settings; keyword ``overrides`` replace its fields (``model="logistic"``).

    Attributes
    ----------
    config_ : ChurnConfig
    feature_names_ : list of str
    base_ : fitted LogisticRegression or LGBMClassifier (on the prepared design)
    calibrator_ : fitted CalibratedClassifierCV or None
    """

    default_config = ChurnConfig()

    def __init__(self, config: ChurnConfig | None = None, **overrides):
        self.config = config
        self.overrides = overrides

    # --- design -------------------------------------------------------------------------
    def _learn_design(self, X: pd.DataFrame) -> None:
        """Remember categories, medians, scales and the column-to-feature map."""
        self.categories_ = learn_categories(X)
        numeric = [c for c in X.columns if c not in self.categories_]
        values = X[numeric].astype("float64")
        self.medians_ = values.median().fillna(0.0)
        self.with_indicator_ = [c for c in numeric if values[c].isna().any()]
        filled = values.fillna(self.medians_)
        self.means_, self.scales_ = filled.mean(), filled.std(ddof=0).replace(0, 1.0)
        owners = list(numeric) + self.with_indicator_
        for c, cats in self.categories_.items():
            owners += [c] * len(cats)
        self.column_owner_ = np.array(owners)

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """X restricted to the fitted features, categoricals on the fitted categories."""
        return align_features(X, self.feature_names_, self.categories_)

    def _design(self, X: pd.DataFrame):
        """Model input: the categorical frame (LightGBM) or a standardized matrix (logistic)."""
        X = self._frame(X)
        if self.config_.model == "lightgbm":
            return X
        numeric = list(self.medians_.index)
        values = X[numeric].astype("float64")
        parts = [((values.fillna(self.medians_) - self.means_) / self.scales_).to_numpy()]
        parts.append(values[self.with_indicator_].isna().to_numpy("float64"))
        for name, cats in self.categories_.items():
            # code -1 (missing or unseen) -> row 0 of the identity -> all zeros
            parts.append(np.eye(len(cats) + 1)[X[name].cat.codes.to_numpy() + 1][:, 1:])
        return np.hstack(parts)

    # --- fitting ------------------------------------------------------------------------
    def _base_model(self):
        cfg = self.config_
        if cfg.model == "logistic":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(C=cfg.C, max_iter=2000)
        from lightgbm import LGBMClassifier  # heavy backend, imported when used

        return LGBMClassifier(
            n_estimators=cfg.n_estimators,
            learning_rate=cfg.learning_rate,
            num_leaves=cfg.num_leaves,
            min_child_samples=cfg.min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=cfg.random_state,
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def fit(self, X: pd.DataFrame, y) -> CalibratedClassifier:
        """Fit the base model on one part of ``(X, y)``, calibrate on the rest; return self."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator
        from sklearn.model_selection import train_test_split

        self.config_ = replace(self.config or self.default_config, **self.overrides)
        y = np.asarray(y).astype("int64")
        if not np.isin(y, (0, 1)).all():
            raise ValueError("y must be binary (0/1 or bool)")
        if len(np.unique(y)) < 2:
            raise ValueError("y must contain both classes")
        self.feature_names_ = list(X.columns)
        rows = np.arange(len(y))
        cal = np.zeros(0, dtype="int64")
        if self.config_.calibration != "none":
            rows, cal = train_test_split(
                rows,
                test_size=self.config_.calibration_fraction,
                stratify=y,
                random_state=self.config_.random_state,
            )
            rows, cal = np.sort(rows), np.sort(cal)
        X_fit = X.iloc[rows]
        self._learn_design(X_fit)
        self.base_ = self._base_model().fit(self._design(X_fit), y[rows])
        self.calibrator_ = None
        if len(cal):
            # a frozen model is not refit: one "fold" whose test part is every held-out row
            # gives one calibrator fit on all of them, as cv="prefit" did
            every = np.arange(len(cal))
            self.calibrator_ = CalibratedClassifierCV(
                FrozenEstimator(self.base_), method=self.config_.calibration, cv=[(every, every)]
            ).fit(self._design(X.iloc[cal]), y[cal])
        self.classes_ = np.array([0, 1])
        # TreeSHAP costs ~100 predictions a row: drivers are measured lazily on a sample
        rng = np.random.default_rng(self.config_.random_state)
        sample = np.sort(rng.permutation(len(rows))[:DRIVER_SAMPLE])
        self.driver_rows_ = X_fit.iloc[sample]
        self.drivers_ = None
        return self

    # --- prediction and explanation -------------------------------------------------------
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated class probabilities, shape ``(n, 2)``; column 1 is P(positive)."""
        design = self._design(X)
        model = self.calibrator_ if self.calibrator_ is not None else self.base_
        return model.predict_proba(design)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Raw margin (log-odds) of the uncalibrated base model, shape ``(n,)``."""
        design = self._design(X)
        if self.config_.model == "logistic":
            return self.base_.decision_function(design)
        return self.base_.booster_.predict(design, raw_score=True)

    def explain(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-row additive contributions to the raw margin, one column per feature + ``bias``.

        LightGBM: TreeSHAP values (``pred_contrib=True``); logistic: ``coef * x_std`` summed
        over the columns a feature expands to. Each row sums to `decision_function`.
        """
        design = self._design(X)
        if self.config_.model == "lightgbm":
            values = self.base_.booster_.predict(design, pred_contrib=True)
            out = pd.DataFrame(values[:, :-1], columns=self.feature_names_, index=X.index)
            out["bias"] = values[:, -1]
            return out
        parts = design * self.base_.coef_[0]
        owner = pd.Categorical(self.column_owner_, categories=self.feature_names_).codes
        summed = np.zeros((len(design), len(self.feature_names_)))
        for j in np.unique(owner):  # a handful of columns per feature, not per row
            summed[:, j] = parts[:, owner == j].sum(axis=1)
        out = pd.DataFrame(summed, columns=self.feature_names_, index=X.index)
        out["bias"] = self.base_.intercept_[0]
        return out

    def global_drivers(self, X: pd.DataFrame | None = None) -> pd.DataFrame:
        """Mean |contribution| per feature on ``X``, largest first.

        Without ``X``: on up to ``DRIVER_SAMPLE`` rows the base model was fit on.

        Returns ``feature``, ``mean_abs_contribution`` (log-odds) and ``share`` of the total.
        """
        if X is None:
            if self.drivers_ is None:
                self.drivers_ = self.global_drivers(self.driver_rows_)
            return self.drivers_
        contrib = self.explain(X).drop(columns="bias").abs().mean()
        total = contrib.sum()
        out = pd.DataFrame(
            {
                "feature": contrib.index,
                "mean_abs_contribution": contrib.to_numpy(),
                "share": contrib.to_numpy() / total if total > 0 else 0.0,
            }
        )
        return out.sort_values("mean_abs_contribution", ascending=False, ignore_index=True)


class ChurnModel(CalibratedClassifier):
    """P(churn at the next renewal) from `member_features` snapshots.

    Examples
    --------
    >>> model = ChurnModel(model="logistic").fit(X[FEATURES], labels["churn"])  # doctest: +SKIP
    >>> p = model.predict_proba(X_new[FEATURES])[:, 1]  # doctest: +SKIP
    >>> model.global_drivers().head()  # doctest: +SKIP
    """

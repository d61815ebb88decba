"""Calibrated churn classifier (logistic or LightGBM) with per-member explanations.

Two ways to fit, chosen by ``ChurnConfig.procedure``:

- ``"cross_fit"`` (`ChurnModel`'s default): capacity (LightGBM's leaves, leaf size and number
  of trees; the logistic model's C) is chosen by an inner stratified cross-validation of the
  training rows, the calibrator is fit on the chosen capacity's out-of-fold margins of every
  training row, and the final model is refit on all of them (`capacity`). No row is set aside.
- ``"holdout"`` (`CalibratedClassifier`'s and `CompletionModel`'s): fixed capacity, the base
  model fit on one stratified part of the training rows and its scores mapped to probabilities
  on the held-out rest (scikit-learn's `CalibratedClassifierCV` around a `FrozenEstimator`,
  the replacement of ``cv="prefit"``). Cheaper, but a quarter of the rows never reach the model.

Calibration is Platt's sigmoid by default (isotonic on request). Cross-fitted, it is fit on the
raw margin (log-odds), where the identity is a member of the family; churn has a few hundred
positives per fit, too few for isotonic regression's step function, whose ties also blur the
ranking. Explanations are additive on the base model's raw margin: LightGBM's TreeSHAP
(``pred_contrib=True``) or, for the logistic model, ``coef * standardized value`` summed over a
feature's one-hot and missing-indicator columns; either way they sum, with ``bias``, to the
margin. Calibration is monotone, so it changes probabilities, not the ranking.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from persona_lib.models.frames import align_features, learn_categories
from persona_lib.models.retention.capacity import (
    MarginCalibrator,
    inner_folds,
    search_lightgbm,
    search_logistic,
)

MODELS = ("logistic", "lightgbm")
CALIBRATIONS = ("sigmoid", "isotonic", "none")
PROCEDURES = ("auto", "cross_fit", "holdout")
DRIVER_SAMPLE = 2000  # rows of the fit set that `global_drivers()` explains


@dataclass(frozen=True)
class ChurnConfig:
    """Settings of a `CalibratedClassifier`: model family, fitting procedure, calibration, knobs.

    ``procedure="auto"`` is the estimator's own default: ``"cross_fit"`` for `ChurnModel`,
    ``"holdout"`` for `CalibratedClassifier` and `CompletionModel`. Fields marked *holdout* set
    the fixed capacity of that procedure; fields marked *cross_fit* set its search.
    """

    model: str = "lightgbm"
    calibration: str = "sigmoid"  # Platt scaling: steadier than isotonic with few positives
    procedure: str = "auto"
    inner_folds: int = 3  # cross_fit: stratified folds of the training rows (cost: `capacity`)
    calibration_fraction: float = 0.25  # holdout: share of training rows held out to calibrate
    # holdout: the number of trees; cross_fit: the most trees, early stopping picks how many
    n_estimators: int = 500
    learning_rate: float = 0.05
    # holdout: small, shallow trees (a few hundred churners a month per 20,000 members)
    num_leaves: int = 7
    min_child_samples: int = 100
    # cross_fit: (num_leaves, min_child_samples) candidates, from simple to flexible
    capacity_grid: tuple[tuple[int, int], ...] = ((3, 200), (7, 100), (15, 50), (31, 20))
    early_stopping_rounds: int = 25  # cross_fit: trees without a better held-out log loss
    C: float = 1.0  # holdout: inverse L2 strength of the logistic model
    C_grid: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0)  # cross_fit: candidates for C
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {list(MODELS)}, got {self.model!r}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(
                f"calibration must be one of {list(CALIBRATIONS)}, got {self.calibration!r}"
            )
        if self.procedure not in PROCEDURES:
            raise ValueError(f"procedure must be one of {list(PROCEDURES)}, got {self.procedure!r}")
        if not 0 < self.calibration_fraction < 1:
            raise ValueError("calibration_fraction must be in (0, 1)")
        if self.inner_folds < 2:
            raise ValueError(f"inner_folds must be at least 2, got {self.inner_folds}")
        if self.n_estimators < 1 or self.early_stopping_rounds < 1:
            raise ValueError("n_estimators and early_stopping_rounds must be at least 1")
        if not self.capacity_grid or any(len(pair) != 2 or min(pair) < 1
                                         for pair in self.capacity_grid):  # fmt: skip
            raise ValueError(
                "capacity_grid must hold (num_leaves, min_child_samples) pairs of positive ints"
            )
        if not self.C_grid or min(self.C_grid) <= 0:
            raise ValueError("C_grid must hold positive values")

    def to_dict(self) -> dict:
        return asdict(self)


class CalibratedClassifier:
    """A binary classifier with a calibration step and additive explanations.

    Parameters
    ----------
    config : ChurnConfig, optional
        Settings; keyword ``overrides`` replace its fields (``model="logistic"``).

    Attributes
    ----------
    config_ : ChurnConfig
    procedure_ : str
        ``"cross_fit"`` or ``"holdout"``, the resolved ``config.procedure``.
    feature_names_ : list of str
    base_ : fitted LogisticRegression or LGBMClassifier (on the prepared design)
    calibrator_ : MarginCalibrator (cross_fit), CalibratedClassifierCV (holdout) or None
    best_params_ : dict
        The capacity the final model was fit with (chosen by inner CV under cross_fit).
    inner_scores_ : DataFrame or None
        Cross_fit: held-out log loss of every candidate capacity (`CapacitySearch.scores`).
    n_train_rows_ : int
        Rows the final base model was fit on (all of them under cross_fit).
    n_calibration_rows_ : int
        Rows the calibrator was fit on (0 without calibration).
    """

    default_config = ChurnConfig()
    default_procedure = "holdout"

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
    def _lightgbm_params(self) -> dict:
        """LightGBM settings shared by every capacity: sklearn names, one thread, seeded."""
        cfg = self.config_
        return {
            "learning_rate": cfg.learning_rate,
            "subsample": 0.8,
            "subsample_freq": 1,
            "colsample_bytree": 0.8,
            "random_state": cfg.random_state,
            "n_jobs": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }

    def _base_model(self, capacity: dict):
        if self.config_.model == "logistic":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(C=capacity["C"], max_iter=2000)
        from lightgbm import LGBMClassifier  # heavy backend, imported when used

        return LGBMClassifier(**capacity, **self._lightgbm_params())

    def _fixed_capacity(self) -> dict:
        cfg = self.config_
        if cfg.model == "logistic":
            return {"C": cfg.C}
        return {"num_leaves": cfg.num_leaves, "min_child_samples": cfg.min_child_samples,
                "n_estimators": cfg.n_estimators}  # fmt: skip

    def _search(self, design, y: np.ndarray):
        """Inner CV over the capacity grid: a `CapacitySearch` with out-of-fold margins."""
        cfg = self.config_
        folds = inner_folds(y, cfg.inner_folds, cfg.random_state)
        if cfg.model == "logistic":
            return search_logistic(design, y, cfg.C_grid, folds)
        params = self._lightgbm_params()
        native = {
            "learning_rate": params["learning_rate"],
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "feature_fraction": 0.8,
            "seed": cfg.random_state,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }  # fmt: skip  (the native names of `_lightgbm_params`)
        return search_lightgbm(design, y, native, cfg.capacity_grid, folds,
                               cfg.n_estimators, cfg.early_stopping_rounds)  # fmt: skip

    def _fit_cross(self, X: pd.DataFrame, y: np.ndarray) -> None:
        """Capacity by inner CV, calibrator on out-of-fold margins, base refit on all rows."""
        self._learn_design(X)
        design = self._design(X)
        with threadpool_limits(limits=1, user_api="blas"):  # many small fits: threads only wait
            search = self._search(design, y)
            self.best_params_ = search.best_params
            self.inner_scores_ = search.scores
            self.base_ = self._base_model(self.best_params_).fit(design, y)
        self.calibrator_ = None
        if self.config_.calibration != "none":
            method = self.config_.calibration
            self.calibrator_ = MarginCalibrator(method).fit(search.oof_margin, y)
        self.n_train_rows_ = self.n_calibration_rows_ = len(y)
        if self.calibrator_ is None:
            self.n_calibration_rows_ = 0

    def _fit_holdout(self, X: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        """Fixed capacity on one part of the rows, calibrated on the rest; the fit rows."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator
        from sklearn.model_selection import train_test_split

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
        self.best_params_, self.inner_scores_ = self._fixed_capacity(), None
        self.base_ = self._base_model(self.best_params_).fit(self._design(X_fit), y[rows])
        self.calibrator_ = None
        if len(cal):
            # a frozen model is not refit: one "fold" whose test part is every held-out row
            # gives one calibrator fit on all of them, as cv="prefit" did
            every = np.arange(len(cal))
            self.calibrator_ = CalibratedClassifierCV(
                FrozenEstimator(self.base_), method=self.config_.calibration, cv=[(every, every)]
            ).fit(self._design(X.iloc[cal]), y[cal])
        self.n_train_rows_, self.n_calibration_rows_ = len(rows), len(cal)
        return rows

    def fit(self, X: pd.DataFrame, y) -> CalibratedClassifier:
        """Fit on ``(X, y)`` by the configured procedure (module docstring); return self."""
        self.config_ = replace(self.config or self.default_config, **self.overrides)
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if pd.isna(y).any() or not np.isin(y, (0, 1)).all():
            raise ValueError("y must be binary (0/1 or bool)")
        y = y.astype("int64")
        if len(np.unique(y)) < 2:
            raise ValueError("y must contain both classes")
        self.feature_names_ = list(X.columns)
        procedure = self.config_.procedure
        self.procedure_ = self.default_procedure if procedure == "auto" else procedure
        if self.procedure_ == "cross_fit":
            rows = np.arange(len(y))
            self._fit_cross(X, y)
        else:
            rows = self._fit_holdout(X, y)
        self.classes_ = np.array([0, 1])
        # TreeSHAP costs ~100 predictions a row: drivers are measured lazily on a sample
        rng = np.random.default_rng(self.config_.random_state)
        sample = np.sort(rng.permutation(len(rows))[:DRIVER_SAMPLE])
        self.driver_rows_ = X.iloc[rows[sample]]
        self.drivers_ = None
        return self

    # --- prediction and explanation -------------------------------------------------------
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated class probabilities, shape ``(n, 2)``; column 1 is P(positive)."""
        if isinstance(self.calibrator_, MarginCalibrator):
            p = self.calibrator_.predict(self.decision_function(X))
            return np.column_stack([1.0 - p, p])
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

    Fit by cross-fitting (``procedure="auto"`` means ``"cross_fit"``): capacity by inner CV,
    Platt calibration on out-of-fold margins, the final model refit on every training row;
    ``best_params_`` and ``inner_scores_`` record the choice. Any frame of numeric, boolean,
    string or categorical columns works (see `cross_validate_churn` to evaluate one).

    Examples
    --------
    >>> model = ChurnModel(model="logistic").fit(X[FEATURES], labels["churn"])  # doctest: +SKIP
    >>> p = model.predict_proba(X_new[FEATURES])[:, 1]  # doctest: +SKIP
    >>> model.global_drivers().head()  # doctest: +SKIP
    >>> model.best_params_  # doctest: +SKIP
    {'num_leaves': 3, 'min_child_samples': 200, 'n_estimators': 78}
    """

    default_procedure = "cross_fit"

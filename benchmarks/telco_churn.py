"""IBM Telco churn: calibrated churn classifiers and 12-month survival; prints one JSON document.

Protocol: stratified 5-fold cross-validation (shuffled, ``SEED``) on the 7,043 customers of
``load_telco``; every number below is computed on the held-out fold only, and nothing is tuned
on it. Features: the 16 categorical columns, SeniorCitizen, tenure, MonthlyCharges,
TotalCharges and TotalChargesBlank (customerID dropped).

- Logistic regression: one-hot categoricals, standardized numerics, L2; C picked from
  ``C_GRID`` by an inner stratified 5-fold CV (log loss) on the training folds only. The
  one-hot columns come from the loader's fixed category levels, so they learn nothing from the
  data and are built once up front; the scaler is fitted inside every training fit.
- LightGBM: ``LGBM_PARAMS``, fixed before any run (no early stopping), native categoricals.
- Calibration, both models: Platt scaling (sigmoid) on the model's log-odds, fitted on
  out-of-fold predictions of an inner stratified 5-fold split of the training folds
  (``CalibratedClassifierCV(cv=..., ensemble=False)``; the model is then refitted on the whole
  training folds, C re-chosen inside every inner fit). The map is strictly increasing, so the
  calibrated ROC AUC / PR AUC equal the uncalibrated model's; Brier, log loss and ECE change.
- Metrics per fold: ROC AUC, PR AUC (average precision), Brier score, log loss, mean predicted
  vs observed churn rate, ECE over 10 equal-count (quantile) bins of the prediction.
- ROC AUC spread (``roc_auc_spread``): the split into folds is itself a draw, so the ROC AUC
  of both models is also computed on ``FOLD_SEEDS`` (5 shuffles x 5 folds, seed 0 being the
  folds above): mean and standard deviation over the 25 folds, each seed's mean, and the
  smallest and largest of those means. Since Platt scaling does not reorder predictions, these
  are the ROC AUC of the model the calibrated one wraps (fitted on the whole training folds),
  without the calibration fits; on seed 0 they equal the calibrated rows' (the JSON gives the
  largest difference).
- `ChurnModel` (``churn_model_lightgbm``, ``churn_model_logistic``): the library's default model
  through `persona_lib.evaluation.cross_validate_churn` on the same outer folds (asserted):
  capacity by inner stratified CV and Platt calibration on cross-fitted out-of-fold margins of
  the training folds, refit on all of them (no row set aside). Its ECE uses `calibration_table`'s
  10 quantile bins (fewer when predictions tie); the rows above split the sorted predictions
  into 10 equal parts, so the two ECE columns can differ in the third decimal.
- No pass/fail target: the published ROC AUC is a range ("about 0.84-0.85"), and a mean
  0.0003 above a threshold inside it says nothing when folds alone move the figure by about
  0.015. The JSON gives each model's mean with its spread beside that range instead.

Everything is deterministic (fixed seeds, single-threaded LightGBM with ``deterministic``).

Survival: Kaplan-Meier by Contract (`persona_lib.models.retention.survival.kaplan_meier`, log-log
95 % band) with tenure (months) as the duration and Churn as the event, read off at 12 months.
Caveat: the file is a snapshot in which Churn means "left within the last month", so
customers who left earlier are absent and the curves overstate survival.

Usage: ``python benchmarks/telco_churn.py [--data CSV]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from persona_lib.datasets import (
    BLANK_FLAG,
    CATEGORICAL_COLUMNS,
    NUMERIC_COLUMNS,
    TARGET,
    TELCO_FILE,
    load_telco,
)
from persona_lib.evaluation import cross_validate_churn
from persona_lib.models.retention import kaplan_meier

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from shared_inputs import require_dataset  # noqa: E402  (benchmarks/ is not a package)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/telco" / TELCO_FILE
SEED = 0
N_FOLDS = 5
INNER_FOLDS = 5
N_BINS = 10
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
LGBM_PARAMS = {"n_estimators": 300, "learning_rate": 0.03, "num_leaves": 15,
               "min_child_samples": 50, "subsample": 0.8, "subsample_freq": 1,
               "colsample_bytree": 0.8, "reg_lambda": 1.0, "random_state": SEED,
               "n_jobs": 1, "deterministic": True, "force_row_wise": True,
               "verbose": -1}  # fmt: skip
FOLD_SEEDS = (0, 1, 2, 3, 4)  # outer shuffles of the ROC AUC spread; SEED's folds first
PUBLISHED_ROC_AUC = (0.84, 0.85)  # "about 0.84-0.85", ../shared/data/README.md
KM_MONTHS = 12
NUMERIC = (*NUMERIC_COLUMNS, BLANK_FLAG)
FEATURES = (*CATEGORICAL_COLUMNS, *NUMERIC)


class MarginLGBMClassifier(lightgbm.LGBMClassifier):
    """LGBMClassifier whose ``decision_function`` is the raw log-odds, so Platt scaling sees it."""

    def decision_function(self, X) -> np.ndarray:
        return self.predict(X, raw_score=True)


def inner_cv(offset: int) -> StratifiedKFold:
    """An inner split of the training folds; its seed differs from the outer split's."""
    return StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=SEED + offset)


def one_hot(X: pd.DataFrame) -> np.ndarray:
    """Numerics (first ``len(NUMERIC)`` columns) then one 0/1 column per category level."""
    parts = [X[list(NUMERIC)].to_numpy(float)]
    categorical = [c for c in CATEGORICAL_COLUMNS if c in X.columns]
    if categorical:  # get_dummies of no column raises; a table without categoricals has none
        parts.append(pd.get_dummies(X[categorical], dtype=float).to_numpy(float))  # fixed levels
    return np.hstack(parts)


def make_logistic() -> GridSearchCV:
    """Standardize numerics + L2 logistic regression on `one_hot` columns, C by inner CV."""
    scale = ColumnTransformer([("scale", StandardScaler(), list(range(len(NUMERIC))))],
                              remainder="passthrough")  # fmt: skip
    pipe = Pipeline([("features", scale), ("model", LogisticRegression(max_iter=5000))])
    return GridSearchCV(pipe, {"model__C": list(C_GRID)}, scoring="neg_log_loss", cv=inner_cv(1))


def make_lightgbm() -> MarginLGBMClassifier:
    return MarginLGBMClassifier(**LGBM_PARAMS)


# name -> (model factory, design matrix from the loaded features)
MODELS = {"logistic_regression": (make_logistic, one_hot), "lightgbm": (make_lightgbm, None)}
HOW_CHOSEN = {
    "logistic_regression": f"C from {list(C_GRID)} by inner stratified {INNER_FOLDS}-fold CV "
    "(log loss) on the training folds only, re-chosen in every fit",
    "lightgbm": "fixed in advance (no tuning, no early stopping)",
}


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = N_BINS) -> float:
    """ECE = sum_b (n_b / n) |mean(p_b) - mean(y_b)| over equal-count bins of sorted ``p``."""
    bins = np.array_split(np.argsort(p, kind="stable"), n_bins)
    return float(sum(len(b) / len(p) * abs(p[b].mean() - y[b].mean()) for b in bins))


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Discrimination and calibration of churn probabilities ``p`` for outcomes ``y``."""
    return {
        "roc_auc": roc_auc_score(y, p),
        "pr_auc": average_precision_score(y, p),
        "brier": brier_score_loss(y, p),
        "log_loss": log_loss(y, p),
        "mean_predicted": float(p.mean()),
        "observed_rate": float(y.mean()),
        "ece_10_quantile_bins": expected_calibration_error(y, p),
    }


def fit_fold(name: str, X, y: np.ndarray, train, test) -> dict:
    """Fit one model calibrated on the training folds; score raw and calibrated on the test fold."""
    start = time.perf_counter()
    rows = X.iloc if isinstance(X, pd.DataFrame) else X
    model = CalibratedClassifierCV(MODELS[name][0](), method="sigmoid", cv=inner_cv(2),
                                   ensemble=False).fit(rows[train], y[train])  # fmt: skip
    seconds = time.perf_counter() - start
    base = model.calibrated_classifiers_[0].estimator  # refitted on all training folds
    X_test = rows[test]
    fold = {
        "calibrated": scores(y[test], model.predict_proba(X_test)[:, 1]),
        "uncalibrated": scores(y[test], base.predict_proba(X_test)[:, 1]),
        "fit_seconds": seconds,
        "p_calibrated": model.predict_proba(X_test)[:, 1],
    }
    if name == "logistic_regression":
        fold["chosen_C"] = base.best_params_["model__C"]
    return fold


def summarize_folds(folds: list[dict], kind: str) -> dict:
    """Mean, standard deviation and per-fold values of every metric."""
    out = {}
    for metric in folds[0][kind]:
        values = np.array([f[kind][metric] for f in folds])
        out[metric] = {"mean": round(float(values.mean()), 5),
                       "std": round(float(values.std(ddof=1)), 5),
                       "per_fold": [round(float(v), 5) for v in values]}  # fmt: skip
    return out


def reliability(y: np.ndarray, p: np.ndarray) -> list[dict]:
    """Pooled out-of-fold reliability table: mean predicted vs observed per decile of ``p``."""
    bins = np.array_split(np.argsort(p, kind="stable"), N_BINS)
    return [{"n": len(b), "mean_predicted": round(float(p[b].mean()), 4),
             "observed": round(float(y[b].mean()), 4)} for b in bins]  # fmt: skip


def outer_folds(y: np.ndarray, seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train, test)`` row positions of the stratified outer folds shuffled by ``seed``."""
    outer = StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed)
    return list(outer.split(np.zeros((len(y), 1)), y))


def design_matrix(name: str, X: pd.DataFrame):
    """What model ``name`` is fitted on: `one_hot` columns, or the loaded features as they are."""
    design = MODELS[name][1]
    return X if design is None else design(X)


def seed_roc_aucs(name: str, X, y: np.ndarray, seed: int = SEED) -> list[float]:
    """ROC AUC on each outer fold (shuffled by ``seed``) of model ``name`` fitted on the other
    folds; ``X`` is its `design_matrix`. No calibration fit: Platt scaling is strictly
    increasing, so the calibrated model's ROC AUC is the one of the model it wraps, which is
    this one (fitted on the whole training folds)."""
    rows = X.iloc if isinstance(X, pd.DataFrame) else X
    out = []
    for train, test in outer_folds(y, seed):
        model = MODELS[name][0]().fit(rows[train], y[train])
        out.append(float(roc_auc_score(y[test], model.predict_proba(rows[test])[:, 1])))
    return out


def roc_auc_spread(values: np.ndarray, seeds=FOLD_SEEDS) -> dict:
    """Summary of ROC AUC ``values`` (one row per fold seed, one column per fold): mean and
    standard deviation over all folds (ddof 1), each seed's mean and the range of those means."""
    means = values.mean(axis=1)
    return {"fold_seeds": list(seeds), "n_folds": values.shape[1],
            "mean": round(float(values.mean()), 5),
            "sd_over_folds": round(float(values.std(ddof=1)), 5),
            "seed_means": [round(float(m), 5) for m in means],
            "seed_means_min": round(float(means.min()), 5),
            "seed_means_max": round(float(means.max()), 5),
            "per_seed_per_fold": [[round(float(v), 5) for v in row] for row in values]}  # fmt: skip


def cross_validate(name: str, X: pd.DataFrame, y: np.ndarray) -> dict:
    X = design_matrix(name, X)
    folds, oof = [], np.zeros(len(y))
    for train, test in outer_folds(y):
        fold = fit_fold(name, X, y, train, test)
        oof[test] = fold.pop("p_calibrated")
        folds.append(fold)
    result = {"how_chosen": HOW_CHOSEN[name],
              "calibrated": summarize_folds(folds, "calibrated"),
              "uncalibrated": summarize_folds(folds, "uncalibrated"),
              "reliability_out_of_fold": reliability(y, oof),
              "fit_seconds_per_fold": [round(f["fit_seconds"], 2) for f in folds]}  # fmt: skip
    result["calibrated_roc_auc_per_fold"] = np.array([f["calibrated"]["roc_auc"] for f in folds])
    if name == "logistic_regression":
        result["chosen_C_per_fold"] = [f["chosen_C"] for f in folds]
    else:
        result["params"] = LGBM_PARAMS
    return result


def model_row(name: str, X: pd.DataFrame, y: np.ndarray) -> dict:
    """`cross_validate` on the benchmark's folds, with the ROC AUC spread over `FOLD_SEEDS`."""
    row = cross_validate(name, X, y)
    values = np.array([seed_roc_aucs(name, design_matrix(name, X), y, seed)
                       for seed in FOLD_SEEDS])  # fmt: skip
    calibrated = row.pop("calibrated_roc_auc_per_fold")
    row["roc_auc_spread"] = {
        **roc_auc_spread(values),
        "seed_0_max_abs_diff_from_calibrated": float(np.abs(values[0] - calibrated).max()),
    }
    return row


def roc_auc_headline(row: dict) -> dict:
    """A `model_row`'s ROC AUC: over every fold seed, and on the benchmark's folds."""
    spread = row["roc_auc_spread"]
    return {**{key: spread[key] for key in ("mean", "sd_over_folds", "seed_means_min",
                                            "seed_means_max")},
            "benchmark_folds_mean": row["calibrated"]["roc_auc"]["mean"],
            "benchmark_folds_sd": row["calibrated"]["roc_auc"]["std"]}  # fmt: skip


def churn_model_rows(telco: pd.DataFrame, y: np.ndarray) -> dict:
    """`ChurnModel` (lightgbm and logistic) through `cross_validate_churn` on the outer folds."""
    frame = telco[list(FEATURES)].assign(**{TARGET: y})
    expected = np.empty(len(y), dtype="int64")
    for k, (_, test) in enumerate(outer_folds(y)):
        expected[test] = k
    out = {}
    for model in ("lightgbm", "logistic"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cv = cross_validate_churn(frame, TARGET, model=model, n_splits=N_FOLDS,
                                      random_state=SEED)  # fmt: skip
        if not np.array_equal(cv.predictions["fold"].to_numpy(), expected):
            raise AssertionError("cross_validate_churn's folds differ from the benchmark's")
        p = cv.predictions["p"].to_numpy()
        result = cv.to_dict()
        out[f"churn_model_{model}"] = {
            "how_chosen": "ChurnModel defaults: capacity by inner stratified CV of the training "
            "folds, Platt calibration on cross-fitted margins, refit on all training rows",
            "summary": {m: {k: round(v, 5) for k, v in s.items()}
                        for m, s in result["summary"].items()},
            "per_fold": {m: [round(v, 5) for v in vs] for m, vs in result["per_fold"].items()},
            "best_params_per_fold": result["best_params_per_fold"],
            "log_loss_out_of_fold": round(float(log_loss(y, p)), 5),
            "reliability_out_of_fold": reliability(y, p),
            "warnings": [str(w.message) for w in caught],
        }  # fmt: skip
    return out


def survival_at(curve, t: float) -> dict:
    """S(t) and its band, read off the step that holds at ``t``, with the events up to ``t``."""
    i = int(np.searchsorted(curve.time, t, side="right")) - 1
    return {f"events_by_{t:g}_months": int(curve.events[: i + 1].sum()),
            "survival": round(float(curve.survival[i]), 4),
            "ci95_low": round(float(curve.ci_low[i]), 4),
            "ci95_high": round(float(curve.ci_high[i]), 4)}  # fmt: skip


def survival_by_contract(telco: pd.DataFrame) -> dict:
    """Kaplan-Meier S(12 months) with its log-log 95 % band, overall and per Contract."""
    groups = {"all": np.ones(len(telco), bool)}
    for contract in telco["Contract"].cat.categories:
        groups[contract] = (telco["Contract"] == contract).to_numpy()
    out = {}
    for label, mask in groups.items():
        rows = telco[mask]
        curve = kaplan_meier(rows["tenure"].to_numpy(float), rows[TARGET].to_numpy(int),
                             alpha=0.05, ci="log-log")  # fmt: skip
        out[label] = {"n": int(mask.sum()), "churned": int(rows[TARGET].sum()),
                      **survival_at(curve, KM_MONTHS)}  # fmt: skip
    return out


def load(path: Path) -> pd.DataFrame:
    return load_telco(require_dataset(path, "Telco churn CSV", TELCO_FILE))


def run(path: Path) -> dict:
    start = time.perf_counter()
    telco = load(path)
    X, y = telco[list(FEATURES)], telco[TARGET].to_numpy(int)
    models = {name: model_row(name, X, y) for name in MODELS}
    headline = {name: roc_auc_headline(models[name]) for name in MODELS}
    models |= churn_model_rows(telco, y)
    identical = telco[list(FEATURES)].duplicated(keep=False)
    return {
        "dataset": "IBM Telco Customer Churn",
        "n_customers": len(telco),
        "churn_rate": round(float(y.mean()), 5),
        "blank_total_charges_set_to_0": int(telco[BLANK_FLAG].sum()),
        "rows_with_an_identical_feature_twin": int(identical.sum()),
        "identical_twins_note": "distinct customerIDs (one row each), so they are coincidental "
        "profiles, not repeats: no groups are needed and the warning is recorded, not acted on",
        "protocol": {"outer_cv": f"StratifiedKFold({N_FOLDS}, shuffle=True, random_state={SEED})",
                     "inner_cv": f"StratifiedKFold({INNER_FOLDS}, shuffle=True) on training "
                                 "folds only (seed 1: C search; seed 2: calibration)",
                     "calibration": "sigmoid (Platt) on log-odds, CalibratedClassifierCV("
                                    "ensemble=False) over the inner split",
                     "features": list(FEATURES),
                     "ece": f"{N_BINS} equal-count bins of the predicted probability"},
        "roc_auc": headline,
        "roc_auc_note": f"over {len(FOLD_SEEDS)} fold seeds x {N_FOLDS} folds: mean, sd over "
        "the folds, smallest and largest seed mean; benchmark_folds_*: seed 0's folds, the "
        "folds of every other figure here",
        "published_roc_auc": list(PUBLISHED_ROC_AUC),
        "published_roc_auc_note": "a range reported for 5-fold ROC AUC of logistic regression "
        "and gradient boosting, read against the spread above, not a target",
        "models": models,
        "kaplan_meier_12_months_by_contract": survival_by_contract(telco),
        "kaplan_meier_note": "duration = tenure (months), event = Churn; log-log 95 % band "
        "read off the step at 12 months; a group with no event by then has S = 1 and a "
        "degenerate [1, 1] band; churners before the snapshot's last month are absent, so "
        "survival is overstated",
        "versions": {"python": platform.python_version(), "sklearn": sklearn.__version__,
                     "lightgbm": lightgbm.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__},
        "total_seconds": round(time.perf_counter() - start, 2),
    }  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the Telco churn CSV")
    args = parser.parse_args()
    print(json.dumps(run(args.data), indent=2))

"""Cross-validation of `ChurnModel` on any table with a binary target column.

The frame's other columns are the features (numeric, boolean, string or categorical, in any
mix): drop identifiers first, or pass the identifier as ``groups``. Folds are stratified on the
target (`StratifiedKFold`, shuffled); with ``groups`` they are also grouped
(`StratifiedGroupKFold`), so every row of a group is held out together. Each fold's model is fit
on the other folds only (its own inner cross-validation and calibration included) and scored on
the held-out fold.

Rows whose features are identical (the target aside) are usually one entity seen twice; when
copies land on both sides of a split the held-out score measures memory, not prediction.
Without ``groups`` such rows raise a warning naming how many rows are involved and one example.

Per fold: ROC AUC, PR AUC (average precision), Brier score (`classification_report`) and the
expected calibration error over 10 equal-count bins of the prediction,

    ECE = sum_b (n_b / n) |mean(p in b) - mean(y in b)|

(from `calibration_table`; Naeini, Cooper and Hauskrecht 2015). Over the K folds: the mean, the
standard deviation s and a t-interval of the mean, mean +/- t_{K-1, 0.975} s / sqrt(K). Folds
share training rows, so this interval is somewhat too narrow (Bengio and Grandvalet 2004): read
it as the spread of the folds, not as a guarantee.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from persona_lib.evaluation.classification import calibration_table, classification_report
from persona_lib.models.retention import ChurnModel

__all__ = ["ChurnCV", "cross_validate_churn", "expected_calibration_error"]

METRICS = ("roc_auc", "pr_auc", "brier", "ece")
ECE_BINS = 10
LEVEL = 0.95


def expected_calibration_error(y, p, n_bins: int = ECE_BINS) -> float:
    """ECE = sum_b (n_b / n) |mean predicted - observed rate| over equal-count bins of ``p``.

    Bins are `calibration_table`'s quantile bins (fewer when predictions tie).

    Examples
    --------
    >>> round(expected_calibration_error([0, 1, 0, 1], [0.2, 0.2, 0.6, 0.6], n_bins=2), 6)
    0.2
    """
    table = calibration_table(y, p, n_bins=n_bins, strategy="quantile")
    gaps = (table["mean_predicted"] - table["observed_rate"]).abs()
    return float((table["n"] * gaps).sum() / table["n"].sum())


@dataclass(frozen=True)
class ChurnCV:
    """Cross-validated scores of a churn model on one table.

    Attributes
    ----------
    model : str
        ``"lightgbm"`` or ``"logistic"``.
    target : str
        The target column.
    grouped : bool
        Whether folds were grouped (``groups`` given).
    folds : DataFrame
        One row per fold: ``fold``, ``n_train``, ``n_test``, ``positives_test``, the `METRICS`,
        ``fit_seconds`` and ``best_params`` (the capacity the fold's model chose).
    summary : DataFrame
        One row per metric: ``metric``, ``mean``, ``sd`` (over folds, ddof 1), ``ci_low`` and
        ``ci_high`` (95 % t-interval of the mean over folds).
    predictions : DataFrame
        Indexed like the frame: ``fold`` (the fold that held the row out), ``target`` (0/1) and
        ``p`` (the out-of-fold predicted probability).
    """

    model: str
    target: str
    grouped: bool
    folds: pd.DataFrame
    summary: pd.DataFrame
    predictions: pd.DataFrame

    def __post_init__(self) -> None:
        if len(self.folds) < 2:
            raise ValueError("ChurnCV needs at least 2 folds")

    def mean(self, metric: str) -> float:
        """The mean of ``metric`` over folds."""
        return float(self.summary.set_index("metric").loc[metric, "mean"])

    def to_dict(self) -> dict:
        """JSON-safe summary and per-fold values (predictions left out)."""
        summary = {r["metric"]: {k: float(r[k]) for k in ("mean", "sd", "ci_low", "ci_high")}
                   for r in self.summary.to_dict("records")}  # fmt: skip
        per_fold = {m: [float(v) for v in self.folds[m]] for m in (*METRICS, "fit_seconds")}
        return {
            "model": self.model,
            "target": self.target,
            "grouped": self.grouped,
            "n_folds": len(self.folds),
            "summary": summary,
            "per_fold": per_fold,
            "best_params_per_fold": [dict(p) for p in self.folds["best_params"]],
        }


def _target(frame: pd.DataFrame, target: str) -> np.ndarray:
    if target not in frame.columns:
        raise ValueError(f"target column {target!r} is not in the frame")
    values = frame[target]
    if values.isna().any():
        raise ValueError(f"target column {target!r} has {int(values.isna().sum())} missing values")
    found = pd.unique(values)
    if not np.isin(found, (0, 1)).all() or len(found) != 2:
        shown = sorted(map(str, found))[:5]
        raise ValueError(f"target column {target!r} must hold both 0 and 1 (or False and True), "
                         f"found {shown}")  # fmt: skip
    return values.to_numpy().astype("int64")


def _groups(frame: pd.DataFrame, groups) -> tuple[np.ndarray | None, str | None]:
    """The group of every row, and the column it came from (dropped from the features)."""
    if groups is None:
        return None, None
    if isinstance(groups, str):
        if groups not in frame.columns:
            raise ValueError(f"groups column {groups!r} is not in the frame")
        return frame[groups].to_numpy(), groups
    values = np.asarray(groups)
    if len(values) != len(frame):
        raise ValueError(f"groups has {len(values)} values but the frame has {len(frame)} rows")
    return values, None


def _splits(X, y, groups, n_splits: int, random_state: int) -> list[tuple]:
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    rarer = int(np.bincount(y, minlength=2).min())
    if rarer < n_splits:
        raise ValueError(f"{n_splits} folds need at least {n_splits} rows of each class, "
                         f"the rarer class has {rarer}")  # fmt: skip
    if groups is None:
        split = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
        return list(split.split(np.zeros(len(y)), y))
    n_groups = len(pd.unique(groups))
    if n_groups < n_splits:
        raise ValueError(f"{n_groups} groups cannot fill {n_splits} folds")
    split = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
    return list(split.split(np.zeros(len(y)), y, groups))


def _warn_on_straddling_duplicates(X: pd.DataFrame, fold: np.ndarray) -> None:
    """Warn when identical feature rows are held out by different folds."""
    key = pd.util.hash_pandas_object(X, index=False).to_numpy()
    repeated = pd.Series(key).duplicated(keep=False).to_numpy()
    if not repeated.any():
        return
    spread = pd.DataFrame({"key": key[repeated], "fold": fold[repeated]})
    n_folds = spread.groupby("key")["fold"].nunique()
    straddling = np.isin(key, n_folds.index[n_folds > 1]) & repeated
    if not straddling.any():
        return
    first = np.flatnonzero(straddling)[0]
    twin = np.flatnonzero((key == key[first]) & (fold != fold[first]))[0]
    warnings.warn(
        f"{int(straddling.sum())} rows have an identical copy (same features, target aside) "
        f"held out by another fold, e.g. rows with index {X.index[first]!r} and "
        f"{X.index[twin]!r}: the model is scored on rows it was trained on. If these are "
        "repeats of one entity, pass groups= (its id) to keep them on one side.",
        UserWarning,
        stacklevel=3,
    )


def _summary(folds: pd.DataFrame) -> pd.DataFrame:
    from scipy import stats

    rows = []
    k = len(folds)
    for metric in METRICS:
        values = folds[metric].to_numpy(dtype="float64")
        mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
        half = float(stats.t.ppf(0.5 + LEVEL / 2, k - 1)) * sd / np.sqrt(k)
        rows.append({"metric": metric, "mean": mean, "sd": sd, "ci_low": mean - half,
                     "ci_high": mean + half})  # fmt: skip
    return pd.DataFrame(rows)


def cross_validate_churn(
    frame: pd.DataFrame, target: str, *, model: str = "lightgbm", n_splits: int = 5,
    groups=None, random_state: int = 0, **model_kwargs,
) -> ChurnCV:  # fmt: skip
    """Stratified (or stratified-grouped) K-fold cross-validation of `ChurnModel`.

    Parameters
    ----------
    frame : DataFrame
        The target column and the features (every other column, except a ``groups`` column).
    target : str
        Column of 0/1 or booleans; both classes, no missing values.
    model : {"lightgbm", "logistic"}
        `ChurnModel`'s family.
    n_splits : int
        Number of folds K (at least 2).
    groups : str or array-like, optional
        A column name or one label per row (customer id, member id): rows of a group are held
        out together (`StratifiedGroupKFold`). Without it, identical feature rows held out by
        different folds raise a warning.
    random_state : int
        Seed of the fold assignment and of every fold's model.
    **model_kwargs
        Further `ChurnConfig` fields for the model (``inner_folds=5``, ``calibration=...``).

    Returns
    -------
    ChurnCV
        Per-fold scores, their mean, sd and t-interval, and the out-of-fold predictions.

    Raises
    ------
    ValueError
        Missing or non-binary target (the message names the column), a class or a set of
        groups too small for ``n_splits`` folds, a frame without features.

    Examples
    --------
    >>> cv = cross_validate_churn(telco.drop(columns="customerID"), "Churn")  # doctest: +SKIP
    >>> cv.summary  # doctest: +SKIP
    """
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    y = _target(frame, target)
    group_values, group_column = _groups(frame, groups)
    X = frame.drop(columns=[c for c in (target, group_column) if c is not None])
    if X.shape[1] == 0:
        raise ValueError("the frame has no feature column besides the target")
    splits = _splits(X, y, group_values, n_splits, random_state)
    fold = np.empty(len(y), dtype="int64")
    for k, (_, test) in enumerate(splits):
        fold[test] = k
    if group_values is None:
        _warn_on_straddling_duplicates(X, fold)
    p = np.empty(len(y), dtype="float64")
    rows = []
    for k, (train, test) in enumerate(splits):
        start = time.perf_counter()
        fitted = ChurnModel(model=model, random_state=random_state, **model_kwargs)
        fitted.fit(X.iloc[train], y[train])
        seconds = time.perf_counter() - start
        p[test] = fitted.predict_proba(X.iloc[test])[:, 1]
        report = classification_report(y[test], p[test])
        rows.append({"fold": k, "n_train": len(train), "n_test": len(test),
                     "positives_test": int(y[test].sum()), "roc_auc": report["roc_auc"],
                     "pr_auc": report["pr_auc"], "brier": report["brier"],
                     "ece": expected_calibration_error(y[test], p[test]),
                     "fit_seconds": seconds, "best_params": dict(fitted.best_params_)})  # fmt: skip
    folds = pd.DataFrame(rows)
    predictions = pd.DataFrame({"fold": fold, "target": y, "p": p}, index=frame.index)
    return ChurnCV(model, target, group_values is not None, folds, _summary(folds), predictions)

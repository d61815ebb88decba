"""Feature frames for the tabular models: remember the columns and categories seen in ``fit``.

The churn, completion, uplift and play models all train LightGBM (or a logistic regression) on
a pandas frame; at prediction time the same columns must come back in the same order, with each
categorical column on the categories seen in ``fit`` (an unseen value becomes missing) and
booleans as 0/1 integers.
"""

from __future__ import annotations

import pandas as pd


def is_categorical(column: pd.Series) -> bool:
    """A string or categorical column (pandas 3 strings are the ``str`` dtype, not object)."""
    return pd.api.types.is_string_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype)


def learn_categories(X: pd.DataFrame, dropna: bool = True) -> dict[str, pd.Index]:
    """Sorted categories (as strings) of every categorical column of ``X``.

    ``dropna=False`` keeps a missing value as the category ``"nan"``.
    """
    return {
        c: pd.Index(sorted((X[c].dropna() if dropna else X[c]).astype("str").unique()))
        for c in X.columns
        if is_categorical(X[c])
    }


def align_features(X: pd.DataFrame, names: list[str], categories: dict[str, pd.Index]):
    """``X[names]`` with categoricals on the fitted ``categories`` and booleans as int8."""
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise ValueError(f"X lacks the features seen in fit: {missing}")
    out = X[names].copy()
    for name, cats in categories.items():
        values = out[name].astype("str")
        out[name] = pd.Categorical(values.where(values.isin(cats)), categories=cats)  # unseen: NaN
    for name in out.select_dtypes(include="bool").columns:
        out[name] = out[name].astype("int8")
    return out

"""Loader for the IBM Telco Customer Churn sample (one row per customer), read in place.

The file (``WA_Fn-UseC_-Telco-Customer-Churn.csv``; 7,043 customers x 21 columns) is parsed
as text and every column is converted explicitly:

- ``customerID``: string, non-blank and unique.
- ``SeniorCitizen``: int8, 0 / 1. ``tenure``: int16, whole months >= 0.
- ``MonthlyCharges``, ``TotalCharges``: float64, finite and >= 0 (USD).
- ``Churn``: bool (``"Yes"`` / ``"No"`` in the file).
- the 16 other columns: ``category`` with the fixed levels of `CATEGORIES`, so category codes
  and one-hot columns are the same for any subset of the file.

``TotalCharges`` is blank (a single space) for 11 customers, all with ``tenure`` 0: they have
not been billed yet, so the loader sets ``TotalCharges`` to 0.0 (the amount billed so far)
rather than NaN, which every model would otherwise have to impute, and records
``TotalChargesBlank`` (bool, the last column) so nothing is hidden. A blank with ``tenure`` > 0
has no such reading and is an error.

Every problem raises a ValueError naming the file, the column and the first five offending
lines (1-based, the header being line 1) with their text; a missing file raises
FileNotFoundError. Nothing is downloaded and the file is never modified.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.datasets.csv_text import cell_problem, read_csv_text

TELCO_FILE = "WA_Fn-UseC_-Telco-Customer-Churn.csv"
_YES_NO = ("No", "Yes")
_NO_INTERNET = ("No", "Yes", "No internet service")
# Levels of every categorical column, as spelt in the file.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "gender": ("Female", "Male"),
    "Partner": _YES_NO,
    "Dependents": _YES_NO,
    "PhoneService": _YES_NO,
    "MultipleLines": ("No", "Yes", "No phone service"),
    "InternetService": ("DSL", "Fiber optic", "No"),
    "OnlineSecurity": _NO_INTERNET,
    "OnlineBackup": _NO_INTERNET,
    "DeviceProtection": _NO_INTERNET,
    "TechSupport": _NO_INTERNET,
    "StreamingTV": _NO_INTERNET,
    "StreamingMovies": _NO_INTERNET,
    "Contract": ("Month-to-month", "One year", "Two year"),
    "PaperlessBilling": _YES_NO,
    "PaymentMethod": (
        "Electronic check",
        "Mailed check",
        "Bank transfer (automatic)",
        "Credit card (automatic)",
    ),
}
NUMERIC_COLUMNS = ("SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges")
CATEGORICAL_COLUMNS = tuple(CATEGORIES)
TARGET = "Churn"
BLANK_FLAG = "TotalChargesBlank"
# The file's 21 columns in file order.
COLUMNS: tuple[str, ...] = (
    "customerID", "gender", "SeniorCitizen", "Partner", "Dependents", "tenure",
    "PhoneService", "MultipleLines", "InternetService", "OnlineSecurity", "OnlineBackup",
    "DeviceProtection", "TechSupport", "StreamingTV", "StreamingMovies", "Contract",
    "PaperlessBilling", "PaymentMethod", "MonthlyCharges", "TotalCharges", "Churn",
)  # fmt: skip
_MAX_TENURE = 1200  # months (a century): beyond it the value is a typo, and int16 holds it


_problem = cell_problem  # the error naming file, column and offending lines


def _read_text(path: Path) -> pd.DataFrame:
    """Every cell as text; blank lines are kept so that row i is line i + 2."""
    return read_csv_text(path, COLUMNS, f"the IBM Telco churn CSV, {TELCO_FILE}")


def _number(path: Path, raw: pd.DataFrame, column: str, blank_ok: bool = False) -> pd.Series:
    """A non-negative finite float column; blanks (whitespace) are NaN only if `blank_ok`."""
    text = raw[column]
    stripped = text.str.strip()
    values = pd.to_numeric(stripped.where(stripped != "", "nan"), errors="coerce")
    blank = (stripped == "").to_numpy()
    bad = ~np.isfinite(values.to_numpy(float)) & ~(blank & blank_ok)
    if bad.any():
        raise _problem(path, column, text, bad, "is not a number")
    negative = values.to_numpy(float) < 0
    if negative.any():
        raise _problem(path, column, text, negative, "is negative")
    return values.astype(np.float64)


def _levels(path: Path, raw: pd.DataFrame, column: str, levels: tuple[str, ...]) -> np.ndarray:
    """The column's text, once every value is one of `levels`."""
    text = raw[column]
    bad = ~text.isin(levels).to_numpy()
    if bad.any():
        raise _problem(path, column, text, bad, f"is not one of {list(levels)}")
    return text.to_numpy(object)


def _customer_ids(path: Path, raw: pd.DataFrame) -> pd.Series:
    text = raw["customerID"]
    blank = (text.str.strip() == "").to_numpy()
    if blank.any():
        raise _problem(path, "customerID", text, blank, "is blank")
    repeated = text.duplicated(keep="first").to_numpy()
    if repeated.any():
        raise _problem(path, "customerID", text, repeated, "is repeated")
    return text.astype(pd.StringDtype(na_value=np.nan))


def _charges(path: Path, raw: pd.DataFrame, tenure: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """TotalCharges with blanks set to 0.0, and the blank flag; a blank needs tenure 0."""
    total = _number(path, raw, "TotalCharges", blank_ok=True)
    blank = total.isna().to_numpy()
    billed = blank & (tenure.to_numpy() > 0)
    if billed.any():
        raise _problem(
            path, "TotalCharges", raw["TotalCharges"], billed, "is blank with tenure > 0"
        )
    return total.fillna(0.0), blank


def load_telco(path: str | os.PathLike) -> pd.DataFrame:
    """Load the IBM Telco Customer Churn CSV with explicit dtypes and checks.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV, e.g. ``../shared/data/telco/WA_Fn-UseC_-Telco-Customer-Churn.csv``.

    Returns
    -------
    DataFrame
        One row per customer in file order: the 21 `COLUMNS` (dtypes in the module docstring)
        then ``TotalChargesBlank`` (bool: ``TotalCharges`` was blank and is now 0.0).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Unreadable CSV, missing columns, or a value that does not parse (numbers other than
        a blank ``TotalCharges`` at tenure 0, SeniorCitizen not 0 / 1, Churn not Yes / No, an
        unknown category, a blank or repeated customerID); the message names the file, the
        column and the first five offending lines.

    Examples
    --------
    >>> telco = load_telco("../shared/data/telco/" + TELCO_FILE)  # doctest: +SKIP
    >>> round(telco["Churn"].mean(), 4)  # doctest: +SKIP
    0.2654
    """
    path = Path(path)
    raw = _read_text(path)
    tenure = _number(path, raw, "tenure")
    fractional = (tenure % 1 != 0).to_numpy()
    if fractional.any():
        raise _problem(path, "tenure", raw["tenure"], fractional, "is not a whole number")
    too_long = (tenure > _MAX_TENURE).to_numpy()
    if too_long.any():
        raise _problem(path, "tenure", raw["tenure"], too_long, f"exceeds {_MAX_TENURE} months")
    total, blank = _charges(path, raw, tenure)
    senior = _levels(path, raw, "SeniorCitizen", ("0", "1"))
    churn = _levels(path, raw, TARGET, _YES_NO)
    out = {"customerID": _customer_ids(path, raw)}
    for column, levels in CATEGORIES.items():
        values = _levels(path, raw, column, levels)
        out[column] = pd.Categorical(values, categories=list(levels))
    out |= {
        "SeniorCitizen": senior.astype(np.int8),
        "tenure": tenure.to_numpy().astype(np.int16),
        "MonthlyCharges": _number(path, raw, "MonthlyCharges").to_numpy(),
        "TotalCharges": total.to_numpy(),
        TARGET: churn == "Yes",
        BLANK_FLAG: blank,
    }
    return pd.DataFrame({c: out[c] for c in (*COLUMNS, BLANK_FLAG)})

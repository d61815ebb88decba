"""Loader for the Cookie Cats mobile-game A/B test (one row per player), read in place.

The file (``cookie_cats.csv``; 90,189 players x 5 columns) records which version of the game a
player got (the first gate at level 30 or at level 40), how many rounds they played in the first
14 days, and whether they came back 1 and 7 days after installing. Every column is read as
text and converted explicitly:

- ``userid``: int64, a whole number 0 .. 2**63 - 1 written in digits, unique.
- ``version``: ``category`` with the fixed levels `VERSIONS` (``gate_30`` is the control).
- ``sum_gamerounds``: int64, a whole number >= 0.
- ``retention_1``, ``retention_7``: bool (``TRUE`` / ``FALSE`` in the file; the case is
  ignored, so ``True`` / ``False`` as pandas writes them also read).

Surrounding spaces are ignored in every field. Every problem raises a ValueError naming the
file, the column and the first five offending lines (1-based, the header being line 1) with
their text; a missing file raises FileNotFoundError. Nothing is downloaded and the file is never
modified.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.datasets.csv_text import cell_problem, read_csv_text

COOKIE_CATS_FILE = "cookie_cats.csv"
COLUMNS: tuple[str, ...] = ("userid", "version", "sum_gamerounds", "retention_1", "retention_7")
CONTROL, TREATMENT = "gate_30", "gate_40"
VERSIONS: tuple[str, ...] = (CONTROL, TREATMENT)
RETENTION_COLUMNS = ("retention_1", "retention_7")
_BOOLS = {"FALSE": False, "TRUE": True}
_INT64_MAX = str(np.iinfo(np.int64).max)


_problem = cell_problem  # the error naming file, column and offending lines


def _read_text(path: Path) -> pd.DataFrame:
    """Every cell as text; blank lines are kept so that row i is line i + 2."""
    return read_csv_text(path, COLUMNS, f"the Cookie Cats CSV, {COOKIE_CATS_FILE}")


def _whole(path: Path, raw: pd.DataFrame, column: str) -> np.ndarray:
    """An int64 column of whole numbers 0 .. 2**63 - 1 written as plain digits."""
    text = raw[column]
    stripped = text.str.strip()
    digits = stripped.str.lstrip("0").replace("", "0")
    # Equal-length digit strings compare like the numbers they spell.
    width = digits.str.len().to_numpy()
    above = (digits > _INT64_MAX).to_numpy(bool)
    too_big = (width > len(_INT64_MAX)) | ((width == len(_INT64_MAX)) & above)
    bad = ~stripped.str.fullmatch(r"\d+").to_numpy(bool) | too_big
    if bad.any():
        raise _problem(path, column, text, bad, "is not a whole number 0 .. 2**63 - 1")
    return digits.astype(np.int64).to_numpy()


def _flag(path: Path, raw: pd.DataFrame, column: str) -> np.ndarray:
    """A bool column from TRUE / FALSE (any case)."""
    text = raw[column]
    upper = text.str.strip().str.upper()
    bad = ~upper.isin(list(_BOOLS)).to_numpy()
    if bad.any():
        raise _problem(path, column, text, bad, "is not one of ['TRUE', 'FALSE']")
    return (upper == "TRUE").to_numpy(bool)


def _versions(path: Path, raw: pd.DataFrame) -> pd.Categorical:
    text = raw["version"]
    stripped = text.str.strip()
    bad = ~stripped.isin(VERSIONS).to_numpy()
    if bad.any():
        raise _problem(path, "version", text, bad, f"is not one of {list(VERSIONS)}")
    return pd.Categorical(stripped.to_numpy(object), categories=list(VERSIONS))


def load_cookie_cats(path: str | os.PathLike) -> pd.DataFrame:
    """Load the Cookie Cats A/B test CSV with explicit dtypes and checks.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV, e.g. ``../shared/data/cookie_cats/cookie_cats.csv``.

    Returns
    -------
    DataFrame
        One row per player in file order with the `COLUMNS`: ``userid`` (int64, unique),
        ``version`` (category ``gate_30`` / ``gate_40``), ``sum_gamerounds`` (int64 >= 0),
        ``retention_1`` and ``retention_7`` (bool). Extra columns in the file are dropped.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Unreadable CSV, missing columns, a value that does not parse, or a repeated userid;
        the message names the file, the column and the first five offending lines.

    Examples
    --------
    >>> cats = load_cookie_cats("../shared/data/cookie_cats/cookie_cats.csv")  # doctest: +SKIP
    >>> cats.groupby("version", observed=True)["retention_7"].mean().round(4)  # doctest: +SKIP
    version
    gate_30    0.1902
    gate_40    0.1820
    Name: retention_7, dtype: float64
    """
    path = Path(path)
    raw = _read_text(path)
    userid = _whole(path, raw, "userid")
    repeated = pd.Series(userid).duplicated(keep="first").to_numpy()
    if repeated.any():
        raise _problem(path, "userid", raw["userid"], repeated, "is repeated")
    return pd.DataFrame(
        {
            "userid": userid,
            "version": _versions(path, raw),
            "sum_gamerounds": _whole(path, raw, "sum_gamerounds"),
            "retention_1": _flag(path, raw, "retention_1"),
            "retention_7": _flag(path, raw, "retention_7"),
        }
    )

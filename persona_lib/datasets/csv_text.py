"""Strict CSV reading for the public-data loaders: every cell as text, errors that name lines.

Loaders parse and check each column themselves; these helpers read the file so that row ``i``
is line ``i + 2`` (header on line 1, blank lines kept) and build the error that names the file,
the column and the first offending lines with their text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

SHOWN = 5  # offending lines listed in an error


def cell_problem(
    path: Path, column: str, text: pd.Series, bad: np.ndarray, what: str
) -> ValueError:
    """A ValueError naming the file, the column and the first offending lines with their text."""
    rows = np.flatnonzero(bad)
    listed = ", ".join(f"line {r + 2} {text.iloc[r]!r}" for r in rows[:SHOWN])
    more = f" (the first {SHOWN} of {len(rows)})" if len(rows) > SHOWN else ""
    return ValueError(f"{path}: column {column!r} {what}: {listed}{more}")


def read_csv_text(path: Path, columns: Sequence[str], description: str) -> pd.DataFrame:
    """The ``columns`` of the CSV at ``path`` as text ("" for empty cells), in that order.

    ``description`` names the expected file in the error when it is missing.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file ({description})")
    try:
        raw = pd.read_csv(
            path, dtype=str, na_filter=False, skip_blank_lines=False, encoding="utf-8"
        )
    except (ValueError, UnicodeDecodeError) as error:  # EmptyDataError, ParserError
        raise ValueError(f"{path}: not a readable CSV: {error}") from error
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {list(columns)}")
    return raw[list(columns)].fillna("")  # short rows give NaN even without NA parsing

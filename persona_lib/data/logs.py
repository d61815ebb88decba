"""Loaders for a user's own logs: read a CSV or Parquet file and validate it as a table.

Files are only read, never written. CSV cells are read as text and converted by
`persona_lib.data.validation.validate`, so a bad cell is reported with its row.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from persona_lib.data.schema_errors import SchemaError
from persona_lib.data.validation import validate

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


def _file_format(path: Path) -> str:
    """Return "csv" or "parquet" by suffix; a ValueError naming the path for any other."""
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    known = ", ".join(CSV_SUFFIXES + PARQUET_SUFFIXES)
    raise ValueError(f"{path}: unsupported file type; expected one of {known}")


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text; only an empty cell is a null (a title may well be called "NA")."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as error:
        raise SchemaError(f"{path}: cannot read as CSV: empty file, no header line") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise SchemaError(f"{path}: cannot read as CSV: {error}") from error


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (OSError, pa.ArrowException) as error:  # ArrowInvalid: not a Parquet file
        raise SchemaError(f"{path}: cannot read as Parquet: {error}") from error


def read_raw_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV (every cell as text) or Parquet file as it is, without validating it.

    `load_table` is this followed by `persona_lib.data.validation.validate`; the folder reader
    (`persona_lib.data.folder`) uses it for the partitions of a day-partitioned store.

    Raises
    ------
    ValueError
        An unsupported suffix.
    SchemaError
        A file that cannot be read as its format (the message starts with the path).

    Examples
    --------
    >>> raw = read_raw_table("my_logs/events.csv")  # doctest: +SKIP
    """
    path = Path(path)
    return _read_csv(path) if _file_format(path) == "csv" else _read_parquet(path)


def load_table(
    path: str | os.PathLike,
    table: str,
    *,
    window: tuple | None = None,
    references: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Read one table from a CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``) file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; its suffix picks the reader. It is never modified.
    table : str
        A key of `persona_lib.data.schema.ALL_TABLES`, e.g. ``"events"``.
    window, references
        Passed to `persona_lib.data.validation.validate`.

    Returns
    -------
    pandas.DataFrame
        The validated table in the canonical dtypes; a CSV's index is the data row number
        (0 for the first line after the header), which error messages quote.

    Raises
    ------
    FileNotFoundError
        No file at `path`.
    ValueError
        An unsupported suffix.
    SchemaError
        An unreadable file, or one that does not match the table (the message starts with
        the path).

    Examples
    --------
    >>> events = load_table("my_logs/events.csv.gz", "events")  # doctest: +SKIP
    """
    path = Path(path)
    _file_format(path)  # an unsupported suffix is reported before a missing file
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    frame = read_raw_table(path)
    return validate(frame, table, source=str(path), window=window, references=references)


def load_events(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """Read and validate an events log; ``load_table(path, "events", **kwargs)``.

    Examples
    --------
    >>> events = load_events("my_logs/events.parquet", window=("2024-01-01", "2024-04-01"))
    ... # doctest: +SKIP
    """
    return load_table(path, "events", **kwargs)

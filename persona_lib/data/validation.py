"""Validating tables against their specs: `validate` one table, `validate_world` several.

Each column is coerced by `persona_lib.data.coercion`; this module adds the checks that need
the whole table (genres, the data window, unique keys) or other tables (references), and
the order in which tables of a world are validated. Both entry points are re-exported by
`persona_lib.data.schema`, where callers import them from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.coercion import coerce_column
from persona_lib.data.schema import (
    ALL_TABLES,
    GENRES,
    METRIC_TABLES,
    NO_ARTWORK,
    WINDOWED_TS,
    TableSpec,
)
from persona_lib.data.schema_errors import SchemaError, Where, quoted, show, values_text

VALIDATION_ORDER = (
    "titles", "artworks", "users", "events", "billing", "notifications",
    "propensities", "assignments", "outcomes", "campaigns",
)  # fmt: skip
_METRIC_WORDS = {"true": True, "false": False}


# --- table-level checks ----------------------------------------------------------------------


def _check_genres(out: pd.DataFrame, where: Where) -> None:
    parts = out["genres"].reset_index(drop=True).str.split("|").explode()
    unknown = ~parts.isin(GENRES).to_numpy()
    if unknown.any():
        rows = np.zeros(len(out), dtype=bool)
        rows[parts.index[unknown]] = True
        problem = f"unknown genre {values_text(parts[unknown])}"
        where.fail("genres", problem, rows, hint=f"allowed: {', '.join(GENRES)}")


def _window_bounds(window) -> tuple[np.datetime64, np.datetime64]:
    start, end = (pd.Timestamp(t) for t in window)
    start, end = (t.tz_convert("UTC").tz_localize(None) if t.tzinfo else t for t in (start, end))
    return start.to_datetime64(), end.to_datetime64()


def _check_window(out: pd.DataFrame, spec: TableSpec, window, where: Where) -> None:
    name = WINDOWED_TS.get(spec.name)
    if window is None or name is None:
        return
    start, end = _window_bounds(window)
    ts = out[name].to_numpy()
    outside = (ts < start) | (ts >= end)
    if outside.any():
        span = f"[{pd.Timestamp(start)}, {pd.Timestamp(end)})"
        where.fail(name, f"timestamp {values_text(ts[outside])} outside window {span}", outside)


def _first_duplicate(out: pd.DataFrame, key: tuple[str, ...], dup: np.ndarray) -> str:
    first = out.loc[dup, list(key)].iloc[0].tolist()
    return show(first[0]) if len(key) == 1 else "(" + ", ".join(show(v) for v in first) + ")"


def _check_keys(out: pd.DataFrame, spec: TableSpec, where: Where) -> None:
    if not spec.key:
        return
    if len(spec.key) == 1:
        values = out[spec.key[0]].to_numpy()
        if len(values) < 2 or bool((values[1:] > values[:-1]).all()):  # increasing: unique
            return
    dup = out.duplicated(subset=list(spec.key), keep=False).to_numpy()
    if dup.any():
        out = out.set_axis(pd.RangeIndex(len(out)))
        where.fail(spec.key, f"duplicate key {_first_duplicate(out, spec.key, dup)}", dup)


def check_keys(frame: pd.DataFrame, table: str, source: str = "<frame>", labels=None) -> None:
    """Raise `SchemaError` when `frame` (validated ``table`` rows, or just their key columns)
    repeats a key of the table (the first duplicate and the rows, by `frame`'s index labels).

    `validate` checks keys within one frame; a table read in parts (a day-partitioned store)
    checks the parts' key columns together with this. ``labels()``, when given, returns the
    row labels the message quotes; it is called only when a key repeats, so a large table's
    labels are never built for a table without duplicates.
    """
    spec = ALL_TABLES[table]
    try:
        _check_keys(frame, spec, Where(source, table, frame.index))
    except SchemaError:
        if labels is None:
            raise
        index = labels()
        _check_keys(frame.set_axis(index), spec, Where(source, table, index))


def _isin(values: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """`np.isin` with a bitmap for compact integer keys (several times faster than hashing)."""
    if values.dtype.kind in "iu" and allowed.dtype.kind in "iu" and len(allowed):
        low, high = int(allowed.min()), int(allowed.max())
        if high - low <= 4 * (len(values) + len(allowed)) + 1_000_000:
            bitmap = np.zeros(high - low + 1, dtype=bool)
            bitmap[allowed.astype(np.int64) - low] = True
            inside = (values >= low) & (values <= high)
            found = np.zeros(len(values), dtype=bool)
            found[inside] = bitmap[values[inside].astype(np.int64) - low]
            return found
    return pd.Series(values).isin(allowed).to_numpy()


def _check_references(out: pd.DataFrame, spec: TableSpec, references, where: Where) -> None:
    for col in spec.columns:
        ref_table, _, ref_col = (col.references or "").partition(".")
        if ref_table not in (references or {}):
            continue
        if ref_col not in references[ref_table].columns:
            where.fail(col.name, f"referenced table '{ref_table}' has no column '{ref_col}'")
        allowed = references[ref_table][ref_col].to_numpy()
        if col.name == "artwork_id":
            allowed = np.append(allowed, np.asarray(NO_ARTWORK, dtype=allowed.dtype))
        values = out[col.name].to_numpy()
        missing = ~_isin(values, allowed)
        if missing.any():
            problem = f"value {values_text(values[missing])} not found in {col.references}"
            where.fail(col.name, problem, missing)


# --- metric columns (outcomes) ---------------------------------------------------------------


def _metric_from_text(s: pd.Series, name: str, where: Where) -> pd.Series:
    """Null-free text cells (a CSV's): bools when every one is true/false, else numbers."""
    words = s.astype("str").str.strip().str.lower()
    if words.isin(list(_METRIC_WORDS)).all():
        return words.map(_METRIC_WORDS).astype(bool)
    numbers = pd.to_numeric(words.astype(object), errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        problem = f"cannot parse {values_text(s[bad])} as a number or bool"
        where.fail(name, problem, bad, hint="metric columns hold numbers or true/false")
    return numbers


def _coerce_metric(s: pd.Series, name: str, where: Where) -> pd.Series:
    """One metric column: numbers and bools (numpy dtypes), text parsed, nothing else."""
    if isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_bool_dtype(s.dtype)
        or pd.api.types.is_numeric_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
    ):
        problem = f"dtype {s.dtype} is not numeric or bool"
        where.fail(name, problem, s.notna().to_numpy(), hint="metric columns hold numbers or bools")
    nulls = s.isna().to_numpy()
    if nulls.any():
        where.fail(name, "null value", nulls)
    if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return _metric_from_text(s, name, where)
    if isinstance(s.dtype, np.dtype):
        return s
    return s.astype(s.dtype.numpy_dtype)  # nullable "boolean", "Int64", "Float64", Arrow


def _coerce_metrics(frame: pd.DataFrame, spec: TableSpec, where: Where) -> dict[str, pd.Series]:
    """Every column beyond the spec's, as a metric; at least one is required."""
    extra = [name for name in frame.columns if name not in spec.names]
    if not extra:
        raise SchemaError(
            f"{where.source}: table '{spec.name}': no metric column besides "
            f"{quoted(spec.names)}; add at least one numeric or bool column"
        )
    return {name: _coerce_metric(frame[name], name, where).reset_index(drop=True) for name in extra}


# --- entry points ----------------------------------------------------------------------------


def _spec_for(frame: pd.DataFrame, table: str, where: Where) -> TableSpec:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{where.source}: expected a pandas DataFrame, got {type(frame).__name__}")
    if table not in ALL_TABLES:
        known = ", ".join(ALL_TABLES)
        raise SchemaError(f"{where.source}: unknown table '{table}'; known: {known}")
    spec = ALL_TABLES[table]
    missing = tuple(n for n in spec.names if n not in frame.columns)
    if missing:
        found = ", ".join(map(str, frame.columns)) or "none"
        where.fail(missing, "missing", hint=f"found columns: {found}")
    return spec


def validate(
    frame: pd.DataFrame,
    table: str,
    source: str = "<frame>",
    *,
    window: tuple | None = None,
    references: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Return `frame` coerced to table `table`'s canonical dtypes, or raise `SchemaError`.

    Columns come out in the canonical order, followed by any extra columns unchanged; the
    index is kept and the input frame is never modified. Columns already in their canonical
    dtype are checked but not converted. Checks, in order: missing columns; per column,
    values that do not parse, nulls, unknown categories, non-integers, values outside
    ``Column.min_value``/``max_value`` or the dtype; then unknown genres (titles), timestamps
    outside `window`, duplicate keys and references. The first problem found is raised.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table from any source. Timestamps may be datetimes (tz-aware ones are converted
        to UTC and made naive) or date-time strings, never numbers. Booleans may be bools,
        0/1 or "true"/"false" in any case.
    table : str
        A key of `ALL_TABLES`. For ``outcomes`` (`METRIC_TABLES`) every column besides
        ``user_id`` is a metric: numbers or bools (from text: ``true``/``false`` in any case,
        else numbers), no nulls, at least one such column.
    source : str
        What the frame came from (a file path); it starts every error message.
    window : (start, end), optional
        Timestamps of the column ``WINDOWED_TS[table]`` must satisfy ``start <= ts < end``.
    references : dict of str to pandas.DataFrame, optional
        Validated tables by name (e.g. ``{"users": users, "titles": titles}``); every column
        whose ``Column.references`` names one of them must hold only values found there
        (``artwork_id`` may also be ``NO_ARTWORK``).

    Returns
    -------
    pandas.DataFrame
        A new frame: datetimes ``datetime64[ms]``, categories ``CategoricalDtype`` over the
        spec's tuple (``row_id``: its sorted distinct values), text in the ``str`` dtype.

    Raises
    ------
    SchemaError
        One line: ``<source>: table '<t>', column '<c>': <problem> in rows [3, 8] (2 rows)``
        followed, for some problems, by ``; <hint>``. Rows are the input index labels (at
        most five are listed).

    Examples
    --------
    >>> validate(pd.DataFrame({"user_id": ["1"]}), "users", "u.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    persona_lib.data.schema_errors.SchemaError: u.csv: table 'users', columns 'signup_ts', ...
    """
    where = Where(source, table, frame.index if isinstance(frame, pd.DataFrame) else None)
    spec = _spec_for(frame, table, where)
    columns = {}
    for col in spec.columns:
        columns[col.name] = coerce_column(frame[col.name], col, where).reset_index(drop=True)
    if table in METRIC_TABLES:
        columns |= _coerce_metrics(frame, spec, where)
    for name in frame.columns:
        if name not in columns:
            columns[name] = frame[name].reset_index(drop=True)
    out = pd.DataFrame(columns)
    if table == "titles":
        _check_genres(out, where)
    _check_window(out, spec, window, where)
    _check_keys(out, spec, where)
    _check_references(out, spec, references, where)
    return out.set_axis(frame.index)


def validate_world(
    tables: dict[str, pd.DataFrame], source: str = "<world>", window: tuple | None = None
) -> dict[str, pd.DataFrame]:
    """Validate several tables together, checking every reference between them.

    Tables are validated in dependency order (titles, artworks, users, then the logs, then
    the optional tables: propensities after events, whose event ids they reference) and
    each one's references are checked against the validated tables already present.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Frames by table name (any subset of `ALL_TABLES`).
    source : str
        Starts every error message.
    window : (start, end), optional
        Passed to `validate` for the tables in `WINDOWED_TS`.

    Returns
    -------
    dict of str to pandas.DataFrame
        The validated frames, in the order of `tables`.

    Examples
    --------
    >>> validate_world({"movies": pd.DataFrame()})
    Traceback (most recent call last):
    ...
    persona_lib.data.schema_errors.SchemaError: <world>: unknown table 'movies'; known: titles, ...
    """
    unknown = [name for name in tables if name not in ALL_TABLES]
    if unknown:
        known = ", ".join(ALL_TABLES)
        raise SchemaError(f"{source}: unknown table {quoted(unknown)}; known: {known}")
    done: dict[str, pd.DataFrame] = {}
    for name in VALIDATION_ORDER:
        if name in tables:
            done[name] = validate(tables[name], name, source, window=window, references=done)
    return {name: done[name] for name in tables}

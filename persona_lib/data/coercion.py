"""Coercing one column to its canonical dtype: numbers, timestamps, categories, bools, text.

`coerce_column` parses what a source gives (numpy or Arrow dtypes, strings from a CSV
reader, tz-aware datetimes) and checks each value against its `Column`: nulls, unknown
categories, non-integers, bounds. The first problem raises a `SchemaError` naming the rows.
Table-level checks (keys, references, the window) are in `persona_lib.data.validation`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from persona_lib.data.schema import TS_UNIT, Column
from persona_lib.data.schema_errors import Where, number_text, values_text

INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32")
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False}
_NUMBER_PATTERN = r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*"
_MIXED_PARSE_LIMIT = 1_000  # distinct unparsed timestamp strings retried one by one


def _check_nulls(s: pd.Series, col: Column, where: Where) -> None:
    if col.nullable or s.dtype.kind in "iub":  # numpy ints and bools cannot hold a null
        return
    nulls = s.isna().to_numpy()
    if nulls.any():
        where.fail(col.name, "null value", nulls)


# --- numbers ---------------------------------------------------------------------------------


def _parse_fast(s: pd.Series) -> np.ndarray | None:
    """Parse numbers with Arrow's cast (fast); None when any value does not parse."""
    try:
        return pc.cast(pa.array(s, from_pandas=True), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _as_numbers(s: pd.Series, col: Column, where: Where) -> pd.Series:
    """A numeric Series (unchanged when already numpy numeric) or a parse error."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s if isinstance(s.dtype, np.dtype) else s.astype("float64")
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    parsed = _parse_fast(s)
    if parsed is None:
        parsed = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = s.notna().to_numpy() & np.isnan(parsed)
        if bad.any():
            where.fail(col.name, f"cannot parse {values_text(s[bad])} as {col.dtype}", bad)
    return pd.Series(parsed, index=s.index, name=s.name)


def _check_range(s: pd.Series, col: Column, where: Where) -> None:
    values = s.to_numpy()
    if col.min_value is not None:
        low = values < col.min_value
        if low.any():
            bound = number_text(col.min_value)
            where.fail(col.name, f"value {values_text(values[low])} below minimum {bound}", low)
    if col.max_value is not None:
        high = values > col.max_value
        if high.any():
            bound = number_text(col.max_value)
            where.fail(col.name, f"value {values_text(values[high])} above maximum {bound}", high)


def _check_whole(s: pd.Series, col: Column, where: Where) -> None:
    values = s.to_numpy()
    if values.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            fractional = np.isfinite(values) & (values != np.trunc(values))
        if fractional.any():
            problem = f"non-integer value {values_text(values[fractional])} (expected {col.dtype})"
            where.fail(col.name, problem, fractional)


def _check_fits(s: pd.Series, col: Column, where: Where) -> None:
    values = s.to_numpy()
    if np.can_cast(values.dtype, col.dtype):
        return
    info = np.iinfo(col.dtype)
    outside = ~((values >= info.min) & (values <= info.max))
    if outside.any():
        span = f"{col.dtype} [{info.min}, {info.max}]"
        where.fail(col.name, f"value {values_text(values[outside])} does not fit {span}", outside)


def _coerce_number(s: pd.Series, col: Column, where: Where) -> pd.Series:
    numbers = _as_numbers(s, col, where)
    _check_nulls(numbers, col, where)
    if col.dtype in INT_DTYPES:
        _check_whole(numbers, col, where)
    _check_range(numbers, col, where)  # before the dtype's bounds: a clearer message
    if col.dtype in INT_DTYPES:
        _check_fits(numbers, col, where)
    return numbers if numbers.dtype == col.dtype else numbers.astype(col.dtype)


# --- timestamps ------------------------------------------------------------------------------


def _to_naive_utc(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    target = f"datetime64[{TS_UNIT}]"
    return values if values.dtype == target else values.astype(target)


def _is_number(value: object) -> bool:
    if isinstance(value, str):
        return re.fullmatch(_NUMBER_PATTERN, value) is not None
    return isinstance(value, int | float | np.number) and not pd.isna(value)


def _number_mask(s: pd.Series) -> np.ndarray:
    """Which values are numbers or numeric strings (Arrow's regex engine when all are text)."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.notna().to_numpy()
    try:
        text = pa.array(s, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = None
    if text is not None and pa.types.is_timestamp(text.type):
        return np.zeros(len(s), dtype=bool)
    if text is not None and (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        found = pc.match_substring_regex(text, f"^(?:{_NUMBER_PATTERN})$").fill_null(False)
        return found.to_numpy(zero_copy_only=False)
    return s.map(_is_number).to_numpy(dtype=bool)


def _reject_numbers(s: pd.Series, col: Column, where: Where) -> None:
    """Integers (epoch offsets in unknown units) are never silently taken as timestamps."""
    numeric = _number_mask(s)
    if numeric.any():
        problem = f"number {values_text(s[numeric])} is not a timestamp"
        where.fail(col.name, problem, numeric, hint="write ISO 8601 strings, e.g. 2024-01-31 18:00")


def _parse_timestamps(s: pd.Series) -> pd.Series:
    """ISO 8601 (vectorized), then any other format for a few distinct leftovers; UTC-aware."""
    parsed = pd.to_datetime(s, format="ISO8601", errors="coerce", utc=True)
    left = s.notna() & parsed.isna()
    distinct = pd.unique(s[left])
    if 0 < len(distinct) <= _MIXED_PARSE_LIMIT:
        retry = pd.to_datetime(pd.Series(distinct), format="mixed", errors="coerce", utc=True)
        lookup = pd.Series(retry.to_numpy(), index=distinct)
        parsed = parsed.where(~left, s.map(lookup))
    return parsed


def _coerce_datetime(s: pd.Series, col: Column, where: Where) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = _to_naive_utc(s)
    else:
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        _reject_numbers(s, col, where)
        parsed = _parse_timestamps(s)
        bad = s.notna().to_numpy() & parsed.isna().to_numpy()
        if bad.any():
            where.fail(col.name, f"cannot parse {values_text(s[bad])} as a timestamp", bad)
        out = _to_naive_utc(parsed)
    _check_nulls(out, col, where)
    return out


# --- categories, booleans, strings -----------------------------------------------------------


def _coerce_category(s: pd.Series, col: Column, where: Where) -> pd.Series:
    if col.categories is None:
        return _coerce_open_category(s, col, where)
    target = pd.CategoricalDtype(col.categories)
    if s.dtype == target:
        out = s
    else:  # factorize first (Arrow does it fast for text), then map the few distinct values
        labels = s if isinstance(s.dtype, pd.CategoricalDtype) else s.astype("category")
        out = labels.cat.set_categories(col.categories).astype(target)
    unknown = s.notna().to_numpy() & out.isna().to_numpy()
    if unknown.any():
        problem = f"unknown category {values_text(s[unknown])}"
        where.fail(col.name, problem, unknown, hint=f"allowed: {', '.join(col.categories)}")
    _check_nulls(out, col, where)
    return out


def _coerce_open_category(s: pd.Series, col: Column, where: Where) -> pd.Series:
    """An open set of labels (row_id): categories are the distinct values, sorted."""
    if isinstance(s.dtype, pd.CategoricalDtype) and s.cat.categories.dtype == "str":
        out = s.cat.remove_unused_categories()
        if not out.cat.categories.is_monotonic_increasing:
            out = out.cat.reorder_categories(out.cat.categories.sort_values())
    else:
        out = s.astype("str").astype("category")
    _check_nulls(out, col, where)
    return out


def _coerce_bool(s: pd.Series, col: Column, where: Where) -> pd.Series:
    if s.dtype == bool:
        return s
    if pd.api.types.is_bool_dtype(s.dtype):  # nullable "boolean"
        out = s
    elif pd.api.types.is_numeric_dtype(s.dtype):
        out = s.map({0: False, 1: True})
    else:
        out = s.astype("str").str.strip().str.lower().map(_BOOL_WORDS)
    bad = s.notna().to_numpy() & out.isna().to_numpy()
    if bad.any():
        problem = f"cannot parse {values_text(s[bad])} as bool"
        where.fail(col.name, problem, bad, hint="use true/false or 1/0")
    _check_nulls(out, col, where)
    return out.astype(bool)


def _coerce_str(s: pd.Series, col: Column, where: Where) -> pd.Series:
    out = s if s.dtype == "str" else s.astype("str")
    _check_nulls(out, col, where)
    return out


_COERCERS = {
    "datetime": _coerce_datetime,
    "category": _coerce_category,
    "bool": _coerce_bool,
    "str": _coerce_str,
}


def coerce_column(s: pd.Series, col: Column, where: Where) -> pd.Series:
    """Return `s` in `col`'s canonical dtype (unchanged when already in it), or raise.

    Parameters
    ----------
    s : pandas.Series
        The column as read; its index is the input frame's.
    col : Column
        The spec it must match.
    where : Where
        Source, table and row labels quoted by a `SchemaError`.

    Returns
    -------
    pandas.Series
        Same index and length as `s`.

    Examples
    --------
    >>> from persona_lib.data.schema import TABLES
    >>> hour = TABLES["notifications"].column("hour")
    >>> where = Where("n.csv", "notifications", pd.RangeIndex(1))
    >>> coerce_column(pd.Series(["7"], name="hour"), hour, where)
    0    7
    Name: hour, dtype: int8
    """
    return _COERCERS.get(col.dtype, _coerce_number)(s, col, where)

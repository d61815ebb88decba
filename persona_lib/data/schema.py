"""The canonical tables: column names, dtypes, allowed categories and validation.

Every module reads column names from here, so one concept has one name everywhere
(`user_id`, `title_id`, `artwork_id`, `ts`, ...). `validate` turns a frame from any source
(the simulator, a user's CSV or Parquet logs) into the canonical dtypes or raises a
`SchemaError` that names the source, the table, the column and the offending rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Fantasy", "Horror", "Romance", "Sci-Fi", "Thriller", "Reality", "Anime", "Music",
)  # fmt: skip
LANGUAGES: tuple[str, ...] = ("en", "es", "pt", "fr", "de", "ja", "ko", "hi")
COUNTRIES: tuple[str, ...] = ("US", "MX", "BR", "FR", "DE", "JP", "KR", "IN", "GB", "ES")
DEVICES: tuple[str, ...] = ("tv", "mobile", "tablet", "web")
PLANS: tuple[str, ...] = ("ads", "basic", "standard", "premium")
KINDS: tuple[str, ...] = ("movie", "series")
MATURITIES: tuple[str, ...] = ("all", "7+", "13+", "16+", "18+")
EVENT_TYPES: tuple[str, ...] = (
    "impression",  # a tile was on screen
    "hover",  # the member focused the tile (TV focus, pointer hover, long press)
    "scroll_past",  # the member moved on from a tile without acting on it
    "click",  # the member opened the title's details
    "play_start",
    "play_stop",  # carries watch_s; completion = watch_s against the runtime
    "rewatch",  # a play of a title this member had already completed
    "search",  # the member searched; title_id is the title the search led to
)
BILLING_STATUSES: tuple[str, ...] = ("new", "renewed", "churned", "payment_failed", "reactivated")
ARTWORK_ATTRIBUTES: tuple[str, ...] = (
    "face", "smile", "dark_tone", "action", "romance", "ensemble", "text",
)  # fmt: skip

NO_ARTWORK = -1  # artwork_id of an event whose artwork is unknown (e.g. a user's own logs)
MAX_WATCH_S = 12 * 3600  # one uninterrupted play longer than 12 hours is not plausible
MAX_DWELL_MS = np.iinfo(np.uint16).max  # 65.5 s on one tile; members give up after 60-90 s


@dataclass(frozen=True)
class Column:
    """One column: its dtype, allowed values and whether nulls are allowed."""

    name: str
    # "int32", "int16", "int8", "uint16", "float32", "bool", "str", "datetime" or "category"
    dtype: str
    categories: tuple[str, ...] | None = None
    nullable: bool = False
    min_value: float | None = None
    max_value: float | None = None
    references: str | None = None  # "table.column" this key must exist in


@dataclass(frozen=True)
class TableSpec:
    """A table: its ordered columns and its primary key (unique when it is one column)."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


TS_UNIT = "ms"  # every timestamp is datetime64[ms]: exact, compact and the same in Parquet

TABLES: dict[str, TableSpec] = {
    "titles": TableSpec(
        "titles",
        (
            Column("title_id", "int32", min_value=0),
            Column("name", "str"),
            Column("kind", "category", KINDS),
            Column("genres", "str"),  # pipe-separated, each one of GENRES
            Column("language", "category", LANGUAGES),
            Column("release_year", "int16", min_value=1900, max_value=2100),
            Column("runtime_min", "int16", min_value=1, max_value=600),  # movie or one episode
            Column("n_episodes", "int16", min_value=1, max_value=10_000),
            Column("maturity", "category", MATURITIES),
            Column("synopsis", "str"),
        ),
        key=("title_id",),
    ),
    "artworks": TableSpec(
        "artworks",
        (
            Column("artwork_id", "int32", min_value=0),
            Column("title_id", "int32", min_value=0, references="titles.title_id"),
            *(Column(a, "bool") for a in ARTWORK_ATTRIBUTES),
        ),
        key=("artwork_id",),
    ),
    "users": TableSpec(
        "users",
        (
            Column("user_id", "int32", min_value=0),
            Column("signup_ts", "datetime"),
            Column("country", "category", COUNTRIES),
            Column("language", "category", LANGUAGES),
            Column("plan", "category", PLANS),
            Column("price", "float32", min_value=0, max_value=1000),
            Column("preferred_device", "category", DEVICES),
        ),
        key=("user_id",),
    ),
    "events": TableSpec(
        "events",
        (
            Column("event_id", "int32", min_value=0),
            Column("ts", "datetime"),
            Column("user_id", "int32", min_value=0, references="users.user_id"),
            Column("session_id", "int32", min_value=0),
            Column("device", "category", DEVICES),
            Column("event_type", "category", EVENT_TYPES),
            Column("title_id", "int32", min_value=0, references="titles.title_id"),
            Column("artwork_id", "int32", min_value=NO_ARTWORK, references="artworks.artwork_id"),
            Column("row_id", "category"),  # open set: "popular", "genre:Drama", "search", ...
            Column("row_position", "int8", min_value=0),
            Column("col_position", "int8", min_value=0),
            Column("dwell_ms", "uint16", min_value=0, max_value=MAX_DWELL_MS),
            Column("watch_s", "float32", nullable=True, min_value=0, max_value=MAX_WATCH_S),
        ),
        key=("event_id",),
    ),
    "billing": TableSpec(
        "billing",
        (
            Column("user_id", "int32", min_value=0, references="users.user_id"),
            Column("period_start", "datetime"),
            Column("plan", "category", PLANS),
            Column("price", "float32", min_value=0, max_value=1000),
            Column("status", "category", BILLING_STATUSES),
        ),
        key=("user_id", "period_start"),
    ),
    "notifications": TableSpec(
        "notifications",
        (
            Column("user_id", "int32", min_value=0, references="users.user_id"),
            Column("ts", "datetime"),
            Column("hour", "int8", min_value=0, max_value=23),
            Column("opened", "bool"),
        ),
        key=("user_id", "ts"),
    ),
}

# Columns whose timestamps must fall inside the data window when one is given.
WINDOWED_TS = {"events": "ts", "billing": "period_start", "notifications": "ts"}


# --- validation ------------------------------------------------------------------------------

MAX_ROWS_SHOWN = 5  # row labels (and distinct offending values) quoted in an error message
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32")
VALIDATION_ORDER = ("titles", "artworks", "users", "events", "billing", "notifications")
_BOOL_WORDS = {"true": True, "false": False, "1": True, "0": False}
_NUMBER_PATTERN = r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*"
_MIXED_PARSE_LIMIT = 1_000  # distinct unparsed timestamp strings retried one by one


class SchemaError(ValueError):
    """A frame does not match its canonical table.

    The message is one line: ``<source>: table '<t>', column '<c>': <problem> in rows
    [<up to five index labels>, ...] (<n> rows)[; <hint>]`` ("(1 row)" for a single row).
    """


def canonical_dtype(column: Column) -> object:
    """Return the dtype `validate` gives `column` ("category" when the set is open).

    Examples
    --------
    >>> canonical_dtype(TABLES["events"].column("ts"))
    dtype('<M8[ms]')
    """
    if column.dtype == "datetime":
        return np.dtype(f"datetime64[{TS_UNIT}]")
    if column.dtype == "category":
        return "category" if column.categories is None else pd.CategoricalDtype(column.categories)
    if column.dtype == "str":
        return pd.StringDtype(na_value=np.nan)
    return np.dtype(column.dtype)


@dataclass(frozen=True)
class _Where:
    """Where a problem was found: the source, the table and the input frame's row labels."""

    source: str
    table: str
    index: pd.Index

    def fail(self, columns: str | tuple[str, ...], problem: str, rows=None, hint: str = ""):
        """Raise a `SchemaError`; `rows` is a boolean mask over the input frame's positions."""
        names = (columns,) if isinstance(columns, str) else tuple(columns)
        label = "column" if len(names) == 1 else "columns"
        text = f"{self.source}: table '{self.table}', {label} {_quoted(names)}: {problem}"
        if rows is not None:
            text += f" in {_rows_text(self.index[np.asarray(rows, dtype=bool)])}"
        raise SchemaError(text + (f"; {hint}" if hint else ""))


def _show(value: object) -> str:
    """One value as it appears in a message: strings quoted, whole floats without '.0'."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quoted(names) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _rows_text(labels: pd.Index) -> str:
    shown = ", ".join(_show(v) for v in labels[:MAX_ROWS_SHOWN].tolist())
    more = ", ..." if len(labels) > MAX_ROWS_SHOWN else ""
    return f"rows [{shown}{more}] ({len(labels)} row{'s' if len(labels) != 1 else ''})"


def _values_text(values) -> str:
    """Up to MAX_ROWS_SHOWN distinct values, in order of first appearance."""
    distinct = pd.unique(pd.Series(np.asarray(values, dtype=object)))
    shown = ", ".join(_show(v) for v in distinct[:MAX_ROWS_SHOWN].tolist())
    return shown + (", ..." if len(distinct) > MAX_ROWS_SHOWN else "")


def _number(x: float) -> str:
    return _show(float(x))


def _check_nulls(s: pd.Series, col: Column, where: _Where) -> None:
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


def _as_numbers(s: pd.Series, col: Column, where: _Where) -> pd.Series:
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
            where.fail(col.name, f"cannot parse {_values_text(s[bad])} as {col.dtype}", bad)
    return pd.Series(parsed, index=s.index, name=s.name)


def _check_range(s: pd.Series, col: Column, where: _Where) -> None:
    values = s.to_numpy()
    if col.min_value is not None:
        low = values < col.min_value
        if low.any():
            problem = f"value {_values_text(values[low])} below minimum {_number(col.min_value)}"
            where.fail(col.name, problem, low)
    if col.max_value is not None:
        high = values > col.max_value
        if high.any():
            problem = f"value {_values_text(values[high])} above maximum {_number(col.max_value)}"
            where.fail(col.name, problem, high)


def _check_whole(s: pd.Series, col: Column, where: _Where) -> None:
    values = s.to_numpy()
    if values.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            fractional = np.isfinite(values) & (values != np.trunc(values))
        if fractional.any():
            problem = f"non-integer value {_values_text(values[fractional])} (expected {col.dtype})"
            where.fail(col.name, problem, fractional)


def _check_fits(s: pd.Series, col: Column, where: _Where) -> None:
    values = s.to_numpy()
    if np.can_cast(values.dtype, col.dtype):
        return
    info = np.iinfo(col.dtype)
    outside = ~((values >= info.min) & (values <= info.max))
    if outside.any():
        span = f"{col.dtype} [{info.min}, {info.max}]"
        where.fail(col.name, f"value {_values_text(values[outside])} does not fit {span}", outside)


def _coerce_number(s: pd.Series, col: Column, where: _Where) -> pd.Series:
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


def _reject_numbers(s: pd.Series, col: Column, where: _Where) -> None:
    """Integers (epoch offsets in unknown units) are never silently taken as timestamps."""
    numeric = _number_mask(s)
    if numeric.any():
        problem = f"number {_values_text(s[numeric])} is not a timestamp"
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


def _coerce_datetime(s: pd.Series, col: Column, where: _Where) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = _to_naive_utc(s)
    else:
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        _reject_numbers(s, col, where)
        parsed = _parse_timestamps(s)
        bad = s.notna().to_numpy() & parsed.isna().to_numpy()
        if bad.any():
            where.fail(col.name, f"cannot parse {_values_text(s[bad])} as a timestamp", bad)
        out = _to_naive_utc(parsed)
    _check_nulls(out, col, where)
    return out


# --- categories, booleans, strings -----------------------------------------------------------


def _coerce_category(s: pd.Series, col: Column, where: _Where) -> pd.Series:
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
        problem = f"unknown category {_values_text(s[unknown])}"
        where.fail(col.name, problem, unknown, hint=f"allowed: {', '.join(col.categories)}")
    _check_nulls(out, col, where)
    return out


def _coerce_open_category(s: pd.Series, col: Column, where: _Where) -> pd.Series:
    """An open set of labels (row_id): categories are the distinct values, sorted."""
    if isinstance(s.dtype, pd.CategoricalDtype) and s.cat.categories.dtype == "str":
        out = s.cat.remove_unused_categories()
        if not out.cat.categories.is_monotonic_increasing:
            out = out.cat.reorder_categories(out.cat.categories.sort_values())
    else:
        out = s.astype("str").astype("category")
    _check_nulls(out, col, where)
    return out


def _coerce_bool(s: pd.Series, col: Column, where: _Where) -> pd.Series:
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
        problem = f"cannot parse {_values_text(s[bad])} as bool"
        where.fail(col.name, problem, bad, hint="use true/false or 1/0")
    _check_nulls(out, col, where)
    return out.astype(bool)


def _coerce_str(s: pd.Series, col: Column, where: _Where) -> pd.Series:
    out = s if s.dtype == "str" else s.astype("str")
    _check_nulls(out, col, where)
    return out


_COERCERS = {
    "datetime": _coerce_datetime,
    "category": _coerce_category,
    "bool": _coerce_bool,
    "str": _coerce_str,
}


# --- table-level checks ----------------------------------------------------------------------


def _check_genres(out: pd.DataFrame, where: _Where) -> None:
    parts = out["genres"].reset_index(drop=True).str.split("|").explode()
    unknown = ~parts.isin(GENRES).to_numpy()
    if unknown.any():
        rows = np.zeros(len(out), dtype=bool)
        rows[parts.index[unknown]] = True
        problem = f"unknown genre {_values_text(parts[unknown])}"
        where.fail("genres", problem, rows, hint=f"allowed: {', '.join(GENRES)}")


def _window_bounds(window) -> tuple[np.datetime64, np.datetime64]:
    start, end = (pd.Timestamp(t) for t in window)
    start, end = (t.tz_convert("UTC").tz_localize(None) if t.tzinfo else t for t in (start, end))
    return start.to_datetime64(), end.to_datetime64()


def _check_window(out: pd.DataFrame, spec: TableSpec, window, where: _Where) -> None:
    name = WINDOWED_TS.get(spec.name)
    if window is None or name is None:
        return
    start, end = _window_bounds(window)
    ts = out[name].to_numpy()
    outside = (ts < start) | (ts >= end)
    if outside.any():
        span = f"[{pd.Timestamp(start)}, {pd.Timestamp(end)})"
        where.fail(name, f"timestamp {_values_text(ts[outside])} outside window {span}", outside)


def _first_duplicate(out: pd.DataFrame, key: tuple[str, ...], dup: np.ndarray) -> str:
    first = out.loc[dup, list(key)].iloc[0].tolist()
    return _show(first[0]) if len(key) == 1 else "(" + ", ".join(_show(v) for v in first) + ")"


def _check_keys(out: pd.DataFrame, spec: TableSpec, where: _Where) -> None:
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


def _check_references(out: pd.DataFrame, spec: TableSpec, references, where: _Where) -> None:
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
            problem = f"value {_values_text(values[missing])} not found in {col.references}"
            where.fail(col.name, problem, missing)


# --- entry points ----------------------------------------------------------------------------


def _spec_for(frame: pd.DataFrame, table: str, where: _Where) -> TableSpec:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{where.source}: expected a pandas DataFrame, got {type(frame).__name__}")
    if table not in TABLES:
        raise SchemaError(f"{where.source}: unknown table '{table}'; known: {', '.join(TABLES)}")
    spec = TABLES[table]
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
        A key of `TABLES`.
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
    persona_lib.data.schema.SchemaError: u.csv: table 'users', columns 'signup_ts', ...
    """
    where = _Where(source, table, frame.index if isinstance(frame, pd.DataFrame) else None)
    spec = _spec_for(frame, table, where)
    columns = {}
    for col in spec.columns:
        coerce = _COERCERS.get(col.dtype, _coerce_number)
        columns[col.name] = coerce(frame[col.name], col, where).reset_index(drop=True)
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

    Tables are validated in dependency order (titles, artworks, users, then the logs) and
    each one's references are checked against the validated tables already present.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Frames by table name (any subset of `TABLES`).
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
    persona_lib.data.schema.SchemaError: <world>: unknown table 'movies'; known: titles, ...
    """
    unknown = [name for name in tables if name not in TABLES]
    if unknown:
        known = ", ".join(TABLES)
        raise SchemaError(f"{source}: unknown table {_quoted(unknown)}; known: {known}")
    done: dict[str, pd.DataFrame] = {}
    for name in VALIDATION_ORDER:
        if name in tables:
            done[name] = validate(tables[name], name, source, window=window, references=done)
    return {name: done[name] for name in tables}

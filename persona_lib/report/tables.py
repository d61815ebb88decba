"""Tables for reading: the one formatter every notebook uses.

``show(frame)`` is a notebook cell's last line. It prints thousands separators and fixed decimals
per unit, hides the index (a meaningful index becomes a labelled column), shows percent or fraction
but not both, prints a missing value as "—" with a footnote, and never prints ``NaN``, ``dtype:`` or
scientific notation; a table wider than the page scrolls inside its box. `format_table` returns the
same cells as a frame of strings.

A column's unit comes from `units`, else from its name: ``*_pct`` %, ``*_pp`` pp, ``*usd*`` USD,
``*auc*`` AUC, ``n_*``, ``*_count`` or ``rows`` count, ``p_value`` p, ``*_id`` text (digits
without separators), and ``*_rate``, ``*_share`` or ``*_fraction`` fraction when every value lies
in [0, 1]. ``<base>_ci_low``, ``<base>_ci_high`` and
``<base>_se`` take the unit of ``<base>``. Units are those of `persona_lib.report.verdicts.fmt`;
the unit goes in the column label ("lift (%)"), so cells hold numbers only.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from numbers import Number
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_integer_dtype,
    is_numeric_dtype,
)

from persona_lib.report.labels import LABELS, infer_unit, label
from persona_lib.report.numbers import fmt, number, unit_decimals

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = [
    "FOOTNOTE",
    "LABELS",
    "MISSING",
    "format_table",
    "infer_unit",
    "label",
    "show",
]

MISSING = "—"
FOOTNOTE = "— : not available"
# GitHub's markdown tables do the same: the table is its own scroll box, as wide as its content
# but never wider than the page. Inline, so it survives nbconvert's HTML export.
_SCROLL_BOX = "display:block; width:max-content; max-width:100%; overflow-x:auto"

_COMPANIONS = ("_ci_low", "_ci_high", "_se")
_PLAIN_UNITS = {"", "count", "fraction", "auc", "p", "text"}  # labels get no "(unit)"
_UNIT_LABELS = {"x": "×"}
_KNOWN_UNITS = {"pp", "%", "USD", "count", "hours", "x", "auc", "fraction", "p"}


def _is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and ``pd.NA``; False for containers and other objects."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _flat(key: Any) -> str:
    """A column key as text; MultiIndex tuples are joined with ``_``."""
    if isinstance(key, tuple):
        return "_".join(str(k) for k in key if str(k))
    return "" if key is None else str(key)


def _meaningful(index: pd.Index) -> bool:
    """True if an index says something (names, labels), False for row numbers."""
    named = any(name is not None for name in index.names)
    return isinstance(index, pd.MultiIndex) or named or not is_integer_dtype(index.dtype)


def _as_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a meaningful index moved into columns and flat string column names."""
    if _meaningful(frame.index):
        names = [n if n is not None else "" for n in frame.index.names]
        if len(names) > 1:
            names = [n or f"level {i}" for i, n in enumerate(names)]
        frame = frame.rename_axis(names).reset_index()
    out = frame.copy()
    out.columns = [_flat(c) for c in frame.columns]
    return out.reset_index(drop=True)


def _numbers(values: pd.Series) -> np.ndarray:
    """Float values of a numeric column, NaN where missing."""
    return values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _within_unit_interval(values: pd.Series) -> bool:
    if not is_numeric_dtype(values.dtype) or is_bool_dtype(values.dtype):
        return False
    finite = _numbers(values)
    finite = finite[np.isfinite(finite)]
    return bool(((finite >= 0) & (finite <= 1)).all())


def _unit_of(column: str, frame: pd.DataFrame, units: Mapping[str, str]) -> str:
    """Explicit unit, the unit of the column's base (for CI ends and SE), or the guessed one."""
    if column in units:
        return units[column]
    base = next((column[: -len(s)] for s in _COMPANIONS if column.endswith(s)), None)
    if base and base in units:
        return units[base]
    guess = infer_unit(column) or (infer_unit(base) if base else "")
    if guess == "fraction" and not _within_unit_interval(frame[column]):
        return ""
    return guess


def _percent_or_fraction(units: dict[str, str], percent: bool | None) -> dict[str, float]:
    """Rewrite `units` so shares are all percent or all fractions; return the factors to apply.

    Percent when ``percent=True``, or by default when the table already holds % or pp columns;
    fractions when ``percent=False``.
    """
    to_percent = any(u in ("%", "pp") for u in units.values()) if percent is None else percent
    factors = {}
    for column, unit in units.items():
        if to_percent and unit == "fraction":
            units[column], factors[column] = "%", 100.0
        elif percent is False and unit == "%":
            units[column], factors[column] = "fraction", 0.01
    return factors


def _decimals(values: np.ndarray, unit: str) -> int:
    """One number of decimals for a whole column of `unit`."""
    finite = values[np.isfinite(values)]
    if unit in ("", "count") or unit not in _KNOWN_UNITS:
        if finite.size == 0 or np.all(finite == np.round(finite)):
            return 0  # integers, even those pandas stored as floats
    magnitude = float(np.abs(finite).max()) if finite.size else 0.0
    return unit_decimals(unit, magnitude)


def _number_cell(value: float, unit: str, decimals: int) -> str:
    if math.isnan(value):
        return MISSING
    if unit == "p":
        return fmt(value, "p")
    if unit == "text":  # identifiers: digits as they are, no separators
        return str(int(value)) if value.is_integer() else number(value, decimals).replace(",", "")
    return number(value, decimals)


def _is_number(value: Any) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool | np.bool_ | complex)


def _cell(value: Any, unit: str, decimals: int | None) -> str:
    """One value of a mixed (object) column."""
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if _is_number(value):
        value = float(value)
        if decimals is None:
            decimals = _decimals(np.array([value]), unit)
        return _number_cell(value, unit, decimals)
    return str(value)


def _column(values: pd.Series, unit: str, decimals: int | None) -> list[str]:
    """The cells of one column, as text."""
    if is_bool_dtype(values.dtype):
        return [_cell(v, unit, decimals) for v in values]
    present = values[[not _is_missing(v) for v in values]]
    if values.dtype == object and len(present) and all(_is_number(v) for v in present):
        values = values.astype("Float64")  # numbers kept in an object column
    if is_numeric_dtype(values.dtype):
        numbers = _numbers(values)
        places = _decimals(numbers, unit) if decimals is None else decimals
        return [_number_cell(v, unit, places) for v in numbers]
    if is_datetime64_any_dtype(values.dtype):
        midnight = (values.dropna() == values.dropna().dt.normalize()).all()
        text = values.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M")
        return [MISSING if _is_missing(v) else v for v in text]
    return [_cell(v, unit, decimals) for v in values]


def _header(key: str, unit: str, labels: Mapping[str, str] | None) -> str:
    words = label(key, labels)
    if unit in _PLAIN_UNITS:
        return words
    return f"{words} ({_UNIT_LABELS.get(unit, unit)})"


def _series_rows(
    series: pd.Series, units: Mapping[str, str], labels: Mapping[str, str] | None,
    decimals: Mapping[str, int], percent: bool | None,
) -> pd.DataFrame:  # fmt: skip
    """A two-column table of a Series whose keys carry their own units (a metrics dict)."""
    keys = [_flat(k) for k in series.index]
    row_units = {}
    for key, value in zip(keys, series, strict=True):
        unit = units.get(key, infer_unit(key))
        plain_share = isinstance(value, Number) and 0 <= float(value) <= 1
        row_units[key] = "" if unit == "fraction" and not plain_share else unit
    factors = _percent_or_fraction(row_units, percent)
    cells = []
    for key, value in zip(keys, series, strict=True):
        scaled = value * factors[key] if key in factors and not _is_missing(value) else value
        cells.append(_cell(scaled, row_units[key], decimals.get(key)))
    key_header = label(series.index.name) if series.index.name is not None else "name"
    value_header = label(series.name) if series.name is not None else "value"
    rows = [_header(k, row_units[k], labels) for k in keys]
    return pd.DataFrame({key_header: rows, value_header: cells})


def _one_quantity(series: pd.Series, units: Mapping[str, str]) -> bool:
    """True for one quantity over categories (a column), False for a dict of metrics (rows).

    The Series' name gives the quantity's unit, or its index is named and no key carries a unit.
    """
    if series.name is not None:
        name = _flat(series.name)
        if name in units or infer_unit(name):
            return True
    keyed = any(_flat(k) in units or infer_unit(_flat(k)) for k in series.index)
    return series.index.name is not None and not keyed


def _as_series(data: pd.Series | pd.DataFrame) -> pd.Series | None:
    """The Series to show as name/value rows, or None to show `data` as columns."""
    if isinstance(data, pd.DataFrame):
        flat_keys = not isinstance(data.index, pd.MultiIndex)
        if data.shape[1] != 1 or not _meaningful(data.index) or not flat_keys:
            return None
        data = data.iloc[:, 0]
    return data


def _frame_columns(
    frame: pd.DataFrame, units: Mapping[str, str], labels: Mapping[str, str] | None,
    decimals: Mapping[str, int], percent: bool | None,
) -> pd.DataFrame:  # fmt: skip
    """Every column formatted with its unit; labels with the unit."""
    frame = _as_columns(frame)
    if len(set(frame.columns)) != frame.shape[1]:
        raise ValueError(f"column names repeat: {list(frame.columns)}")
    column_units = {c: _unit_of(c, frame, units) for c in frame.columns}
    factors = _percent_or_fraction(column_units, percent)
    cells = {}
    for c in frame.columns:
        values = frame[c] * factors[c] if c in factors else frame[c]
        base = next((c[: -len(s)] for s in _COMPANIONS if c.endswith(s)), None)
        places = decimals.get(c, decimals.get(base) if base else None)
        if places is None and base in frame.columns and column_units[base] == column_units[c]:
            places = _decimals(_numbers(frame[base] * factors.get(base, 1.0)), column_units[c])
        header = _header(c, column_units[c], labels)
        if header in cells:
            raise ValueError(f"two columns share the label {header!r}; pass labels=...")
        cells[header] = _column(values, column_units[c], places)
    return pd.DataFrame(cells, index=pd.RangeIndex(frame.shape[0]))


def format_table(
    data: pd.DataFrame | pd.Series, units: Mapping[str, str] | None = None, *,
    labels: Mapping[str, str] | None = None, decimals: Mapping[str, int] | None = None,
    percent: bool | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Format a table for reading and return its cells as strings.

    Parameters
    ----------
    data : DataFrame or Series
        The table. A meaningful index (named, labels, MultiIndex) becomes the first columns.
        A Series, or a one-column frame with such an index (``pd.Series(metrics).to_frame()``),
        becomes two columns, name and value. The Series' name gives the unit of all values (as
        would a named index whose keys carry no unit); otherwise each key is a metric name that
        gives its row's unit and label ("play_rate_lift_pct" -> "play rate lift (%)").
    units : mapping of column (or key) to unit, optional
        Units of `persona_lib.report.verdicts.fmt`; others are guessed from names. ``"text"``
        prints values as they are.
    labels : mapping of column (or key) to label, optional
        Labels used before `label`'s rules; the unit is added after them.
    decimals : mapping of column (or key) to int, optional
        Override the unit's decimals.
    percent : bool, optional
        Show shares as percent (True) or fractions (False). By default, fractions become percent
        when the table holds a % or pp column, so one table never mixes both.

    Returns
    -------
    DataFrame
        Labelled columns of strings, a plain row index; missing values are ``"—"``.

    Examples
    --------
    >>> frame = pd.DataFrame({"policy": ["ease", "two_stage_ranker"],
    ...                       "revenue_usd": [21_634_000.0, None], "lift_pct": [2.36, -0.5]})
    >>> format_table(frame).to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'policy': ['ease', 'two_stage_ranker'], 'revenue (USD)': ['21,634,000', '—'],
     'lift (%)': ['2.4', '-0.5']}
    >>> format_table(pd.Series({"play_rate_lift_pct": 4.26, "n_members": 20000.0})).to_dict("list")
    {'name': ['play rate lift (%)', 'members'], 'value': ['4.3', '20,000']}
    """
    units, decimals = dict(units or {}), dict(decimals or {})
    series = _as_series(data)
    if series is None:
        return _frame_columns(data, units, labels, decimals, percent)
    if _one_quantity(series, units):
        name = _flat(series.name) if series.name is not None else "value"
        column = series.rename(name).rename_axis(series.index.name or "name").reset_index()
        return _frame_columns(column, units, labels, decimals, percent)
    return _series_rows(series, units, labels, decimals, percent)


def _numeric_text(cells: pd.Series) -> bool:
    """True if every present cell is a number, so the column is right-aligned."""
    present = [c for c in cells if c != MISSING]
    return bool(present) and all(_NUMBER.fullmatch(c) for c in present)


_NUMBER = re.compile(r"(< )?[+-]?(\d[\d,]*(\.\d+)?|∞)")
_NUMBER_CSS = "text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums"


def show(
    data: pd.DataFrame | pd.Series, units: Mapping[str, str] | None = None, *,
    labels: Mapping[str, str] | None = None, decimals: Mapping[str, int] | None = None,
    percent: bool | None = None,
) -> Styler:  # fmt: skip
    """Format a table (`format_table`) and style it for a notebook cell's last line.

    The index is hidden, numbers are right-aligned and do not wrap, every string is HTML-escaped,
    the table scrolls sideways inside its own box when wider than the page, and a footnote
    ``— : not available`` is added below when a value is missing.

    Parameters
    ----------
    data, units, labels, decimals, percent
        As in `format_table`.

    Returns
    -------
    pandas.io.formats.style.Styler
        Renders as HTML in JupyterLab and in nbconvert's export (``.to_html()``).

    Examples
    --------
    >>> html = show(pd.DataFrame({"auc": [0.61712, None]})).to_html()
    >>> "0.617" in html, "— : not available" in html, "nan" in html.lower()
    (True, True, False)
    """
    text = format_table(data, units, labels=labels, decimals=decimals, percent=percent)
    numeric = [c for c in text.columns if _numeric_text(text[c])]
    digest = hashlib.sha1(text.to_json().encode("utf-8")).hexdigest()[:10]
    styler = text.style.set_uuid(f"persona-{digest}").hide(axis="index")
    styler = styler.format(escape="html").format_index(escape="html", axis=1)
    styler.set_table_attributes(f'class="persona-table" style="{_SCROLL_BOX}"')
    styler.set_table_styles(
        [{"selector": "caption", "props": "caption-side: bottom; text-align: left"}]
    )
    right = [
        {"selector": "th", "props": "text-align: right"},
        {"selector": "td", "props": _NUMBER_CSS},
    ]
    styler.set_table_styles({c: right for c in numeric}, overwrite=False)
    left = [{"selector": s, "props": "text-align: left"} for s in ("th", "td")]
    others = [c for c in text.columns if c not in numeric]
    styler.set_table_styles({c: left for c in others}, overwrite=False)
    if (text == MISSING).to_numpy().any():
        styler.set_caption(FOOTNOTE)
    return styler

"""What a chart helper accepts and how its values read: the checks behind `charts`.

Frames must be aggregated (at most `MAX_ROWS` rows), name existing columns and come with a title
and axis titles; quantitative axes name their unit. Text values of the charted columns are shown
as words through `persona_lib.report.labels.label`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import altair as alt
import pandas as pd

from persona_lib.report.labels import label as words

__all__ = ["HEIGHT", "MAX_ROWS", "WIDTH", "channel", "check", "field_type", "legend",
           "readable_sort", "require_unit", "tooltip"]  # fmt: skip

MAX_ROWS = 5_000
WIDTH = 480
HEIGHT = 300
_UNIT = re.compile(r"\(.+\)|\[.+\]")


def legend(color: str | None, color_title: str | None) -> str | None:
    """The legend title: `color_title` when given (even ""), else the column's name."""
    return color_title if color_title is not None else color


def field_type(frame: pd.DataFrame, column: str, numeric_as: str = "quantitative") -> str:
    """Return the Vega-Lite type of a column from its dtype."""
    dtype = frame[column].dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "nominal"
    if pd.api.types.is_numeric_dtype(dtype):
        return numeric_as
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "temporal"
    return "nominal"


def check(
    frame: pd.DataFrame, columns: Sequence[str | None], title: str, axis_titles: dict[str, str]
) -> pd.DataFrame:
    """Refuse unaggregated frames, unknown columns and missing titles, with a clear message.

    Returns the frame with the text values of `columns` in words (`_readable`).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) > MAX_ROWS:
        raise ValueError(
            f"chart {title!r} got {len(frame):,} rows; aggregate to at most {MAX_ROWS:,} rows "
            "before charting (e.g. frame.groupby(...).agg(...))"
        )
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        raise KeyError(f"chart {title!r}: columns {missing} not in frame {list(frame.columns)}")
    for role, text in {"title": title, **axis_titles}.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"chart needs a non-empty {role}, got {text!r}")
    return _readable(frame, [c for c in columns if c is not None])


def _is_text(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return all(isinstance(v, str) for v in values.cat.categories)
    if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        return all(isinstance(v, str) for v in values.dropna())
    return False


def _readable(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of `frame` whose text columns among `columns` read as words (`label`)."""
    text = [c for c in dict.fromkeys(columns) if _is_text(frame[c])]
    if not text:
        return frame
    out = frame.copy()
    for column in text:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            out[column] = values.cat.rename_categories(lambda v: words(v))
        else:
            out[column] = values.map(lambda v: words(v) if isinstance(v, str) else v)
    return out


def readable_sort(sort):
    """A list of categories in words, as `_readable` shows them; other sorts unchanged."""
    if isinstance(sort, list | tuple):
        return [words(v) if isinstance(v, str) else v for v in sort]
    return sort


def require_unit(axis: str, text: str, kind: str) -> None:
    """Quantitative axes must state their unit: '(%)', '(users)', '[USD]'."""
    if kind == "quantitative" and not _UNIT.search(text):
        raise ValueError(
            f"{axis} {text!r} is quantitative and needs a unit in parentheses, e.g. 'Play rate (%)'"
        )


def channel(frame: pd.DataFrame, column: str, title: str, numeric_as: str = "quantitative"):
    """Keyword arguments of an encoding channel: field, type and title, with the unit check."""
    kind = field_type(frame, column, numeric_as)
    require_unit(f"axis title for {column!r}", title, kind)
    return {"field": column, "type": kind, "title": title}


def tooltip(frame: pd.DataFrame, pairs: Sequence[tuple[str | None, str | None]]) -> list:
    """Tooltip entries for the non-empty (column, title) pairs."""
    return [
        alt.Tooltip(column, type=field_type(frame, column), title=title)
        for column, title in pairs
        if column is not None
    ]

"""How a schema problem is reported: where it was found and the one-line `SchemaError` text.

`validate` and the column coercers share these, so every message has the same shape (see
`SchemaError`): values quoted the same way and at most `MAX_ROWS_SHOWN` row labels or
distinct offending values listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


class SchemaError(ValueError):
    """A frame does not match its canonical table.

    The message is one line: ``<source>: table '<t>', column '<c>': <problem> in rows
    [<up to five index labels>, ...] (<n> rows)[; <hint>]`` ("(1 row)" for a single row).
    """


MAX_ROWS_SHOWN = 5  # row labels (and distinct offending values) quoted in an error message


@dataclass(frozen=True)
class Where:
    """Where a problem was found: the source, the table and the input frame's row labels."""

    source: str
    table: str
    index: pd.Index

    def fail(self, columns: str | tuple[str, ...], problem: str, rows=None, hint: str = ""):
        """Raise a `SchemaError`; `rows` is a boolean mask over the input frame's positions."""
        names = (columns,) if isinstance(columns, str) else tuple(columns)
        label = "column" if len(names) == 1 else "columns"
        text = f"{self.source}: table '{self.table}', {label} {quoted(names)}: {problem}"
        if rows is not None:
            text += f" in {_rows_text(self.index[np.asarray(rows, dtype=bool)])}"
        raise SchemaError(text + (f"; {hint}" if hint else ""))


def show(value: object) -> str:
    """One value as it appears in a message: strings quoted, whole floats without '.0'."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quoted(names) -> str:
    """Names as a message lists them: ``'a', 'b'``."""
    return ", ".join(f"'{n}'" for n in names)


def _rows_text(labels: pd.Index) -> str:
    shown = ", ".join(show(v) for v in labels[:MAX_ROWS_SHOWN].tolist())
    more = ", ..." if len(labels) > MAX_ROWS_SHOWN else ""
    return f"rows [{shown}{more}] ({len(labels)} row{'s' if len(labels) != 1 else ''})"


def values_text(values) -> str:
    """Up to MAX_ROWS_SHOWN distinct values, in order of first appearance."""
    distinct = pd.unique(pd.Series(np.asarray(values, dtype=object)))
    shown = ", ".join(show(v) for v in distinct[:MAX_ROWS_SHOWN].tolist())
    return shown + (", ..." if len(distinct) > MAX_ROWS_SHOWN else "")


def number_text(x: float) -> str:
    """A bound as a message shows it: ``0``, ``1900``, ``0.5``."""
    return show(float(x))

"""Numbers as reports print them: fixed decimals per unit, thousands separators, M/B for large
money, intervals with one shared scale, and never scientific notation or "nan".

Units understood by `fmt`: ``"pp"`` (percentage points, 2 decimals), ``"%"`` (1 decimal),
``"USD"`` (0 or 2 decimals, ``M``/``B`` above a million), ``"count"`` (integer), ``"hours"``
(1 decimal), ``"x"`` (a ratio, 2 decimals), ``"auc"`` and ``"fraction"`` (3 decimals), ``"p"`` (a
p-value: 3 decimals, ``< 0.001`` below), ``""`` (3 significant digits); any other string is printed
after a plain number (``"clicks / 1k"``). `verdicts` builds its sentences from these.
"""

from __future__ import annotations

import math
from typing import Any

from pandas import isna

__all__ = [
    "DIFF_UNIT",
    "FIXED_UNITS",
    "NOT_AVAILABLE",
    "check_interval",
    "fmt",
    "fmt_interval",
    "fmt_range",
    "is_missing",
    "level_label",
    "number",
    "significant_decimals",
    "unit_decimals",
    "unit_style",
    "with_interval",
]

NOT_AVAILABLE = "not available"

# unit -> (decimals, suffix printed after the number)
FIXED_UNITS = {
    "pp": (2, " pp"),
    "%": (1, " %"),
    "hours": (1, " hours"),
    "x": (2, "×"),
    "auc": (3, ""),
    "fraction": (3, ""),
    "p": (3, ""),
    "count": (0, ""),
}
MAX_DECIMALS = 12
# a difference of two percentages is in percentage points
DIFF_UNIT = {"%": "pp"}


def is_missing(*values: Any) -> bool:
    """True if any value is None, NaN or ``pd.NA``."""
    return any(isna(v) for v in values)


def significant_decimals(magnitude: float, digits: int = 3) -> int:
    """Decimals that show `digits` significant digits of a number of this magnitude.

    Parameters
    ----------
    magnitude : float
        Absolute size of the number (or the largest of a column); 0 gives 0 decimals.
    digits : int
        Significant digits wanted.

    Returns
    -------
    int
        Between 0 and 12: never scientific notation, never more than 12 decimals.

    Examples
    --------
    >>> significant_decimals(0.0123), significant_decimals(4.56), significant_decimals(12_345)
    (4, 2, 0)
    """
    if not magnitude or not math.isfinite(magnitude):
        return 0
    return min(max(digits - 1 - math.floor(math.log10(abs(magnitude))), 0), MAX_DECIMALS)


def unit_decimals(unit: str, magnitude: float) -> int:
    """Decimals of `unit` for numbers up to `magnitude`, printed in full (no ``M``/``B``).

    Parameters
    ----------
    unit : str
        As in `fmt`.
    magnitude : float
        The largest absolute value to print (a column's, in a table).

    Returns
    -------
    int

    Examples
    --------
    >>> unit_decimals("pp", 12.0), unit_decimals("USD", 99.5), unit_decimals("USD", 1280.0)
    (2, 2, 0)
    """
    if unit == "USD":
        return 2 if magnitude < 100 else 0
    if unit in FIXED_UNITS:
        return FIXED_UNITS[unit][0]
    return significant_decimals(magnitude)


def unit_style(unit: str, magnitude: float, decimals: int | None) -> tuple[int, float, str]:
    """Decimals, divisor and suffix for numbers of `unit` around `magnitude`."""
    if unit == "USD":
        for divisor, suffix in ((1e9, " B USD"), (1e6, " M USD")):
            if round(magnitude / divisor, 1) >= 1:
                return (1 if decimals is None else decimals), divisor, suffix
    places = unit_decimals(unit, magnitude) if decimals is None else decimals
    suffix = FIXED_UNITS[unit][1] if unit in FIXED_UNITS else f" {unit}" if unit else ""
    return places, 1.0, suffix


def number(value: float, decimals: int, *, signed: bool = False) -> str:
    """`value` with thousands separators and fixed decimals; never ``-0`` or scientific notation.

    Parameters
    ----------
    value : float
        The number; infinities print as ``∞``.
    decimals : int
        Digits after the point.
    signed : bool
        Print ``+`` before positive numbers (a difference). Zero has no sign.

    Returns
    -------
    str

    Examples
    --------
    >>> number(1234567.891, 2), number(-0.0004, 2), number(2.5, 1, signed=True)
    ('1,234,567.89', '0.00', '+2.5')
    """
    if math.isinf(value):
        return ("+∞" if signed else "∞") if value > 0 else "-∞"
    text = f"{value:,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return text.lstrip("-")
    return f"+{text}" if signed and value > 0 else text


def p_value_text(value: float) -> str:
    return "< 0.001" if value < 0.0005 else number(value, 3)


def fmt(
    value: float | None, unit: str = "", *, signed: bool = False, decimals: int | None = None
) -> str:
    """Format one number with its unit the way every sentence and table prints it.

    Parameters
    ----------
    value : float or None
        The number; None or NaN gives ``"not available"``.
    unit : str
        One of the units in the module docstring, or any other text printed after the number.
    signed : bool
        Print ``+`` before positive values (differences, lifts).
    decimals : int, optional
        Override the unit's decimals.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt(2.6, "pp", signed=True), fmt(12.345, "%"), fmt(1280, "USD", signed=True)
    ('+2.60 pp', '12.3 %', '+1,280 USD')
    >>> fmt(21_634_000, "USD"), fmt(1.23e9, "USD"), fmt(14_000_000, "count")
    ('21.6 M USD', '1.2 B USD', '14,000,000')
    >>> fmt(0.61712, "auc"), fmt(1.346, "x"), fmt(0.0000123), fmt(float("nan"), "pp")
    ('0.617', '1.35×', '0.0000123', 'not available')
    >>> fmt(0.0001, "p"), fmt(3.5, "clicks / 1k")
    ('< 0.001', '3.50 clicks / 1k')
    """
    if is_missing(value):
        return NOT_AVAILABLE
    value = float(value)
    if unit == "p" and decimals is None:
        return p_value_text(value)
    places, divisor, suffix = unit_style(unit, abs(value), decimals)
    return number(value / divisor, places, signed=signed) + suffix


def fmt_range(
    values: tuple[float, ...], unit: str, signed: bool, spread: float = 0.0
) -> tuple[list[str], str]:
    """Numbers printed with one scale and one number of decimals, and the shared suffix.

    Without a fixed number of decimals for the unit, a positive `spread` (an interval's width)
    sets them to two significant digits of the width, so the interval's ends stay distinct.
    """
    magnitude = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    places, divisor, suffix = unit_style(unit, magnitude, None)
    if unit not in FIXED_UNITS and unit != "USD" and math.isfinite(spread) and spread > 0:
        places = significant_decimals(spread, 2)
    return [number(v / divisor, places, signed=signed) for v in values], suffix


def with_interval(
    point: float, low: float, high: float, unit: str, signed: bool, level: float,
    paren: bool = True,
) -> str:  # fmt: skip
    """``"+2.60 pp (95 % CI +1.30 to +3.90 pp)"``, or ``"+2.60 pp, 95 % CI ..."`` without paren."""
    if is_missing(low, high):
        return f"{fmt(point, unit, signed=signed)}, interval {NOT_AVAILABLE}"
    (p, lo, hi), suffix = fmt_range((point, low, high), unit, signed, high - low)
    interval = f"{level_label(level)} {lo} to {hi}{suffix}"
    return f"{p}{suffix} ({interval})" if paren else f"{p}{suffix}, {interval}"


def level_label(level: float) -> str:
    return f"{number(level, 0 if float(level).is_integer() else 1)} % CI"


def check_interval(low: float | None, high: float | None) -> None:
    if not is_missing(low, high) and low > high:
        raise ValueError(f"the interval is reversed: ci_low {low!r} is above ci_high {high!r}")


def fmt_interval(
    low: float | None, high: float | None, unit: str = "", *, signed: bool = False,
    level: float = 95,
) -> str:  # fmt: skip
    """Format a confidence interval: ``"95 % CI 1.30 to 3.90 pp"``.

    Both ends share one scale and one number of decimals, and the unit is printed once.

    Parameters
    ----------
    low, high : float or None
        Ends of the interval, ``low <= high``; a missing end gives ``"... CI not available"``.
    unit : str
        As in `fmt`.
    signed : bool
        Print ``+`` before positive ends (intervals of differences).
    level : float
        Confidence level in percent.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``low > high``.

    Examples
    --------
    >>> fmt_interval(1.3, 3.9, "pp")
    '95 % CI 1.30 to 3.90 pp'
    >>> fmt_interval(-900_000, 2_100_000, "USD", signed=True, level=90)
    '90 % CI -0.9 to +2.1 M USD'
    """
    check_interval(low, high)
    if is_missing(low, high):
        return f"{level_label(level)} {NOT_AVAILABLE}"
    (lo, hi), suffix = fmt_range((float(low), float(high)), unit, signed, high - low)
    return f"{level_label(level)} {lo} to {hi}{suffix}"

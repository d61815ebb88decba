"""Conclusion sentences computed from estimates and their intervals.

A notebook never writes a verdict by hand: it passes its numbers here and prints the sentence.
"A beats B" appears only when the paired interval of the difference excludes zero, otherwise "no
detectable difference"; names are keys (the `Verdict`'s winner), printed through
`persona_lib.report.labels.label` ("page_ease" reads "EASE page"); a model's score is stated as
its share of the way from chance to the ceiling, not as a ratio of raw scores; missing numbers
say "not available" instead of "nan". Every number goes through `fmt`, so sentences share fixed
decimals per unit, thousands separators and never use scientific notation.

Units understood by `fmt`: ``"pp"`` (percentage points, 2 decimals), ``"%"`` (1 decimal),
``"USD"`` (0 or 2 decimals, ``M``/``B`` above a million), ``"count"`` (integer), ``"hours"``
(1 decimal), ``"x"`` (a ratio, 2 decimals), ``"auc"`` and ``"fraction"`` (3 decimals), ``"p"`` (a
p-value: 3 decimals, ``< 0.001`` below), ``""`` (3 significant digits); any other string is printed
after a plain number (``"clicks / 1k"``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

from persona_lib.report.labels import label
from persona_lib.report.numbers import (
    NOT_AVAILABLE,
    check_interval,
    fmt,
    is_missing,
    number,
    with_interval,
)

__all__ = [
    "Verdict",
    "compare",
    "estimate_sentence",
    "lead_text",
    "share_above_chance",
    "share_of_ceiling",
    "side_of_zero",
]


def side_of_zero(low: float, high: float) -> int:
    """+1 if the interval lies above zero, -1 if below, 0 if it includes zero."""
    return 1 if low > 0 else -1 if high < 0 else 0


@dataclass(frozen=True)
class Verdict:
    """A computed conclusion: its sentence and who, if anyone, wins.

    Attributes
    ----------
    text : str
        The sentence to print.
    winner : str or None
        The name that wins; None when no interval excludes zero or numbers are missing.
    significant : bool
        True exactly when there is a winner: the interval excludes zero.
    """

    text: str
    winner: str | None = None
    significant: bool = False

    def __post_init__(self) -> None:
        if self.significant != (self.winner is not None):
            raise ValueError("a Verdict has a winner exactly when it is significant")

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields."""
        return asdict(self)


def lead_text(
    gain: tuple[float, float, float], unit: str, higher_is_better: bool, level: float
) -> str:
    """``" by +2.60 pp (95 % CI ...)"``: the winner's advantage, given as winner minus loser.

    For a lower-is-better metric the advantage is stated as a positive "lower by".
    """
    diff, low, high = gain if higher_is_better else (-gain[0], -gain[2], -gain[1])
    word = " by" if higher_is_better else ", lower by"
    return f"{word} {with_interval(diff, low, high, unit, higher_is_better, level)}"


def compare(
    name_a: str, name_b: str, diff: float | None, ci_low: float | None, ci_high: float | None,
    unit: str = "", *, metric: str, higher_is_better: bool = True, level: float = 95,
) -> Verdict:  # fmt: skip
    """Say whether A beats B, B beats A, or neither, from the paired interval of A minus B.

    A winner is named only when the interval excludes zero. With ``higher_is_better=False``
    (churn, error) the side below zero wins and the lead is stated as "lower by".

    Parameters
    ----------
    name_a, name_b : str
        The two arms, policies or models.
    diff, ci_low, ci_high : float or None
        A minus B and its paired interval, in `unit`.
    unit : str
        As in `fmt`.
    metric : str
        What is compared, as it reads in a sentence ("play rate").
    higher_is_better : bool
        Direction of the metric.
    level : float
        Confidence level in percent.

    Returns
    -------
    Verdict

    Raises
    ------
    ValueError
        If the interval is reversed or the names are equal.

    Examples
    --------
    >>> print(compare("A", "B", 2.6, 1.3, 3.9, "pp", metric="play rate"))
    A beats B on play rate by +2.60 pp (95 % CI +1.30 to +3.90 pp).
    >>> compare("A", "B", 0.4, -0.5, 1.3, "pp", metric="play rate").winner is None
    True
    >>> print(compare("A", "B", 0.8, 0.4, 1.2, "pp", metric="churn", higher_is_better=False))
    B beats A on churn, lower by 0.80 pp (95 % CI 0.40 to 1.20 pp).
    """
    check_interval(ci_low, ci_high)
    if name_a == name_b:
        raise ValueError(f"compare needs two different names, got {name_a!r} twice")
    if is_missing(diff, ci_low, ci_high):
        return Verdict(
            f"{label(name_a)} against {label(name_b)} on {metric}: {NOT_AVAILABLE} "
            "(the difference or its interval is missing)."
        )
    diff, ci_low, ci_high = float(diff), float(ci_low), float(ci_high)
    side = side_of_zero(ci_low, ci_high)
    shown_a, shown_b = label(name_a), label(name_b)
    if side == 0:
        both = with_interval(diff, ci_low, ci_high, unit, True, level, paren=False)
        return Verdict(
            f"No detectable difference between {shown_a} and {shown_b} on {metric} "
            f"({shown_a} minus {shown_b} {both})."
        )
    a_wins = (side > 0) == higher_is_better
    winner = name_a if a_wins else name_b
    shown = (shown_a, shown_b) if a_wins else (shown_b, shown_a)
    gain = (diff, ci_low, ci_high) if a_wins else (-diff, -ci_high, -ci_low)
    lead = lead_text(gain, unit, higher_is_better, level)
    return Verdict(f"{shown[0]} beats {shown[1]} on {metric}{lead}.", winner, True)


def _truth_clause(
    estimate: float, low: float | None, high: float | None, truth: float, unit: str,
    signed: bool, truth_name: str, level: float,
) -> str:  # fmt: skip
    """Where the known true value lies relative to the interval (with z when outside)."""
    value = fmt(truth, unit, signed=signed)
    if is_missing(low, high):
        return f"{truth_name} is {value}"
    if low <= truth <= high:
        return f"{truth_name}, {value}, lies inside the interval"
    se = (high - low) / (2 * NormalDist().inv_cdf(0.5 + level / 200))
    z = f" (z = {number((estimate - truth) / se, 1)})" if se > 0 else ""
    return f"{truth_name}, {value}, lies outside the interval{z}"


def estimate_sentence(
    name: str, estimate: float | None, ci_low: float | None, ci_high: float | None,
    unit: str = "", *, truth: float | None = None, null: float | None = 0.0,
    signed: bool = True, level: float = 95, truth_name: str = "the simulator's true value",
) -> str:  # fmt: skip
    """State an estimate with its interval, whether it can be told from `null`, and the truth.

    Parameters
    ----------
    name : str
        What is estimated ("Effect of a push on visits").
    estimate, ci_low, ci_high : float or None
        The estimate and its interval, in `unit`.
    unit : str
        As in `fmt`.
    truth : float, optional
        The known true value (the simulator's); the sentence says whether the interval holds it,
        with ``z = (estimate - truth) / se`` when it does not, ``se`` read off the interval width.
    null : float or None
        The value the interval is checked against (0 for a difference); None for no check.
    signed : bool
        Print ``+`` before positive numbers (True for differences).
    level : float
        Confidence level in percent.
    truth_name : str
        How the truth is called in the sentence.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the interval is reversed.

    Examples
    --------
    >>> estimate_sentence("Push effect", 0.44, 0.08, 0.80, "pp")
    'Push effect: +0.44 pp (95 % CI +0.08 to +0.80 pp); the interval excludes zero.'
    >>> estimate_sentence("Push effect", 0.44, -0.1, 0.98, "pp", truth=0.35)
    "Push effect: +0.44 pp (95 % CI -0.10 to +0.98 pp); it cannot be told from zero; the \
simulator's true value, +0.35 pp, lies inside the interval."
    """
    check_interval(ci_low, ci_high)
    if is_missing(estimate):
        return f"{name}: {NOT_AVAILABLE} (no estimate)."
    estimate = float(estimate)
    if is_missing(ci_low, ci_high):
        clauses = [f"{name}: {fmt(estimate, unit, signed=signed)} (interval {NOT_AVAILABLE})"]
    else:
        clauses = [f"{name}: {with_interval(estimate, ci_low, ci_high, unit, signed, level)}"]
        if null is not None:
            what = "zero" if null == 0 else fmt(null, unit, signed=signed)
            outside = ci_low > null or ci_high < null
            verdict = "the interval excludes" if outside else "it cannot be told from"
            clauses.append(f"{verdict} {what}")
    if not is_missing(truth):
        clauses.append(
            _truth_clause(estimate, ci_low, ci_high, float(truth), unit, signed, truth_name, level)
        )
    return "; ".join(clauses) + "."


def share_above_chance(model: float, ceiling: float, chance: float = 0.5) -> float:
    """Fraction of the way from chance to the ceiling: ``(model - chance) / (ceiling - chance)``.

    Parameters
    ----------
    model : float
        The model's score (ROC AUC).
    ceiling : float
        The best attainable score (the AUC of the simulator's true probabilities).
    chance : float
        The score of guessing (0.5 for ROC AUC).

    Returns
    -------
    float
        0 at chance, 1 at the ceiling; NaN if a score is missing.

    Raises
    ------
    ValueError
        If the ceiling is not above chance.

    Examples
    --------
    >>> round(share_above_chance(0.617, 0.698), 4)
    0.5909
    """
    if is_missing(model, ceiling, chance):
        return math.nan
    if ceiling <= chance:
        raise ValueError(f"the ceiling ({ceiling!r}) must be above chance ({chance!r})")
    return (model - chance) / (ceiling - chance)


def share_of_ceiling(
    model: float | None, ceiling: float | None, chance: float = 0.5, *, name: str = "ROC AUC",
    ceiling_name: str = "the simulator's ceiling", unit: str = "auc",
) -> str:  # fmt: skip
    """Say how far a score goes from chance to the ceiling, showing the arithmetic.

    A raw ratio of scores (0.617 / 0.698 = 88 %) overstates a model because chance already scores
    0.5; the share above chance is the honest figure.

    Parameters
    ----------
    model, ceiling : float or None
        The model's score and the best attainable one.
    chance : float
        The score of guessing.
    name : str
        The score's name.
    ceiling_name : str
        How the ceiling is called.
    unit : str
        How scores print (`fmt`).

    Returns
    -------
    str

    Examples
    --------
    >>> share_of_ceiling(0.617, 0.698)
    "ROC AUC: (0.617 - 0.500) / (0.698 - 0.500) = 59 % of the way from chance to the \
simulator's ceiling."
    """
    share = share_above_chance(model, ceiling, chance)
    if math.isnan(share):
        return f"{name}, share of the way from chance to {ceiling_name}: {NOT_AVAILABLE}."
    m, c, k = (fmt(v, unit) for v in (model, ceiling, chance))
    where = " (below chance)" if share < 0 else " (beyond the ceiling)" if share > 1 else ""
    return (
        f"{name}: ({m} - {k}) / ({c} - {k}) = {fmt(100 * share, '%', decimals=0)} "
        f"of the way from chance to {ceiling_name}{where}."
    )

"""Ranking sentences: name the best entry only when its paired intervals say so.

The ranking counterpart of `persona_lib.report.verdicts.compare`: `rank_sentence` lists entries
by a metric and names a leader only when every paired interval of the leader against the others
excludes zero; otherwise it names the entries that cannot be told apart from it.
"""

from __future__ import annotations

from collections.abc import Mapping

from persona_lib.report.labels import label
from persona_lib.report.numbers import (
    DIFF_UNIT,
    NOT_AVAILABLE,
    check_interval,
    fmt,
    fmt_range,
    is_missing,
    level_label,
    with_interval,
)
from persona_lib.report.verdicts import Verdict, lead_text, side_of_zero

__all__ = ["rank_sentence"]


def _order(values: Mapping[str, float | None], higher_is_better: bool) -> list[str]:
    present = [k for k, v in values.items() if not is_missing(v)]
    return sorted(present, key=lambda k: values[k], reverse=higher_is_better)


def _listing(names: list[str], values: Mapping[str, float], unit: str) -> str:
    """``"A 0.412, B 0.398 and C 0.301"`` with one number of decimals for all."""
    numbers, suffix = fmt_range(tuple(values[n] for n in names), unit, signed=False)
    items = [f"{label(n)} {v}{suffix}" for n, v in zip(names, numbers, strict=True)]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def rank_sentence(
    values: Mapping[str, float | None], unit: str = "", *, metric: str,
    gaps: Mapping[str, tuple[float, float]] | None = None, higher_is_better: bool = True,
    level: float = 95,
) -> Verdict:  # fmt: skip
    """Name the best entry only when its paired intervals against the others exclude zero.

    Parameters
    ----------
    values : mapping of str to float
        Each entry's value; missing ones are listed as not available.
    unit : str
        As in `fmt`.
    metric : str
        The metric's name in a sentence ("nDCG@10").
    gaps : mapping of str to (low, high), optional
        For entries other than the leader (the best value), the paired interval of the leader
        minus that entry, in the unit of a difference (pp when `unit` is ``"%"``); it must hold
        the runner-up. Entries without a gap are not compared; the point difference is read from
        `values`. Without gaps no winner is named.
    higher_is_better : bool
        Direction of the metric.
    level : float
        Confidence level in percent.

    Returns
    -------
    Verdict
        The leader wins when every given gap excludes zero; otherwise the sentence names the
        entries that cannot be told apart from it.

    Raises
    ------
    ValueError
        If `values` is empty, gaps hold the leader or miss the runner-up, an interval is
        reversed, or an interval says an entry beats the leader (a sign error).

    Examples
    --------
    >>> ndcg = {"EASE": 0.412, "ALS": 0.398, "popularity": 0.301}
    >>> print(rank_sentence(ndcg, metric="nDCG@10", gaps={"ALS": (0.004, 0.024)}))
    EASE ranks first on nDCG@10 with 0.412, ahead of the runner-up ALS (0.398) by +0.014 \
(95 % CI +0.004 to +0.024).
    >>> print(rank_sentence(ndcg, metric="nDCG@10", gaps={"ALS": (-0.003, 0.031)}))
    The top 2 on nDCG@10 cannot be told apart: EASE 0.412 and ALS 0.398 (EASE minus ALS \
+0.014, 95 % CI -0.003 to +0.031).
    """
    if not values:
        raise ValueError("rank_sentence needs at least one value")
    order = _order(values, higher_is_better)
    absent = [k for k in values if k not in order]
    note = f"; {NOT_AVAILABLE}: {', '.join(map(label, absent))}" if absent else ""
    if not order:
        return Verdict(f"{metric}: {NOT_AVAILABLE} for any entry.")
    if len(order) == 1:
        return Verdict(f"Only {_listing(order, values, unit)} has a value of {metric}{note}.")
    if gaps is None:
        direction = "higher" if higher_is_better else "lower"
        return Verdict(
            f"Ordered by {metric} ({direction} is better): {_listing(order, values, unit)}; "
            f"without paired intervals no winner is named{note}."
        )
    tied = _tied(order, gaps, higher_is_better)
    if len(tied) == 1:
        return _leader_verdict(order, values, gaps, unit, metric, higher_is_better, level, note)
    return Verdict(_tie_text(order, tied, values, gaps, unit, metric, level) + note + ".")


def _tied(order: list[str], gaps: Mapping[str, tuple[float, float]], higher: bool) -> list[str]:
    """The leader and every entry whose gap to it does not exclude zero in its favour."""
    leader, runner_up = order[0], order[1]
    if leader in gaps:
        raise ValueError(f"gaps are the leader minus each other entry; got one for {leader!r}")
    if runner_up not in gaps:
        raise ValueError(f"gaps must hold the runner-up {runner_up!r}")
    tied = [leader]
    for name in order[1:]:
        if name not in gaps:
            continue
        low, high = gaps[name]
        check_interval(low, high)
        side = 0 if is_missing(low, high) else side_of_zero(low, high)
        if side == (-1 if higher else 1):
            raise ValueError(
                f"the gap for {name!r} says it beats the leader {leader!r}: gaps must be the "
                "leader minus each entry"
            )
        if side == 0:
            tied.append(name)
    return tied


def _leader_verdict(
    order: list[str], values: Mapping[str, float], gaps: Mapping[str, tuple[float, float]],
    unit: str, metric: str, higher: bool, level: float, note: str,
) -> Verdict:  # fmt: skip
    leader, runner_up = order[0], order[1]
    diff = values[leader] - values[runner_up]
    lead = lead_text((diff, *gaps[runner_up]), DIFF_UNIT.get(unit, unit), higher, level)
    text = (
        f"{label(leader)} ranks first on {metric} with {fmt(values[leader], unit)}, ahead of "
        f"the runner-up {label(runner_up)} ({fmt(values[runner_up], unit)}){lead}{note}."
    )
    return Verdict(text, leader, True)


def _tie_text(
    order: list[str], tied: list[str], values: Mapping[str, float],
    gaps: Mapping[str, tuple[float, float]], unit: str, metric: str, level: float,
) -> str:  # fmt: skip
    leader = order[0]
    if tied == order[: len(tied)]:
        head = f"The top {len(tied)} on {metric} cannot be told apart"
    else:
        names = [label(name) for name in tied]
        head = f"{', '.join(names[:-1])} and {names[-1]} cannot be told apart on {metric}"
    if len(tied) > 2:
        return (
            f"{head}: {_listing(tied, values, unit)}; none of their paired {level_label(level)}s "
            f"against {label(leader)} excludes zero"
        )
    other = tied[1]
    diff = values[leader] - values[other]
    both = with_interval(diff, *gaps[other], DIFF_UNIT.get(unit, unit), True, level, False)
    return f"{head}: {_listing(tied, values, unit)} ({label(leader)} minus {label(other)} {both})"

"""Online comparison of serving policies on one simulated world (common random numbers).

Every policy runs on the same members, sessions and coins (`persona_lib.sim.simulate` draws
all outcomes from keyed hashes), so the difference between two policies is measured on paired
members. Each metric is a ratio of per-member sums, ``R = sum_u y_u / sum_u x_u`` (a mean when
``x_u = 1``), with a 95 % interval from the member-level linearization (delta method, clustered
by member)::

    l_u = (y_u - R x_u) / mean(x),   se(R) = sd(l) / sqrt(N)
    se(R_A - R_B) = sd(l_A - l_B) / sqrt(N)      (paired: the same members u)

Metrics: ``play_rate`` (sessions with a play / sessions), ``hours_per_member`` (hours watched
per member of the world), ``rec_share`` (plays started from homepage rows / plays),
``monthly_churn`` (lost renewals / renewals) and ``truth_expected_churn`` (the simulator's
probability of losing each renewal, a lower-variance view of the same quantity).

`member_outcomes` counts every member's outcomes once (over the whole log or from a start day,
as the simulated experiment of `persona_lib.experiments.simulated` needs); `member_metrics` is
its view as numerator and denominator per metric, and `linearized_interval` the interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.constants import Z95
from persona_lib.signals.subscriptions import RENEWAL_STATUSES, renewal_loss_probability
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.simulate import simulate

LOST = ("churned", "payment_failed")
PAID = ("new", "renewed", "reactivated")
# metric -> (numerator column, denominator column or None for a per-member mean) of
# `member_outcomes`
RATIOS = {
    "play_rate": ("play_sessions", "sessions"),
    "hours_per_member": ("hours", None),
    "rec_share": ("rec_plays", "plays"),
    "monthly_churn": ("lost", "renewals"),
    "truth_expected_churn": ("truth_lost", "truth_renewals"),
}
METRICS = tuple(RATIOS)
OUTCOMES = ("user_id", "sessions", "play_sessions", "hours", "renewals", "lost", "revenue",
            "pre_hours", "plays", "rec_plays", "truth_lost", "truth_renewals")  # fmt: skip


def _count(user: np.ndarray, mask: np.ndarray, n: int, weights=None) -> np.ndarray:
    """Per-member count (or sum of ``weights``) of the rows in ``mask``, as float64 (n,)."""
    w = None if weights is None else weights[mask]
    return np.bincount(user[mask], weights=w, minlength=n).astype(np.float64)


def _since(ts: pd.Series, start: np.datetime64 | None) -> np.ndarray:
    """Rows at or after ``start`` (every row when ``start`` is None)."""
    if start is None:
        return np.ones(len(ts), dtype=bool)
    return ts.to_numpy().astype("datetime64[ms]") >= start


def _event_outcomes(events: pd.DataFrame, n: int, start) -> dict[str, np.ndarray]:
    """Per-member counts from the event log (see `member_outcomes`)."""
    post = _since(events["ts"], start)
    user = events["user_id"].to_numpy()
    etype = events["event_type"].astype(str).to_numpy()
    session = events["session_id"].to_numpy()
    watch = np.nan_to_num(events["watch_s"].to_numpy(np.float64)) / 3600.0
    plays, stops = etype == "play_start", etype == "play_stop"
    first = np.zeros(len(events), bool)
    first[np.unique(session, return_index=True)[1]] = True
    first_play = np.zeros(len(events), bool)
    first_play[np.flatnonzero(plays)[np.unique(session[plays], return_index=True)[1]]] = True
    from_rows = plays & (events["row_id"].astype(str).to_numpy() != "search")
    return {
        "sessions": _count(user, first & post, n),
        "play_sessions": _count(user, first_play & post, n),
        "hours": _count(user, stops & post, n, watch),
        "plays": _count(user, plays & post, n),
        "rec_plays": _count(user, from_rows & post, n),
        "pre_hours": _count(user, stops & ~post, n, watch),
    }


def _billing_outcomes(billing: pd.DataFrame, n: int, start) -> dict[str, np.ndarray]:
    """Per-member renewals, lost renewals and revenue of the periods starting from ``start``."""
    post = _since(billing["period_start"], start)
    status = billing["status"].astype(str).to_numpy()
    user = billing["user_id"].to_numpy()
    price = billing["price"].to_numpy(np.float64)
    return {
        "renewals": _count(user, post & np.isin(status, RENEWAL_STATUSES), n),
        "lost": _count(user, post & np.isin(status, LOST), n),
        "revenue": _count(user, post & np.isin(status, PAID), n, price),
    }


def _truth_outcomes(churn_hazard: pd.DataFrame, n: int, start) -> dict[str, np.ndarray]:
    """Per-member expected lost renewals and renewals in the truth's hazard table."""
    post = _since(churn_hazard["period_start"], start)
    user = churn_hazard["user_id"].to_numpy()
    lose = renewal_loss_probability(churn_hazard["hazard"], churn_hazard["payment_failure_prob"])
    return {"truth_lost": _count(user, post, n, lose), "truth_renewals": _count(user, post, n)}


def member_outcomes(world, start_day: int | None = 0) -> pd.DataFrame:
    """Per-member outcomes of a simulated world from day ``start_day`` on.

    Events count when ``ts >= start``, billing periods and the truth's renewals when
    ``period_start >= start`` (``start`` = the world's first day + ``start_day``);
    ``start_day=None`` counts everything, including billing periods that started before the
    log (members who joined earlier).

    Parameters
    ----------
    world : a simulated `World` (its truth's ``churn_hazard`` table is read).
    start_day : first day counted, or None for the whole log.

    Returns
    -------
    DataFrame, one row per member (``user_id`` 0..n-1): ``sessions``, ``play_sessions``
    (sessions with a play), ``hours`` watched, ``renewals``, ``lost`` renewals (churned or
    payment failed), ``revenue`` (USD of paid periods: new, renewed, reactivated),
    ``pre_hours`` (hours before ``start``: the CUPED covariate; 0 when ``start_day`` is None),
    ``plays``, ``rec_plays`` (plays started from homepage rows, not search), ``truth_lost``
    (expected lost renewals, `renewal_loss_probability`) and ``truth_renewals``.

    Examples
    --------
    >>> member_outcomes(world, start_day=7)["hours"].mean()  # doctest: +SKIP
    """
    n = world.config.n_users
    start = None
    if start_day is not None:
        start = np.datetime64(world.config.start, "ms") + np.timedelta64(start_day, "D")
    columns = {
        "user_id": np.arange(n),
        **_event_outcomes(world.events, n, start),
        **_billing_outcomes(world.billing, n, start),
        **_truth_outcomes(world.truth.tables["churn_hazard"], n, start),
    }
    return pd.DataFrame({name: columns[name] for name in OUTCOMES})


def member_metrics(world) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per metric of `RATIOS`, per-member numerator and denominator arrays (length ``n_users``).

    Counts the whole log (`member_outcomes` with ``start_day=None``); a mean's denominator is
    one per member.
    """
    out = member_outcomes(world, start_day=None)
    ones = np.ones(len(out))
    return {
        metric: (out[num].to_numpy(), ones if den is None else out[den].to_numpy())
        for metric, (num, den) in RATIOS.items()
    }


def ratio_estimate(y: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """``R = sum(y) / sum(x)`` and the per-member linearization ``(y - R x) / mean(x)``."""
    total = x.sum()
    if total <= 0:
        return float("nan"), np.full(y.shape, np.nan)
    r = y.sum() / total
    return float(r), (y - r * x) / x.mean()


def linearized_interval(value: float, lin: np.ndarray | pd.Series) -> tuple[float, float]:
    """95 % normal interval of ``value`` from its per-member linearization ``lin``.

    ``se = std(lin, ddof=1) / sqrt(n)`` and ``value -+ Z95 se`` (``Z95`` = 1.95996..., the
    0.975 normal quantile); NaN bounds when ``n < 2``. With ``lin`` the terms of a mean (or of
    `ratio_estimate`, or the paired difference of two members' terms) this is the
    delta-method interval clustered by member.

    Parameters
    ----------
    value : the estimate.
    lin : (n,) ndarray or Series, one linearized term per member (its own ``std`` is used).

    Returns
    -------
    (low, high).

    Examples
    --------
    >>> low, high = linearized_interval(0.5, np.array([-1.0, 1.0, -1.0, 1.0]))
    >>> round(float(high - 0.5), 4)
    1.1316
    """
    se = lin.std(ddof=1) / np.sqrt(lin.size) if lin.size > 1 else np.nan
    return value - Z95 * se, value + Z95 * se


def paired_difference_pp(
    a: tuple[float, np.ndarray], b: tuple[float, np.ndarray], reference: tuple[float, np.ndarray]
) -> tuple[float, float, float]:
    """``100 (R_a - R_b) / R_ref`` and its 95 % interval, in points of the reference rate.

    ``a``, ``b`` and ``reference`` are `ratio_estimate` results ``(R, lin)`` on the same
    members (common random numbers), so the difference is paired: its interval is
    `linearized_interval` of ``lin_a - lin_b``, scaled like the difference.

    Examples
    --------
    >>> a = ratio_estimate(np.array([2.0, 3.0]), np.array([10.0, 10.0]))
    >>> b = ratio_estimate(np.array([1.0, 2.0]), np.array([10.0, 10.0]))
    >>> round(paired_difference_pp(a, b, b)[0], 6)  # 0.25 - 0.15 = 0.10 of a 0.15 rate
    66.666667
    """
    diff = a[0] - b[0]
    low, high = linearized_interval(diff, a[1] - b[1])
    return tuple(100 * v / reference[0] for v in (diff, low, high))


def compare_policies(config: SimulationConfig, policies: dict, baseline: str | None = None,
                     worlds: dict | None = None) -> pd.DataFrame:  # fmt: skip
    """Simulate one world under each policy and compare them member by member.

    Parameters
    ----------
    config : the world (size, days, seed); every policy sees the same members and coins.
    policies : name -> serving policy (a fresh, unused instance each).
    baseline : the name the others are compared with (default: the first).
    worlds : optional dict filled with name -> simulated `World` (for further analysis).

    Returns
    -------
    DataFrame ``policy, metric, value, ci_low, ci_high, diff, diff_ci_low, diff_ci_high,
    lift_pct`` (differences are policy minus baseline; NaN on the baseline's rows).

    Examples
    --------
    >>> compare_policies(load_preset("smoke"), {"default": PopularityGenrePolicy(),
    ...                  "als": PersonalizedPagePolicy(ALSRecommender)})  # doctest: +SKIP
    """
    if not policies:
        raise ValueError("policies must name at least one policy")
    baseline = next(iter(policies)) if baseline is None else baseline
    if baseline not in policies:
        raise ValueError(f"baseline {baseline!r} is not one of {sorted(policies)}")
    measured = {}
    for name, policy in policies.items():
        world = simulate(config, policy)
        if worlds is not None:
            worlds[name] = world
        measured[name] = member_metrics(world)
    rows = []
    for name, metrics in measured.items():
        for metric in METRICS:
            value, lin = ratio_estimate(*metrics[metric])
            low, high = linearized_interval(value, lin)
            row = {"policy": name, "metric": metric, "value": value, "ci_low": low,
                   "ci_high": high, "diff": np.nan, "diff_ci_low": np.nan,
                   "diff_ci_high": np.nan, "lift_pct": np.nan}  # fmt: skip
            if name != baseline:
                base, base_lin = ratio_estimate(*measured[baseline][metric])
                diff = value - base
                low, high = linearized_interval(diff, lin - base_lin)
                row.update(diff=diff, diff_ci_low=low, diff_ci_high=high,
                           lift_pct=100 * diff / base if base else np.nan)  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)

"""Online comparison of serving policies on one simulated world (common random numbers).

Every policy runs on the same members, sessions and coins (`persona_lib.data.simulate` draws
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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.simulate import simulate
from persona_lib.data.simulate_config import SimulationConfig

METRICS = ("play_rate", "hours_per_member", "rec_share", "monthly_churn", "truth_expected_churn")
Z95 = 1.959963984540054
LOST = ("churned", "payment_failed")
RENEWALS = ("renewed", *LOST)


def member_metrics(world) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per metric, per-member numerator and denominator arrays (length ``n_users``)."""
    n = world.config.n_users
    events = world.events
    etype = events["event_type"].astype(str).to_numpy()
    user = events["user_id"].to_numpy()

    def per_user(mask, weights=None):
        return np.bincount(user[mask], weights=None if weights is None else weights[mask],
                           minlength=n).astype(np.float64)  # fmt: skip

    session = events["session_id"].to_numpy()
    first = np.unique(session, return_index=True)[1]
    is_play = etype == "play_start"
    from_rows = is_play & (events["row_id"].astype(str).to_numpy() != "search")
    watch = events["watch_s"].to_numpy(np.float64) / 3600.0
    _, start_first = np.unique(session[is_play], return_index=True)
    billing = world.billing
    status = billing["status"].astype(str).to_numpy()
    b_user = billing["user_id"].to_numpy()
    hazard = world.truth.tables["churn_hazard"]
    fail = hazard["payment_failure_prob"].to_numpy(np.float64)
    lose = fail + (1 - fail) * hazard["hazard"].to_numpy(np.float64)
    h_user = hazard["user_id"].to_numpy()
    return {
        "play_rate": (np.bincount(user[is_play][start_first], minlength=n).astype(float),
                      np.bincount(user[first], minlength=n).astype(float)),
        "hours_per_member": (per_user(etype == "play_stop", np.nan_to_num(watch)), np.ones(n)),
        "rec_share": (per_user(from_rows), per_user(is_play)),
        "monthly_churn": (np.bincount(b_user[np.isin(status, LOST)], minlength=n).astype(float),
                          np.bincount(b_user[np.isin(status, RENEWALS)], minlength=n)
                          .astype(float)),
        "truth_expected_churn": (np.bincount(h_user, weights=lose, minlength=n),
                                 np.bincount(h_user, minlength=n).astype(float)),
    }  # fmt: skip


def ratio_estimate(y: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """``R = sum(y) / sum(x)`` and the per-member linearization ``(y - R x) / mean(x)``."""
    total = x.sum()
    if total <= 0:
        return float("nan"), np.full(y.shape, np.nan)
    r = y.sum() / total
    return float(r), (y - r * x) / x.mean()


def _interval(value: float, lin: np.ndarray) -> tuple[float, float]:
    se = lin.std(ddof=1) / np.sqrt(lin.size) if lin.size > 1 else np.nan
    return value - Z95 * se, value + Z95 * se


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
            low, high = _interval(value, lin)
            row = {"policy": name, "metric": metric, "value": value, "ci_low": low,
                   "ci_high": high, "diff": np.nan, "diff_ci_low": np.nan,
                   "diff_ci_high": np.nan, "lift_pct": np.nan}  # fmt: skip
            if name != baseline:
                base, base_lin = ratio_estimate(*measured[baseline][metric])
                diff = value - base
                low, high = _interval(diff, lin - base_lin)
                row.update(diff=diff, diff_ci_low=low, diff_ci_high=high,
                           lift_pct=100 * diff / base if base else np.nan)  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)

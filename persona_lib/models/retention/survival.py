"""Survival analysis from scratch: Kaplan-Meier, log-rank and a discrete-time hazard model.

Written here because lifelines does not install with pandas 3. Times are non-negative floats in
any unit (days, months); ``events`` is 1 for an observed event (a churn) and 0 for a censored
subject (still a member when observation stopped). At a time with both, events are counted
before censorings: a member censored at t was at risk at t.

References: Kaplan & Meier (1958); Greenwood (1926); Kalbfleisch & Prentice (2002) for the
log-log band; Brookmeyer & Crowley (1982) for the median band; Mantel (1966) for the log-rank
test. The discrete-time hazard model is in `persona_lib.models.retention.hazard`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

CI_METHODS = ("log-log", "plain")
CURVE_COLUMNS = (
    "time", "at_risk", "events", "censored", "survival", "std_err", "ci_low", "ci_high",
)  # fmt: skip


# --- input checks -----------------------------------------------------------------------------
def _positions(bad: np.ndarray) -> str:
    where = np.flatnonzero(bad)
    shown = ", ".join(str(i) for i in where[:5]) + (", ..." if where.size > 5 else "")
    return f"positions [{shown}] ({where.size} value{'s' if where.size != 1 else ''})"


def check_times(values, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        raise ValueError(f"{name}: must be finite and >= 0; bad at {_positions(bad)}")
    return x


def check_events(values, n: int, name: str = "events") -> np.ndarray:
    raw = np.asarray(values).ravel()
    if raw.size != n:
        raise ValueError(f"durations and {name}: lengths differ ({n} vs {raw.size})")
    try:
        x = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: must be 0/1 or bool, got dtype {raw.dtype}") from None
    bad = (x != 0) & (x != 1)
    if bad.any():
        raise ValueError(f"{name}: must be 0/1 or bool; bad at {_positions(bad)}")
    return x


def _check_inputs(durations, events, weights=None, entry=None):
    """Durations, 0/1 events, weights (default 1) and entry times (default 0) as float arrays."""
    t = check_times(durations, "durations")
    e = check_events(events, t.size)
    w = np.ones_like(t) if weights is None else check_times(weights, "weights")
    a = np.zeros_like(t) if entry is None else check_times(entry, "entry")
    for name, arr in (("weights", w), ("entry", a)):
        if arr.size != t.size:
            raise ValueError(f"durations and {name}: lengths differ ({t.size} vs {arr.size})")
    if (a > t).any():
        raise ValueError(f"entry: must be <= durations; bad at {_positions(a > t)}")
    return t, e, w, a


# --- the curve --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SurvivalCurve:
    """A Kaplan-Meier curve: a right-continuous step function S(t) with its pointwise band.

    Arrays share one length: ``time`` (0, then each distinct time with an event or a
    censoring), ``at_risk`` n_i, ``events`` d_i, ``censored`` c_i, ``survival`` S(t_i),
    ``std_err`` (Greenwood standard error of S), ``ci_low`` / ``ci_high`` (level 1 - alpha).
    """

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    survival: np.ndarray
    std_err: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    alpha: float = 0.05

    def __post_init__(self):
        n = self.time.size
        if any(getattr(self, c).shape != (n,) for c in CURVE_COLUMNS):
            raise ValueError("SurvivalCurve: every array must be 1-d with the length of time")
        if n == 0 or self.time[0] != 0 or np.any(np.diff(self.time) <= 0):
            raise ValueError("SurvivalCurve: time must start at 0 and increase strictly")

    def at(self, t, column: str = "survival"):
        """Evaluate the step function at ``t`` (scalar or array): S(t) = S(t_i), t_i <= t < t_{i+1}.

        Beyond the last time the last value holds; before 0, S = 1, both bands are 1 and the
        standard error 0. ``column`` is "survival", "std_err", "ci_low" or "ci_high".
        """
        before = {"survival": 1.0, "ci_low": 1.0, "ci_high": 1.0, "std_err": 0.0}
        if column not in before:
            raise ValueError(f"column: must be one of {list(before)}, got {column!r}")
        values = getattr(self, column)
        t_arr = np.asarray(t, dtype=np.float64)
        i = np.searchsorted(self.time, t_arr, side="right") - 1
        out = np.where(i >= 0, values[np.clip(i, 0, None)], before[column])
        return float(out) if out.ndim == 0 else out

    def _first_below_half(self, values: np.ndarray) -> float:
        hit = np.flatnonzero(values <= 0.5)
        return float(self.time[hit[0]]) if hit.size else float("nan")

    def median(self) -> float:
        """Median survival time: the smallest t with S(t) <= 0.5 (NaN if S never gets there)."""
        return self._first_below_half(self.survival)

    def median_ci(self) -> tuple[float, float]:
        """Band for the median, read off where the bands cross 0.5 (Brookmeyer-Crowley style).

        lower = smallest t with ci_low(t) <= 0.5, upper = smallest t with ci_high(t) <= 0.5;
        NaN when a band never reaches 0.5 (an open upper end).
        """
        return self._first_below_half(self.ci_low), self._first_below_half(self.ci_high)

    def restricted_mean(self, horizon: float) -> float:
        """Restricted mean survival time: RMST(h) = integral_0^h S(t) dt, the mean of min(T, h).

        With a step curve: sum_i S(t_i) (min(t_{i+1}, h) - t_i) over t_i < h, t_{k+1} = h.
        """
        if not np.isfinite(horizon) or horizon < 0:
            raise ValueError(f"horizon: must be finite and >= 0, got {horizon}")
        right = np.minimum(np.append(self.time[1:], np.inf), horizon)
        width = np.clip(right - self.time, 0, None)
        return float(np.sum(self.survival * width))

    def to_frame(self) -> pd.DataFrame:
        """The curve as a DataFrame with columns ``CURVE_COLUMNS``."""
        return pd.DataFrame({c: getattr(self, c) for c in CURVE_COLUMNS})

    def to_dict(self) -> dict:
        """JSON-safe summary: alpha, subjects, events, median and its band."""
        low, high = self.median_ci()
        values = {"median": self.median(), "median_ci_low": low, "median_ci_high": high}
        return {
            "alpha": float(self.alpha),
            "n": float(self.events.sum() + self.censored.sum()),
            "events": float(self.events.sum()),
            **{k: None if np.isnan(v) else float(v) for k, v in values.items()},
        }


def kaplan_meier(
    durations, events, alpha: float = 0.05, ci: str = "log-log", weights=None, entry=None
) -> SurvivalCurve:
    """Kaplan-Meier estimate of the survival function with a Greenwood band.

    At each distinct time t_i with n_i at risk and d_i events::

        S(t) = prod_{t_i <= t} (1 - d_i / n_i)
        Var S(t) = S(t)^2 sum_{t_i <= t} d_i / (n_i (n_i - d_i))          (Greenwood)

    Bands at level 1 - alpha, z = Phi^{-1}(1 - alpha / 2), se = sqrt(Var S):

    - "plain": S +- z se, clipped to [0, 1].
    - "log-log" (Kalbfleisch-Prentice; stays inside (0, 1)): with
      sd = se / (S |log S|) the standard error of log(-log S),
      ``low = exp(-exp(log(-log S) + z sd)) = S^exp(z sd)``,
      ``high = exp(-exp(log(-log S) - z sd)) = S^exp(-z sd)``.

    Where S = 1 the band is [1, 1]; once S = 0 (n_i = d_i) the band is [0, 0] and se is NaN.

    Parameters
    ----------
    durations : (n,) times to event or censoring, finite and >= 0.
    events : (n,) 1/True for an event, 0/False for a censored subject.
    alpha : one minus the band's level.
    ci : "log-log" or "plain".
    weights : optional (n,) non-negative case weights; n_i and d_i become weighted sums.
    entry : optional (n,) delayed-entry times (left truncation), entry <= duration; a subject is
        at risk at t when entry <= t <= duration. Needed when time is counted from signup but
        members are only observed from the start of the log.

    Returns
    -------
    SurvivalCurve

    Examples
    --------
    >>> kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1]).survival.round(3).tolist()
    [1.0, 0.75, 0.5, 0.0]
    """
    if ci not in CI_METHODS:
        raise ValueError(f"ci: must be one of {CI_METHODS}, got {ci!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: must be in (0, 1), got {alpha}")
    t, e, w, a = _check_inputs(durations, events, weights, entry)
    time = np.unique(np.concatenate(([0.0], t)))
    slot = np.searchsorted(time, t)
    d = np.bincount(slot, weights=w * e, minlength=time.size)
    c = np.bincount(slot, weights=w * (1 - e), minlength=time.size)
    n = np.cumsum((d + c)[::-1])[::-1]  # weight with duration >= t_i
    if entry is not None:  # minus the weight that has not entered yet (entry > t_i)
        order = np.argsort(a, kind="stable")
        entered = np.concatenate(([0.0], np.cumsum(w[order])))
        n = n - (w.sum() - entered[np.searchsorted(a[order], time, side="right")])
    n = np.clip(n, 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - np.where(n > 0, d / n, 0.0))
        term = np.where(d > 0, np.where(n > d, d / (n * (n - d)), np.inf), 0.0)
        greenwood = np.cumsum(term)
        std_err = np.where(survival > 0, survival * np.sqrt(greenwood), np.nan)
        z = norm.ppf(1 - alpha / 2)
        if ci == "plain":
            low, high = survival - z * std_err, survival + z * std_err
        else:
            sd = np.sqrt(greenwood) / np.abs(np.log(survival))
            low, high = survival ** np.exp(z * sd), survival ** np.exp(-z * sd)
    edge = (survival >= 1) | (survival <= 0)
    low = np.clip(np.where(edge, survival, low), 0, 1)
    high = np.clip(np.where(edge, survival, high), 0, 1)
    return SurvivalCurve(time, n, d, c, survival, std_err, low, high, float(alpha))


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    return [] if by is None else [by] if isinstance(by, str) else list(by)


def _groups(frame: pd.DataFrame, columns: list[str], needed: list[str]):
    """(key dict, sub-frame) per group, in sorted key order; one group of everything if no by."""
    missing = [c for c in (*needed, *columns) if c not in frame.columns]
    if missing:
        raise ValueError(f"frame: missing column(s) {missing}")
    if not columns:
        yield {}, frame
        return
    for key, sub in frame.groupby(columns, sort=True, observed=True):
        yield dict(zip(columns, key, strict=True)), sub


def kaplan_meier_by(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    by: str | Sequence[str] | None,
    alpha: float = 0.05,
    ci: str = "log-log",
    entry: str | None = None,
) -> pd.DataFrame:
    """Kaplan-Meier curves per group as one tidy frame.

    Parameters
    ----------
    frame : one row per subject with the columns ``duration``, ``event`` and ``by``.
    by : group column name(s); None for one pooled curve.
    entry : optional column of delayed-entry times (see `kaplan_meier`).

    Returns
    -------
    DataFrame: the ``by`` columns, then ``CURVE_COLUMNS``; one row per group and curve time.
    """
    columns = _as_list(by)
    parts = []
    needed = [duration, event] + ([entry] if entry else [])
    for key, sub in _groups(frame, columns, needed):
        enter = sub[entry] if entry else None
        curve = kaplan_meier(sub[duration], sub[event], alpha=alpha, ci=ci, entry=enter).to_frame()
        parts.append(curve.assign(**{c: key[c] for c in columns})[[*columns, *CURVE_COLUMNS]])
    return pd.concat(parts, ignore_index=True)


def survival_table(
    frame: pd.DataFrame,
    duration: str,
    event: str,
    by: str | Sequence[str] | None,
    times: Sequence[float],
    alpha: float = 0.05,
    ci: str = "log-log",
    entry: str | None = None,
) -> pd.DataFrame:
    """S(t) with its band at chosen times per group, e.g. 12-month retention by plan.

    ``entry`` is an optional column of delayed-entry times (see `kaplan_meier`).

    Returns
    -------
    DataFrame: the ``by`` columns, ``time``, ``at_risk`` (subjects with duration >= time, and
    entered by then when ``entry`` is given; 0 means the value is carried forward past the
    group's last observation), ``survival``, ``ci_low``, ``ci_high``.
    """
    grid = check_times(times, "times")
    columns, parts = _as_list(by), []
    for key, sub in _groups(frame, columns, [duration, event] + ([entry] if entry else [])):
        enter = sub[entry] if entry else None
        curve = kaplan_meier(sub[duration], sub[event], alpha=alpha, ci=ci, entry=enter)
        dur = sub[duration].to_numpy(np.float64)
        ent = np.zeros_like(dur) if enter is None else enter.to_numpy(np.float64)
        part = pd.DataFrame(
            {
                "time": grid,
                "at_risk": ((dur[:, None] >= grid[None, :]) & (ent[:, None] <= grid[None, :])).sum(
                    0
                ),
                **{c: curve.at(grid, c) for c in ("survival", "ci_low", "ci_high")},
            }
        )
        parts.append(part.assign(**{c: key[c] for c in columns})[[*columns, *part.columns]])
    return pd.concat(parts, ignore_index=True)


# --- log-rank -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test of equal survival across k groups: chi-square ``statistic`` on ``dof``."""

    statistic: float
    dof: int
    p_value: float
    groups: tuple
    observed: tuple[float, ...]
    expected: tuple[float, ...]

    def to_dict(self) -> dict:
        return {
            "statistic": self.statistic,
            "dof": self.dof,
            "p_value": self.p_value,
            "groups": [str(g) for g in self.groups],
            "observed": list(self.observed),
            "expected": list(self.expected),
        }


def logrank_test(durations, events, groups) -> LogRankResult:
    """Log-rank (Mantel-Cox) test that k groups share one survival function.

    At each event time t_j with n_j at risk and d_j events overall, n_gj and d_gj in group g::

        E_g = sum_j d_j n_gj / n_j,   U = O - E  (O_g = sum_j d_gj)
        V_gh = sum_j d_j (n_j - d_j) / (n_j - 1) * (n_gj / n_j) (delta_gh - n_hj / n_j)
        X^2 = U' V^- U  on the first k - 1 groups,  ~ chi-square(k - 1) under H0.

    Returns
    -------
    LogRankResult with statistic, dof, p_value and per-group observed / expected events.
    """
    t, e, _, _ = _check_inputs(durations, events)
    g = np.asarray(groups).ravel()
    if g.size != t.size:
        raise ValueError(f"durations and groups: lengths differ ({t.size} vs {g.size})")
    labels, gi = np.unique(g, return_inverse=True)
    if labels.size < 2:
        raise ValueError(f"groups: need at least 2 distinct groups, got {labels.size}")
    times = np.unique(t[e == 1])
    k, m = labels.size, times.size
    n_g = np.stack([np.sum(t[gi == i][:, None] >= times[None, :], axis=0) for i in range(k)])
    d_g = np.zeros((k, m))
    hit = e == 1
    np.add.at(d_g, (gi[hit], np.searchsorted(times, t[hit])), 1.0)
    n, d = n_g.sum(axis=0), d_g.sum(axis=0)
    share = n_g / n
    expected = (d * share).sum(axis=1)
    u = d_g.sum(axis=1) - expected
    factor = np.where(n > 1, d * (n - d) / np.maximum(n - 1, 1), 0.0)
    v = np.diag((factor * share).sum(axis=1)) - (share * factor) @ share.T
    stat = float(u[:-1] @ np.linalg.pinv(v[:-1, :-1]) @ u[:-1])
    return LogRankResult(
        stat,
        k - 1,
        float(chi2.sf(stat, k - 1)),
        tuple(labels.tolist()),
        tuple(d_g.sum(axis=1).tolist()),
        tuple(expected.tolist()),
    )

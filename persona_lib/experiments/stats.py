"""Two-arm hypothesis tests that return a `TestResult`: proportions, means, ratios, CUPED,
quantiles and per-segment effects.

Every test reports ``estimate = treatment - control`` and a ``1 - alpha`` interval. Relative-lift
intervals use the delta method for a ratio of independent means,
``Var(m_t / m_c) ~ v_t / m_c^2 + m_t^2 v_c / m_c^4`` (``v`` the variance of each arm's mean).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from persona_lib.experiments.multiple import benjamini_hochberg, holm
from persona_lib.experiments.results import TestResult

__all__ = [
    "CupedAdjustment",
    "bootstrap_quantile_difference",
    "cuped",
    "cuped_difference",
    "difference_in_means",
    "difference_in_proportions",
    "effects_by_segment",
    "ratio_metric",
]


def _arm(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"{name} must be 1-D with at least 2 values, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _relative_interval(m_c, v_c, m_t, v_t, alpha) -> tuple[float, float]:
    """Delta-method normal interval for ``m_t / m_c - 1`` (NaN when ``m_c`` is 0)."""
    if m_c == 0:
        return np.nan, np.nan
    lift = m_t / m_c - 1.0
    se = np.sqrt(v_t / m_c**2 + m_t**2 * v_c / m_c**4)
    z = stats.norm.ppf(1 - alpha / 2)
    return float(lift - z * se), float(lift + z * se)


def _normal_result(metric, m_c, v_c, n_c, m_t, v_t, n_t, alpha, method) -> TestResult:
    """Wald z-test and interval for ``m_t - m_c`` from each arm's mean and the mean's variance."""
    d = m_t - m_c
    se = np.sqrt(v_c + v_t)
    z = stats.norm.ppf(1 - alpha / 2)
    p = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else float(d == 0)
    rel = _relative_interval(m_c, v_c, m_t, v_t, alpha)
    return TestResult(
        metric, float(d), float(d - z * se), float(d + z * se), p, float(m_c), float(m_t),
        int(n_c), int(n_t), alpha, method, *rel,
    )  # fmt: skip


def difference_in_proportions(
    success_c: int, n_c: int, success_t: int, n_t: int, alpha: float = 0.05, metric: str = "rate"
) -> TestResult:
    """Two-proportion z-test: pooled-variance p-value, unpooled (Wald) interval.

    ``d = p_t - p_c``; p-value from ``z = d / sqrt(p (1 - p) (1/n_c + 1/n_t))`` with the pooled
    ``p = (s_c + s_t) / (n_c + n_t)`` (the variance under H0: p_t = p_c, so the test's size is
    right); interval ``d +- z_{1-alpha/2} sqrt(p_c q_c / n_c + p_t q_t / n_t)`` (the variance
    where the rates differ). The two can disagree at the margin; both are standard.

    Examples
    --------
    >>> r = difference_in_proportions(100, 1000, 130, 1000)
    >>> round(r.estimate, 3), round(r.p_value, 4)
    (0.03, 0.0355)
    """
    if min(n_c, n_t) <= 0 or not (0 <= success_c <= n_c and 0 <= success_t <= n_t):
        raise ValueError("need 0 <= successes <= n and n > 0 in both arms")
    p_c, p_t = success_c / n_c, success_t / n_t
    result = _normal_result(
        metric, p_c, p_c * (1 - p_c) / n_c, n_c, p_t, p_t * (1 - p_t) / n_t, n_t, alpha, "z_pooled"
    )
    pooled = (success_c + success_t) / (n_c + n_t)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    d = p_t - p_c
    p_value = float(2 * stats.norm.sf(abs(d) / se0)) if se0 > 0 else 1.0
    return replace(result, p_value=p_value)


def difference_in_means(
    x_c, x_t, alpha: float = 0.05, metric: str = "mean", method: str = "welch"
) -> TestResult:
    """Welch's unequal-variance t-test and interval for ``mean(x_t) - mean(x_c)``.

    ``t = d / sqrt(s_c^2/n_c + s_t^2/n_t)`` with Welch-Satterthwaite
    ``df = (v_c + v_t)^2 / (v_c^2/(n_c - 1) + v_t^2/(n_t - 1))``, ``v = s^2 / n``. Matches
    ``scipy.stats.ttest_ind(x_t, x_c, equal_var=False)``.

    Examples
    --------
    >>> r = difference_in_means([1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0])
    >>> r.estimate
    1.0
    """
    x_c, x_t = _arm(x_c, "x_c"), _arm(x_t, "x_t")
    n_c, n_t = x_c.size, x_t.size
    m_c, m_t = x_c.mean(), x_t.mean()
    v_c, v_t = x_c.var(ddof=1) / n_c, x_t.var(ddof=1) / n_t
    d, se = m_t - m_c, np.sqrt(v_c + v_t)
    df = (v_c + v_t) ** 2 / (v_c**2 / (n_c - 1) + v_t**2 / (n_t - 1)) if se > 0 else np.inf
    q = stats.t.ppf(1 - alpha / 2, df)
    p = float(2 * stats.t.sf(abs(d) / se, df)) if se > 0 else float(d == 0)
    rel = _relative_interval(m_c, v_c, m_t, v_t, alpha)
    return TestResult(
        metric, float(d), float(d - q * se), float(d + q * se), p, float(m_c), float(m_t),
        n_c, n_t, alpha, method, *rel,
    )  # fmt: skip


def _ratio_moments(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Ratio of sums and its delta-method variance (Deng et al. 2018, eq. for ``mu_Y / mu_X``)."""
    n = num.size
    mu_y, mu_x = num.mean(), den.mean()
    if mu_x <= 0:
        raise ValueError("the denominator's mean must be positive")
    cov = np.cov(num, den, ddof=1)
    var = (cov[0, 0] / mu_x**2 - 2 * mu_y * cov[0, 1] / mu_x**3 + mu_y**2 * cov[1, 1] / mu_x**4) / n
    return float(mu_y / mu_x), float(var)


_RATIO_NAMES = ("num_c", "den_c", "num_t", "den_t")


def ratio_metric(
    num_c, den_c, num_t, den_t, alpha: float = 0.05, metric: str = "ratio"
) -> TestResult:
    """Difference of ratio metrics ``sum(num) / sum(den)`` with delta-method variance.

    Inputs are per-user totals (the randomization unit), e.g. plays and sessions per user, so the
    ratio's numerator and denominator are correlated within a user and the naive per-session
    variance is wrong. With ``R = mean(Y) / mean(X)``:
    ``Var(R) ~ (s_Y^2 / mu_X^2 - 2 mu_Y s_XY / mu_X^3 + mu_Y^2 s_X^2 / mu_X^4) / n``
    (Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric Analytics"); the arms are
    independent, so ``Var(R_t - R_c) = Var(R_t) + Var(R_c)``; normal interval and z-test.

    Examples
    --------
    >>> r = ratio_metric([1, 2, 3], [2, 2, 2], [2, 3, 4], [2, 2, 2])
    >>> r.estimate
    0.5
    """
    inputs = zip((num_c, den_c, num_t, den_t), _RATIO_NAMES, strict=True)
    arms = [_arm(a, name) for a, name in inputs]
    if arms[0].size != arms[1].size or arms[2].size != arms[3].size:
        raise ValueError("numerator and denominator must have one value per user in each arm")
    r_c, v_c = _ratio_moments(arms[0], arms[1])
    r_t, v_t = _ratio_moments(arms[2], arms[3])
    n_c, n_t = arms[0].size, arms[2].size
    return _normal_result(metric, r_c, v_c, n_c, r_t, v_t, n_t, alpha, "delta_method")


@dataclass(frozen=True)
class CupedAdjustment:
    """CUPED-adjusted outcomes ``y - theta (x - mean(x))`` and the variance reduction achieved."""

    adjusted: np.ndarray
    theta: float
    variance_reduction: float

    def to_dict(self) -> dict[str, float]:
        return {"theta": float(self.theta), "variance_reduction": float(self.variance_reduction)}


def _treatment_mask(treatment, n: int) -> np.ndarray:
    t = np.asarray(treatment)
    if t.shape != (n,):
        raise ValueError(f"treatment must have shape ({n},), got {t.shape}")
    mask = t.astype(bool)
    if mask.all() or not mask.any():
        raise ValueError("treatment must contain both arms")
    return mask


def _difference_variance(y: np.ndarray, mask: np.ndarray) -> float:
    return y[mask].var(ddof=1) / mask.sum() + y[~mask].var(ddof=1) / (~mask).sum()


def cuped(y, x_pre, treatment) -> CupedAdjustment:
    """CUPED: Controlled-experiment Using Pre-Experiment Data (Deng, Xu, Kohavi & Walker 2013).

    ``y_adj = y - theta (x - mean(x))`` with ``theta = cov(y, x) / var(x)`` pooled over both arms.
    ``x`` is measured before assignment, so its mean is the same in both arms and the adjusted
    difference stays unbiased, while its variance shrinks by about ``rho(y, x)^2``.
    ``variance_reduction = 1 - Var(d_adj) / Var(d)`` with ``Var(d) = s_t^2/n_t + s_c^2/n_c``
    (within-arm variances, so a treatment effect does not count as noise); with equal arms and
    no effect it is ``1 - var(y_adj) / var(y)``.

    Examples
    --------
    >>> adj = cuped([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.5], [0, 1, 0, 1])
    >>> round(adj.variance_reduction, 2) > 0.9
    True
    """
    y, x = _arm(y, "y"), _arm(x_pre, "x_pre")
    if x.shape != y.shape:
        raise ValueError("y and x_pre must have the same shape")
    mask = _treatment_mask(treatment, y.size)
    var_x = x.var(ddof=1)
    theta = float(np.cov(y, x, ddof=1)[0, 1] / var_x) if var_x > 0 else 0.0
    adjusted = y - theta * (x - x.mean())
    reduction = 1.0 - _difference_variance(adjusted, mask) / _difference_variance(y, mask)
    return CupedAdjustment(adjusted, theta, float(reduction))


def cuped_difference(y, x_pre, treatment, alpha: float = 0.05, metric: str = "mean") -> TestResult:
    """Welch test (`difference_in_means`) on CUPED-adjusted outcomes; see `cuped`.

    Examples
    --------
    >>> r = cuped_difference([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.5], [0, 1, 0, 1])
    >>> r.method
    'cuped_welch'
    """
    adj = cuped(y, x_pre, treatment)
    mask = _treatment_mask(treatment, adj.adjusted.size)
    return difference_in_means(
        adj.adjusted[~mask], adj.adjusted[mask], alpha, metric, method="cuped_welch"
    )


def _bootstrap_quantiles(x: np.ndarray, q: float, n_boot: int, rng) -> np.ndarray:
    """``q``-quantile of ``n_boot`` resamples of ``x``, in chunks of about 4M draws."""
    chunk = max(1, 4_000_000 // x.size)
    out = [
        np.quantile(x[rng.integers(0, x.size, size=(min(chunk, n_boot - i), x.size))], q, axis=1)
        for i in range(0, n_boot, chunk)
    ]
    return np.concatenate(out)


def bootstrap_quantile_difference(
    x_c,
    x_t,
    q: float = 0.5,
    n_boot: int = 2000,
    alpha: float = 0.05,
    random_state: int | None = 0,
    metric: str = "quantile",
) -> TestResult:
    """Percentile bootstrap for ``quantile(x_t, q) - quantile(x_c, q)`` (Efron & Tibshirani 1993).

    Each arm is resampled independently; the interval is the ``alpha/2`` and ``1 - alpha/2``
    quantiles of the ``n_boot`` bootstrap differences. The p-value inverts the percentile interval:
    ``p = min(1, 2 min(#(d* <= 0) + 1, #(d* >= 0) + 1) / (n_boot + 1))``, the smallest alpha whose
    interval excludes 0. Use it for skewed metrics (watch time) where the median moves but the mean
    is noisy.

    Examples
    --------
    >>> r = bootstrap_quantile_difference(np.arange(100.0), np.arange(100.0) + 50, n_boot=200)
    >>> r.estimate, r.p_value < 0.05
    (50.0, True)
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q}")
    x_c, x_t = _arm(x_c, "x_c"), _arm(x_t, "x_t")
    rng = np.random.default_rng(random_state)
    d_star = _bootstrap_quantiles(x_t, q, n_boot, rng) - _bootstrap_quantiles(x_c, q, n_boot, rng)
    q_c, q_t = np.quantile(x_c, q), np.quantile(x_t, q)
    low, high = np.quantile(d_star, [alpha / 2, 1 - alpha / 2])
    tail = min(np.sum(d_star <= 0), np.sum(d_star >= 0)) + 1
    p = min(1.0, 2 * tail / (n_boot + 1))
    return TestResult(
        metric, float(q_t - q_c), float(low), float(high), float(p), float(q_c), float(q_t),
        x_c.size, x_t.size, alpha, f"bootstrap_percentile_q{q:g}",
    )  # fmt: skip


def effects_by_segment(
    frame: pd.DataFrame,
    metric: str,
    treatment_col: str,
    segment_col: str,
    alpha: float = 0.05,
    kind: Literal["means", "proportions"] = "means",
    treatment_value: object = "treatment",
) -> pd.DataFrame:
    """One test per segment, with Holm and Benjamini-Hochberg adjusted p-values across segments.

    ``kind="means"`` runs `difference_in_means` (Welch); ``"proportions"`` runs
    `difference_in_proportions` on a 0/1 ``metric``. A unit is treated where
    ``frame[treatment_col] == treatment_value`` (or is True for a boolean column). Returns one row
    per segment: ``segment_col``, the `TestResult` fields, ``p_value_holm`` and ``p_value_bh``.
    Adjust because scanning k segments for a significant one inflates false positives about k-fold.

    Examples
    --------
    >>> df = pd.DataFrame({"arm": ["control", "treatment"] * 4, "device": ["tv"] * 4 + ["web"] * 4,
    ...                    "y": [1.0, 2.0, 1.5, 2.5, 0.0, 0.5, 1.0, 1.0]})
    >>> effects_by_segment(df, "y", "arm", "device")["estimate"].tolist()
    [1.0, 0.25]
    """
    for col in (metric, treatment_col, segment_col):
        if col not in frame.columns:
            raise KeyError(f"column {col!r} is not in the frame")
    arm = frame[treatment_col]
    treated = arm.astype(bool) if pd.api.types.is_bool_dtype(arm) else arm == treatment_value
    rows = []
    for segment, idx in frame.groupby(segment_col, sort=True, observed=True).groups.items():
        y = frame.loc[idx, metric].to_numpy(dtype=np.float64)
        t = treated.loc[idx].to_numpy(dtype=bool)
        if kind == "proportions":
            res = difference_in_proportions(
                int(y[~t].sum()), int((~t).sum()), int(y[t].sum()), int(t.sum()), alpha, metric
            )
        elif kind == "means":
            res = difference_in_means(y[~t], y[t], alpha, metric)
        else:
            raise ValueError(f"kind must be 'means' or 'proportions', got {kind!r}")
        rows.append({segment_col: segment, **res.to_dict()})
    out = pd.DataFrame(rows)
    p = out["p_value"].to_numpy(dtype=np.float64)
    out["p_value_holm"] = holm(p)
    out["p_value_bh"] = benjamini_hochberg(p)
    return out

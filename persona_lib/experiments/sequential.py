"""Always-valid inference for peeking: the mixture sequential probability ratio test (mSPRT).

Johari, Koomen, Pekelis & Walsh (2017/2022), "Always Valid Inference: Continuous Monitoring of A/B
Tests". With ``d_n`` the difference in means after ``n`` paired observations, ``V`` the variance
of one paired difference and a normal mixing prior ``theta ~ N(0, tau^2)`` on the effect:

    Lambda_n = sqrt(V / (V + n tau^2)) exp(n^2 tau^2 d_n^2 / (2 V (V + n tau^2)))

Written with the estimator's variance ``s2 = V / n`` (so unequal arms and proportions fit too,
``s2 = s_c^2 / n_c + s_t^2 / n_t``) it is ``sqrt(s2 / (s2 + tau^2)) exp(tau^2 d^2 / (2 s2 (s2 +
tau^2)))``. The always-valid p-value is ``p_n = min(p_{n-1}, 1 / Lambda_n)``: rejecting the first
time ``p_n <= alpha`` keeps the false-positive rate below alpha however often one looks. The
matching confidence sequence is ``{theta : Lambda_n(d_n - theta) < 1 / alpha}``,

    d_n +- sqrt(s2 (s2 + tau^2) / tau^2 * (2 log(1 / alpha) + log((s2 + tau^2) / s2))),

intersected over looks. ``V`` is the plug-in estimate at each look (as in the paper's
deployment), so validity is asymptotic. Because ``V`` moves between looks, the running
intersection can come out empty (its lower end above its upper end); from that look on the
interval is reported as NaN, never with its ends reversed: the data then give no interval.

Choice of tau: ``tau = tau_std * sqrt(V / 2)``, i.e. the prior sd of the effect in units of the
per-unit sd. The boundary is tightest when ``tau^2 / s2`` is about 10, which ``tau_std`` equal to
the standardized MDE of a standard 80%-power design reaches at its planned sample size (there
``tau^2 / s2 = (z_{0.975} + z_{0.8})^2 = 7.8``). The default ``tau_std = 0.1`` suits experiments of
a few thousand units per arm; pass the planned MDE / sd for larger ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_TAU_STD",
    "SequentialTest",
    "msprt_cumulative",
    "msprt_means",
    "msprt_proportions",
]

DEFAULT_TAU_STD = 0.1


def _mixture(d, s2, tau2, alpha: float):
    """Always-valid p-values and interval per look (last axis = looks), running min/intersection."""
    d, s2, tau2 = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (d, s2, tau2)))
    ok = (s2 > 0) & (tau2 > 0) & np.isfinite(d)
    s2v, t2v = np.where(ok, s2, 1.0), np.where(ok, tau2, 1.0)
    log_lambda = 0.5 * np.log(s2v / (s2v + t2v)) + t2v * d**2 / (2 * s2v * (s2v + t2v))
    p = np.where(ok, np.minimum(1.0, np.exp(-np.where(ok, log_lambda, 0.0))), 1.0)
    half = np.sqrt(s2v * (s2v + t2v) / t2v * (2 * np.log(1 / alpha) + np.log((s2v + t2v) / s2v)))
    half = np.where(ok, half, np.inf)
    p = np.minimum.accumulate(p, axis=-1)
    low = np.maximum.accumulate(np.where(ok, d - half, -np.inf), axis=-1)
    high = np.minimum.accumulate(np.where(ok, d + half, np.inf), axis=-1)
    empty = low > high  # stays empty at later looks: the intersection only shrinks
    return p, np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _as_output(n_c, n_t, d, p, low, high, alpha) -> pd.DataFrame | dict[str, np.ndarray]:
    if np.ndim(d) != 1:
        return {"estimate": d, "p_value": p, "ci_low": low, "ci_high": high}
    return pd.DataFrame(
        {
            "look": np.arange(1, np.size(d) + 1),
            "n_control": np.broadcast_to(n_c, np.shape(d)),
            "n_treatment": np.broadcast_to(n_t, np.shape(d)),
            "estimate": d,
            "p_value": p,
            "ci_low": low,
            "ci_high": high,
            "reject": p <= alpha,
        }
    )


def _means_sequence(n_c, sum_c, sumsq_c, n_t, sum_t, sumsq_t, alpha, tau_std):
    """Estimate, p-value and interval per look from cumulative moments."""
    n_c, n_t = np.asarray(n_c, dtype=np.float64), np.asarray(n_t, dtype=np.float64)
    m_c, m_t = np.asarray(sum_c) / n_c, np.asarray(sum_t) / n_t
    var_c = np.maximum(np.asarray(sumsq_c) - n_c * m_c**2, 0.0) / (n_c - 1)
    var_t = np.maximum(np.asarray(sumsq_t) - n_t * m_t**2, 0.0) / (n_t - 1)
    d = m_t - m_c
    s2, tau2 = var_c / n_c + var_t / n_t, tau_std**2 * (var_c + var_t) / 2
    return (d, *_mixture(d, s2, tau2, alpha))


def msprt_means(
    n_c, sum_c, sumsq_c, n_t, sum_t, sumsq_t, alpha: float = 0.05, tau_std: float = DEFAULT_TAU_STD
):
    """mSPRT for a difference in means from cumulative counts, sums and sums of squares per look.

    Parameters
    ----------
    n_c, sum_c, sumsq_c, n_t, sum_t, sumsq_t : arrays, shape (n_looks,) or (n_experiments,
        n_looks): cumulative totals at each look (e.g. ``np.cumsum`` of daily totals).

    Returns
    -------
    One row per look (``look, n_control, n_treatment, estimate, p_value, ci_low, ci_high,
    reject``) for 1-D input; for 2-D input a dict of (n_experiments, n_looks) arrays
    ``estimate, p_value, ci_low, ci_high``.

    Examples
    --------
    >>> out = msprt_means([100, 200], [0.0, 10.0], [100.0, 200.0], [100, 200], [30.0, 60.0],
    ...                   [110.0, 220.0])
    >>> out["p_value"].is_monotonic_decreasing
    True
    """
    d, p, low, high = _means_sequence(n_c, sum_c, sumsq_c, n_t, sum_t, sumsq_t, alpha, tau_std)
    return _as_output(n_c, n_t, d, p, low, high, alpha)


def msprt_cumulative(
    control, treatment, alpha: float = 0.05, tau_std: float = DEFAULT_TAU_STD
) -> pd.DataFrame:
    """mSPRT of treatment minus control, looked at once per column of two cumulative matrices.

    Parameters
    ----------
    control, treatment : arrays, shape (members, looks)
        Each member's running total (hours watched since assignment, say) at each look; every
        member is present at every look.

    Returns
    -------
    DataFrame
        `msprt_means` of the per-look counts, sums and sums of squares: one row per look
        (``look`` from 1) with the estimate, always-valid p-value and interval, and ``reject``.

    Examples
    --------
    >>> c = np.array([[0.0, 1.0], [1.0, 1.0]]); t = np.array([[1.0, 3.0], [2.0, 4.0]])
    >>> msprt_cumulative(c, t)["estimate"].tolist()
    [1.0, 2.5]
    """
    c, t = (np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in (control, treatment))
    if c.shape[1] != t.shape[1]:
        raise ValueError(f"control has {c.shape[1]} looks, treatment {t.shape[1]}")
    if min(len(c), len(t)) < 2:
        raise ValueError("each arm needs at least 2 members")
    n_c, n_t = np.full(c.shape[1], len(c)), np.full(t.shape[1], len(t))
    return msprt_means(n_c, c.sum(0), (c**2).sum(0), n_t, t.sum(0), (t**2).sum(0), alpha, tau_std)


def msprt_proportions(
    n_c, success_c, n_t, success_t, alpha: float = 0.05, tau_std: float = DEFAULT_TAU_STD
):
    """mSPRT for a difference in proportions from cumulative counts per look (see `msprt_means`).

    Uses ``s2 = p_c q_c / n_c + p_t q_t / n_t`` and
    ``tau = tau_std * sqrt((p_c q_c + p_t q_t) / 2)``.

    Examples
    --------
    >>> out = msprt_proportions([1000, 2000], [100, 200], [1000, 2000], [150, 300])
    >>> bool(out["reject"].iloc[-1])
    True
    """
    n_c, n_t = np.asarray(n_c, dtype=np.float64), np.asarray(n_t, dtype=np.float64)
    p_c, p_t = np.asarray(success_c) / n_c, np.asarray(success_t) / n_t
    v_c, v_t = p_c * (1 - p_c), p_t * (1 - p_t)
    d = p_t - p_c
    p, low, high = _mixture(d, v_c / n_c + v_t / n_t, tau_std**2 * (v_c + v_t) / 2, alpha)
    return _as_output(n_c, n_t, d, p, low, high, alpha)


class SequentialTest:
    """Streaming mSPRT for a difference in means: feed new observations, read p-value/interval.

    ``update(x_c, x_t)`` adds a batch of new observations per arm (one look); ``p_value`` and
    ``interval`` are always valid at every look.

    Examples
    --------
    >>> test = SequentialTest()
    >>> test.update([0.0, 1.0, 2.0], [1.0, 2.0, 3.0]).p_value <= 1.0
    True
    """

    def __init__(self, alpha: float = 0.05, tau_std: float = DEFAULT_TAU_STD) -> None:
        self.alpha = alpha
        self.tau_std = tau_std
        self._totals = np.zeros((2, 3))  # per arm: n, sum, sum of squares
        self.estimate = np.nan
        self.p_value = 1.0
        self.interval = (-np.inf, np.inf)
        self.n_looks = 0

    def update(self, x_c, x_t) -> SequentialTest:
        """Add this look's new observations of each arm and update the running p and interval."""
        for row, x in enumerate((x_c, x_t)):
            x = np.asarray(x, dtype=np.float64).ravel()
            self._totals[row] += (x.size, x.sum(), np.square(x).sum())
        self.n_looks += 1
        (n_c, s_c, q_c), (n_t, s_t, q_t) = self._totals
        if min(n_c, n_t) >= 2:
            moments = [np.array([v]) for v in (n_c, s_c, q_c, n_t, s_t, q_t)]
            d, p, low, high = _means_sequence(*moments, self.alpha, self.tau_std)
            self.estimate = float(d[0])
            self.p_value = min(self.p_value, float(p[0]))
            if not np.isnan(self.interval[0]):  # NaN: empty at an earlier look, for good
                low, high = max(self.interval[0], low[0]), min(self.interval[1], high[0])
                self.interval = (low, high) if low <= high else (np.nan, np.nan)
        return self

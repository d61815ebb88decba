"""Is an estimate consistent with the simulator's truth? Checks that hold on any draw.

A 95 % interval misses its truth in one run of twenty, so "this interval covers the truth" is a
coin, and a test built on it fails on some machine (another BLAS kernel serves slightly different
pages, the world draws differently, and the interval moves). The checks here hold with
overwhelming probability for a correct estimator yet fail a biased one:

- ``z_to_truth``: the estimate's distance to the truth in standard errors, the standard error read
  off the interval's width (``se = (high - low) / (2 z_{1-alpha/2})``). For a correct estimator
  ``|z| < 4`` fails with probability 6.3e-5 per check (normal tails); an estimator biased by
  five standard errors fails it in 84 % of draws.
- ``min_covering``: of ``n`` independent intervals at level ``1 - alpha``, the fewest that must
  hold their truth so that a calibrated set falls short with probability at most ``risk``
  (the lower binomial quantile). A coverage count is a check over many draws, not one.

References: Casella & Berger, *Statistical Inference* (2002), sections 9.2 (pivotal intervals)
and 10.1 (asymptotic normality of estimators).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from persona_lib.data.constants import Z95

__all__ = ["Z95", "interval_se", "min_covering", "z_to_truth"]


def interval_se(ci_low: ArrayLike, ci_high: ArrayLike, level: float = 0.95) -> np.ndarray:
    """Standard error implied by a two-sided normal interval: ``(high - low) / (2 z)``.

    ``z = Phi^-1((1 + level) / 2)``. For a percentile-bootstrap interval this is the normal
    approximation of its spread.

    Examples
    --------
    >>> float(interval_se(1.0, 1.0 + 2 * Z95))
    1.0
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    low, high = np.asarray(ci_low, dtype=float), np.asarray(ci_high, dtype=float)
    if np.any(high < low):
        raise ValueError("an interval's high end lies below its low end")
    return (high - low) / (2 * NormalDist().inv_cdf((1 + level) / 2))


def z_to_truth(
    estimate: ArrayLike, ci_low: ArrayLike, ci_high: ArrayLike, truth: ArrayLike, level=0.95
) -> np.ndarray:
    """``(estimate - truth) / se`` with ``se`` from the interval (`interval_se`).

    A degenerate interval (zero width) gives 0 when the estimate equals the truth and +-inf
    otherwise.

    Examples
    --------
    >>> float(z_to_truth(2.0, 1.0, 3.0, 2.0))
    0.0
    >>> round(float(z_to_truth(3.0, 2.0, 4.0, 2.0)), 4)  # one unit above; se = 1 / 1.96
    1.96
    """
    se = interval_se(ci_low, ci_high, level)
    diff = np.asarray(estimate, dtype=float) - np.asarray(truth, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.sign(diff) * np.inf)
    return np.where((se == 0) & (diff == 0), 0.0, z)


def min_covering(n: int, level: float = 0.95, risk: float = 1e-4) -> int:
    """Fewest of ``n`` calibrated intervals that must cover, failing with probability <= risk.

    The largest ``c`` with ``P(Binomial(n, level) < c) <= risk``: a correct estimator's
    coverage count falls below it at most ``risk`` of the time.

    Examples
    --------
    >>> min_covering(20)  # P(Binomial(20, 0.95) <= 13) = 3.4e-5, P(<= 14) = 3.3e-4
    14
    >>> min_covering(5)  # P(<= 1 of 5) = 3e-5, P(<= 2 of 5) = 1.2e-3
    2
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not (0 < level < 1 and 0 < risk < 1):
        raise ValueError("level and risk must lie in (0, 1)")
    counts = np.arange(n + 1)
    below = stats.binom.cdf(counts - 1, n, level)  # P(X < c) for c = 0..n
    return int(counts[below <= risk].max())

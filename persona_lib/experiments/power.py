"""Power analysis for two-arm tests: sample size, minimum detectable effect (MDE) and power.

Normal approximation, two-sided test at level ``alpha``, ``k = z_{1-alpha/2} + z_{power}``,
``ratio = n_treatment / n_control``. Proportions use by default the *unpooled* variance (each arm
at its own rate), matching `difference_in_proportions`' interval:

    n_control = k^2 (p1 q1 + p2 q2 / ratio) / delta^2,   q = 1 - p

``variance="pooled"`` gives the classical Fleiss form, the null variance at the mean rate
``pbar`` for the alpha term: ``n = (z_a sqrt(pbar qbar (1 + 1/ratio)) + z_b sqrt(p1 q1 + p2 q2 /
ratio))^2 / delta^2``. For p 0.10 -> 0.12 (alpha 0.05, power 0.8, equal arms) they give 3,839 and
3,841 per arm. Means use ``n_control = k^2 sd^2 (1 + 1/ratio) / delta^2`` (the t-test needs one
or two more units when n is small). Power counts both rejection tails.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats

__all__ = [
    "mde_means",
    "mde_proportions",
    "power_means",
    "power_proportions",
    "sample_size_means",
    "sample_size_proportions",
]


def _z(alpha: float, power: float = 0.5) -> tuple[float, float]:
    """``(z_{1-alpha/2}, z_{power})``; the default power gives ``z = 0`` for power calculations."""
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must be in (0, 1)")
    return float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))


def _two_sided_power(delta, se, alpha: float):
    z_a, _ = _z(alpha)
    ratio = np.abs(delta) / se
    return stats.norm.cdf(ratio - z_a) + stats.norm.cdf(-ratio - z_a)


def sample_size_proportions(
    p_baseline: float,
    mde: float,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    variance: Literal["unpooled", "pooled"] = "unpooled",
) -> int:
    """Control-arm size to detect ``p_baseline -> p_baseline + delta`` (treatment: ``ratio`` x).

    ``delta = mde`` (absolute) or ``mde * p_baseline`` when ``relative``. Formula in the module
    docstring.

    Examples
    --------
    >>> sample_size_proportions(0.10, 0.02), sample_size_proportions(0.10, 0.02, variance="pooled")
    (3839, 3841)
    """
    p1 = p_baseline
    delta = mde * p1 if relative else mde
    p2 = p1 + delta
    if not (0 < p1 < 1 and 0 < p2 < 1) or delta == 0:
        raise ValueError(f"need 0 < p < 1 in both arms and a non-zero effect, got {p1} -> {p2}")
    z_a, z_b = _z(alpha, power)
    alt = p1 * (1 - p1) + p2 * (1 - p2) / ratio
    if variance == "unpooled":
        n = (z_a + z_b) ** 2 * alt / delta**2
    elif variance == "pooled":
        pbar = (p1 + ratio * p2) / (1 + ratio)
        null = pbar * (1 - pbar) * (1 + 1 / ratio)
        n = (z_a * np.sqrt(null) + z_b * np.sqrt(alt)) ** 2 / delta**2
    else:
        raise ValueError(f"variance must be 'unpooled' or 'pooled', got {variance!r}")
    return int(np.ceil(n - 1e-9))


def power_proportions(
    n_per_arm, p_baseline: float, mde: float, alpha: float = 0.05, ratio: float = 1.0
):
    """Power of the two-proportion test with ``n_per_arm`` control units (unpooled variance).

    ``power = Phi(|delta| / se - z_{1-alpha/2}) + Phi(-|delta| / se - z_{1-alpha/2})`` with
    ``se = sqrt(p1 q1 / n + p2 q2 / (ratio n))``. Vectorized over ``n_per_arm``.

    Examples
    --------
    >>> round(float(power_proportions(3839, 0.10, 0.02)), 3)
    0.8
    """
    n = np.asarray(n_per_arm, dtype=np.float64)
    p1, p2 = p_baseline, p_baseline + mde
    se = np.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / (ratio * n))
    return _two_sided_power(mde, se, alpha)


def mde_proportions(
    n_per_arm, p_baseline: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
):
    """Smallest upward absolute lift detectable with ``n_per_arm`` control units (unpooled).

    Solves ``delta^2 = k^2 (p1 q1 + (p1 + delta)(q1 - delta) / ratio) / n``, a quadratic in delta:
    ``(a + 1/r) delta^2 - (1 - 2 p1) delta / r - p1 q1 (1 + 1/r) = 0`` with ``a = n / k^2``;
    the positive root. Vectorized over ``n_per_arm``.

    Examples
    --------
    >>> round(float(mde_proportions(3839, 0.10)), 4)
    0.02
    """
    n = np.asarray(n_per_arm, dtype=np.float64)
    z_a, z_b = _z(alpha, power)
    a = n / (z_a + z_b) ** 2
    r, p1 = ratio, p_baseline
    qa, qb, qc = a + 1 / r, -(1 - 2 * p1) / r, -p1 * (1 - p1) * (1 + 1 / r)
    return (-qb + np.sqrt(qb**2 - 4 * qa * qc)) / (2 * qa)


def sample_size_means(
    mde: float, sd: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0
) -> int:
    """Control-arm size to detect a mean difference ``mde`` with per-unit sd ``sd``.

    ``n_control = (z_{1-alpha/2} + z_{power})^2 sd^2 (1 + 1/ratio) / mde^2``.

    Examples
    --------
    >>> sample_size_means(0.1, 1.0)
    1570
    """
    if mde == 0 or sd <= 0:
        raise ValueError("need a non-zero mde and a positive sd")
    z_a, z_b = _z(alpha, power)
    return int(np.ceil((z_a + z_b) ** 2 * sd**2 * (1 + 1 / ratio) / mde**2 - 1e-9))


def mde_means(n_per_arm, sd: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0):
    """``mde = (z_{1-alpha/2} + z_{power}) sd sqrt(1/n + 1/(ratio n))``; vectorized over n.

    Examples
    --------
    >>> round(float(mde_means(1570, 1.0)), 3)
    0.1
    """
    n = np.asarray(n_per_arm, dtype=np.float64)
    z_a, z_b = _z(alpha, power)
    return (z_a + z_b) * sd * np.sqrt(1 / n + 1 / (ratio * n))


def power_means(n_per_arm, mde: float, sd: float, alpha: float = 0.05, ratio: float = 1.0):
    """Power of the two-sample z-test for a mean difference ``mde``; vectorized over n.

    Examples
    --------
    >>> round(float(power_means(1570, 0.1, 1.0)), 3)
    0.8
    """
    n = np.asarray(n_per_arm, dtype=np.float64)
    return _two_sided_power(mde, sd * np.sqrt(1 / n + 1 / (ratio * n)), alpha)

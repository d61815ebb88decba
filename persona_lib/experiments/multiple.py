"""Multiple-testing adjustments: adjusted p-values to compare with the family's alpha."""

from __future__ import annotations

import numpy as np

__all__ = ["benjamini_hochberg", "holm"]


def _check(p_values) -> np.ndarray:
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p_values must be finite and in [0, 1]")
    return p


def holm(p_values) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values; controls the family-wise error rate.

    With ``p_(1) <= ... <= p_(m)``: ``adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``, returned
    in the input order. Uniformly more powerful than Bonferroni, valid under any dependence.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = _check(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.maximum.accumulate(scaled)
    return out


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini & Hochberg (1995) step-up adjusted p-values; controls the false discovery rate.

    With ``p_(1) <= ... <= p_(m)``: ``adj_(i) = min_{j >= i} min(1, m p_(j) / j)``, returned in the
    input order (valid under independence or positive dependence). Equals
    ``scipy.stats.false_discovery_control(p, method="bh")``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.04, 0.04]
    """
    p = _check(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = m * p[order] / np.arange(1, m + 1)
    out = np.empty(m)
    out[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return out

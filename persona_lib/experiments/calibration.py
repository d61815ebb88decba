"""Is the A/B toolkit honest on this data? A/A re-randomizations and peeking, vectorized.

Both studies re-randomize the same members many times (a fresh salt per split, so each split is
an independent hashed assignment) and need no effect to exist: every rejection is a false
positive. `aa_study` tests each split once at the end (Welch, normal approximation, which is
exact enough at hundreds of members per arm); `peeking_study` looks at every day of cumulative
data and rejects as soon as any look is significant, with the naive test and with the
always-valid mSPRT (`persona_lib.experiments.sequential.msprt_means`). The share of splits
rejected, with a Wilson 95 % interval, is the false-positive rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from persona_lib.experiments.assignment import assignment_uniform
from persona_lib.experiments.sequential import DEFAULT_TAU_STD, msprt_means


def _splits(n_members: int, n_tests: int, salt: str, share: float = 0.5) -> np.ndarray:
    """(n_tests, n_members) bool: treated in split ``k`` (salt ``"{salt}-{k}"``)."""
    ids = np.arange(n_members)
    return np.stack([assignment_uniform(ids, f"{salt}-{k}") < share for k in range(n_tests)])


def _arm_moments(treated: np.ndarray, values: np.ndarray):
    """Counts, sums and sums of squares per split and arm (values: members or members x looks)."""
    t = treated.astype(np.float64)
    c = 1.0 - t
    return (c.sum(1), c @ values, c @ values**2), (t.sum(1), t @ values, t @ values**2)


def welch_p_from_moments(n_c, s_c, q_c, n_t, s_t, q_t) -> np.ndarray:
    """Two-sided Welch p-values (normal approximation) from per-arm counts, sums, squares.

    ``var = (q - s^2 / n) / (n - 1)``, ``z = (s_t / n_t - s_c / n_c) / sqrt(var_c / n_c +
    var_t / n_t)``; broadcasting lets the counts be (splits,) and the sums (splits, looks).
    """
    if np.ndim(s_c) > np.ndim(n_c):
        n_c, n_t = np.asarray(n_c)[:, None], np.asarray(n_t)[:, None]
    var_c = (q_c - s_c**2 / n_c) / (n_c - 1)
    var_t = (q_t - s_t**2 / n_t) / (n_t - 1)
    se = np.sqrt(var_c / n_c + var_t / n_t)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (s_t / n_t - s_c / n_c) / se
    return np.where(se > 0, 2 * norm.sf(np.abs(z)), 1.0)


def wilson_interval(successes: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of a binomial share (good at shares near 0, like 5 %)."""
    z = norm.ppf(1 - alpha / 2)
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def aa_study(values, n_tests: int = 1000, salt: str = "aa", alpha: float = 0.05) -> dict:
    """False-positive rate of the end-of-test Welch test over ``n_tests`` A/A splits.

    Returns ``false_positive_rate``, its Wilson ``ci_low``/``ci_high``, ``n_tests`` and the
    ``p_values`` (uniform on (0, 1) when the test is calibrated).
    """
    values = np.asarray(values, dtype=np.float64)
    treated = _splits(values.size, n_tests, salt)
    (n_c, s_c, q_c), (n_t, s_t, q_t) = _arm_moments(treated, values)
    p = welch_p_from_moments(n_c, s_c, q_c, n_t, s_t, q_t)
    rejected = int((p < alpha).sum())
    low, high = wilson_interval(rejected, n_tests, alpha)
    return {"false_positive_rate": rejected / n_tests, "ci_low": low, "ci_high": high,
            "n_tests": n_tests, "p_values": p}  # fmt: skip


def peeking_study(cumulative, n_tests: int = 1000, salt: str = "peek", alpha: float = 0.05,
                  tau_std: float = DEFAULT_TAU_STD) -> pd.DataFrame:  # fmt: skip
    """Rejection rates when an A/A test is checked at every look and stopped at the first hit.

    ``cumulative`` is (members, looks): each member's metric accumulated up to each look (e.g.
    hours watched by the end of each day). Returns one row per look: ``look``, and for
    ``naive`` (Welch at every look) and ``msprt`` (always valid) the share of splits rejected
    at that look or earlier.
    """
    values = np.asarray(cumulative, dtype=np.float64)
    treated = _splits(values.shape[0], n_tests, salt)
    (n_c, s_c, q_c), (n_t, s_t, q_t) = _arm_moments(treated, values)
    naive = welch_p_from_moments(n_c, s_c, q_c, n_t, s_t, q_t) < alpha
    looks = values.shape[1]
    grid = np.ones((n_tests, looks))
    seq = msprt_means(n_c[:, None] * grid, s_c, q_c, n_t[:, None] * grid, s_t, q_t,
                      alpha=alpha, tau_std=tau_std)  # fmt: skip
    msprt = np.asarray(seq["p_value"]) < alpha
    return pd.DataFrame({
        "look": np.arange(1, looks + 1),
        "naive": np.logical_or.accumulate(naive, axis=1).mean(axis=0),
        "msprt": np.logical_or.accumulate(msprt, axis=1).mean(axis=0),
    })  # fmt: skip

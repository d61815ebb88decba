"""Judge a send-hour rule on logged pushes sent at random hours, without the truth.

When the logged pushes were sent at a uniformly random hour (the simulated service's push
experiment), the pushes whose random hour happened to fall near the hour a rule would have
chosen for that member-day are a random sample of what the rule would have done. Their open
rate estimates the rule's open rate with no model of the outcome (the "replay" idea of Li et
al. 2011, with a window of ``within`` hours in place of an exact match):

    rate = sum_i opened_i 1[gap_i <= within] / sum_i 1[gap_i <= within],
    gap_i = min(|h_i - c_i| mod 24, 24 - |h_i - c_i| mod 24),

with ``h_i`` the logged send hour and ``c_i`` the rule's hour. Its standard error is the
binomial ``sqrt(rate (1 - rate) / n)`` over the ``n`` matched pushes. If the logged hours were
not random the estimate is confounded by whatever chose them.
"""

from __future__ import annotations

import numpy as np

from persona_lib.data import Z95

__all__ = ["logged_open_rate"]


def logged_open_rate(sent_hour, opened, chosen_hour, within: float = 1.0) -> dict[str, float]:
    """Open rate of the logged pushes sent within `within` circular hours of a rule's hour.

    Parameters
    ----------
    sent_hour : array of float, shape (n,)
        Hour (0-24) each logged push was sent, drawn at random.
    opened : array of bool, shape (n,)
        Whether the push was opened.
    chosen_hour : array of float, shape (n,)
        The hour the rule would have sent at, for the same member-day.
    within : float
        Largest circular distance in hours counted as a match (0.5 for the same hour).

    Returns
    -------
    dict
        ``pushes`` (matched pushes), ``open_rate``, ``se``, ``ci_low``, ``ci_high`` (95 %,
        normal); the rate and its interval are NaN when no push matches.

    Examples
    --------
    >>> out = logged_open_rate([20, 21, 3, 22], [True, False, True, True], [20, 20, 20, 12])
    >>> out["pushes"], out["open_rate"], round(out["se"], 4)
    (2, 0.5, 0.3536)
    """
    sent = np.asarray(sent_hour, dtype=np.float64)
    hit = np.asarray(opened, dtype=bool)
    chosen = np.asarray(chosen_hour, dtype=np.float64)
    if not sent.shape == hit.shape == chosen.shape or sent.ndim != 1:
        raise ValueError("sent_hour, opened and chosen_hour must be 1-d arrays of one length")
    if within < 0:
        raise ValueError(f"within must be >= 0, got {within}")
    gap = np.abs(sent - chosen) % 24
    near = np.minimum(gap, 24 - gap) <= within
    n = int(near.sum())
    if n == 0:
        return {"pushes": 0, "open_rate": np.nan, "se": np.nan, "ci_low": np.nan,
                "ci_high": np.nan}  # fmt: skip
    rate = float(hit[near].mean())
    se = float(np.sqrt(rate * (1 - rate) / n))
    return {"pushes": n, "open_rate": rate, "se": se, "ci_low": rate - Z95 * se,
            "ci_high": rate + Z95 * se}  # fmt: skip

"""Subscription signals from the billing log: renewals, cancellations and payment failures."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

RENEWAL_STATUSES = ("renewed", "churned", "payment_failed")


def monthly_churn(billing: pd.DataFrame) -> pd.DataFrame:
    """Realized churn per calendar month of the renewal date.

    A renewal is a billing row whose status is renewed, churned or payment_failed (signups and
    reactivations are not renewal decisions). ``churn_rate`` = (churned + payment_failed) /
    renewals; ``involuntary_share`` = payment_failed / (churned + payment_failed).

    Parameters
    ----------
    billing : billing table (user_id, period_start, plan, price, status).

    Returns
    -------
    DataFrame: month (``YYYY-MM``), renewals, churned, payment_failed, churn_rate,
    involuntary_share; a last row ``month="all"`` pools every month.

    Examples
    --------
    >>> monthly_churn(world.billing).tail(1)  # doctest: +SKIP
    """
    due = billing[billing["status"].isin(RENEWAL_STATUSES)]
    month = due["period_start"].dt.strftime("%Y-%m").to_numpy()
    status = due["status"].astype(str).to_numpy()
    counts = pd.crosstab(month, status).reindex(columns=list(RENEWAL_STATUSES), fill_value=0)
    counts.loc["all"] = counts.sum()
    out = pd.DataFrame(
        {
            "month": counts.index.astype(str),
            "renewals": counts.sum(axis=1).to_numpy(),
            "churned": counts["churned"].to_numpy(),
            "payment_failed": counts["payment_failed"].to_numpy(),
        }
    )
    lost = out["churned"] + out["payment_failed"]
    out["churn_rate"] = lost / out["renewals"].where(out["renewals"] > 0)
    out["involuntary_share"] = out["payment_failed"] / lost.where(lost > 0)
    return out


def renewal_loss_probability(hazard: npt.ArrayLike, payment_failure: npt.ArrayLike) -> np.ndarray:
    """Probability that a renewal is lost: the payment fails, or the member cancels.

    ``p = 1 - (1 - h)(1 - f) = f + (1 - f) h`` with ``h`` the voluntary churn hazard and ``f``
    the payment-failure probability (independent events); computed as ``f + (1 - f) h`` in
    float64.

    Parameters
    ----------
    hazard : array-like (n,), voluntary churn hazard at each renewal.
    payment_failure : array-like (n,), probability that each renewal's payment fails.

    Returns
    -------
    ndarray (n,) of float64.

    Examples
    --------
    >>> renewal_loss_probability([0.1, 0.0], [0.5, 0.2]).tolist()
    [0.55, 0.2]
    """
    fail = np.asarray(payment_failure, dtype=np.float64)
    return fail + (1 - fail) * np.asarray(hazard, dtype=np.float64)

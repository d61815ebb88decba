"""Subscription signals from the billing log: renewals, cancellations and payment failures."""

from __future__ import annotations

import numpy as np
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


def expected_churn(churn_hazard: pd.DataFrame) -> float:
    """Mean probability of losing a member at a renewal: voluntary hazard plus payment failure.

    ``churn_hazard`` is the simulator's truth table (user_id, period_start, hazard,
    payment_failure_prob); a renewal is lost if the payment fails or, if it goes through, the
    member cancels.
    """
    fail = churn_hazard["payment_failure_prob"].to_numpy(np.float64)
    hazard = churn_hazard["hazard"].to_numpy(np.float64)
    return float(np.mean(fail + (1 - fail) * hazard))

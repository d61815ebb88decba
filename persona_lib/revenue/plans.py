"""Plan economics from the billing log: ARPU by plan, plan mix over time, plan-change flows.

A *paid period* is a billing row with status new, renewed or reactivated: the member paid
``price`` (USD) for the month starting at ``period_start``. Rows with status churned or
payment_failed record a renewal that was not paid and carry no revenue.

Ad revenue of the ads tier is an explicit ASSUMPTION, not a measured figure:

    ad revenue per hour watched = (ad minutes per hour * 60 / seconds per ad) * CPM / 1000
                                = (4 * 60 / 30) * 40 / 1000 = 0.32 USD / hour.

Sources (public trade-press figures, recalled, not checked here): Netflix announced an ad load of
about 4 minutes per hour for "Basic with Ads" at launch (Nov 2022) with 15- and 30-second spots;
trade press (e.g. Ad Age, WSJ, 2022-2024) reported CPMs near USD 60 at launch, falling to roughly
30-45 since. USD 40 is a mid-range pick; 30-second spots give the fewer, cheaper impressions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from persona_lib.data.constants import PRICES
from persona_lib.data.schema import PLANS

PAID_STATUSES = ("new", "renewed", "reactivated")
AD_MINUTES_PER_HOUR = 4.0  # Netflix ad-tier launch announcement, Nov 2022 (assumption)
AD_SECONDS = 30.0  # the longer of the 15 / 30 s launch spot lengths (assumption)
AD_CPM_USD = 40.0  # mid-range of the ~30-60 USD CPMs reported by trade press (assumption)


def ad_revenue_per_hour(
    ad_minutes_per_hour: float = AD_MINUTES_PER_HOUR,
    ad_seconds: float = AD_SECONDS,
    cpm_usd: float = AD_CPM_USD,
    fill_rate: float = 1.0,
) -> float:
    """Ad revenue per hour watched, USD/hour = ad_minutes * 60 / ad_seconds * fill * CPM / 1000.

    Defaults are the assumptions in the module docstring (4 min/hour, 30 s spots, USD 40 CPM,
    every slot sold): 0.32 USD per hour watched.
    """
    values = (ad_minutes_per_hour, ad_seconds, cpm_usd, fill_rate)
    if not all(np.isfinite(values)) or min(values) < 0 or ad_seconds == 0 or fill_rate > 1:
        raise ValueError(f"ad_revenue_per_hour: invalid inputs {values}")
    return ad_minutes_per_hour * 60.0 / ad_seconds * fill_rate * cpm_usd / 1000.0


@dataclass(frozen=True)
class PlanEconomics:
    """Unit economics of one plan.

    ``price`` list price in USD per month; ``margin`` share of revenue kept (1.0 = revenue view,
    the default: we make no claim about costs); ``ad_revenue_per_hour`` USD per hour watched
    (non-zero only for an ad-supported tier).
    """

    plan: str
    price: float
    margin: float = 1.0
    ad_revenue_per_hour: float = 0.0

    def __post_init__(self):
        if self.plan not in PLANS:
            raise ValueError(f"plan: must be one of {list(PLANS)}, got {self.plan!r}")
        if not np.isfinite(self.price) or self.price < 0:
            raise ValueError(f"price: must be finite and >= 0, got {self.price}")
        if not 0 <= self.margin <= 1:
            raise ValueError(f"margin: must be in [0, 1], got {self.margin}")
        if not np.isfinite(self.ad_revenue_per_hour) or self.ad_revenue_per_hour < 0:
            raise ValueError(f"ad_revenue_per_hour: must be >= 0, got {self.ad_revenue_per_hour}")

    def to_dict(self) -> dict:
        """JSON-safe fields."""
        return {k: (v if isinstance(v, str) else float(v)) for k, v in asdict(self).items()}


# Prices: the simulated service's US list prices (Jan 2025, `simulate_population.PRICES`).
DEFAULT_ECONOMICS: dict[str, PlanEconomics] = {
    plan: PlanEconomics(plan, PRICES[plan], ad_revenue_per_hour=ad_revenue_per_hour())
    if plan == "ads"
    else PlanEconomics(plan, PRICES[plan])
    for plan in PLANS
}


def _check(billing: pd.DataFrame, economics: dict[str, PlanEconomics] | None = None) -> None:
    need = ("user_id", "period_start", "plan", "price", "status")
    missing = [c for c in need if c not in billing.columns]
    if missing:
        raise ValueError(f"billing: missing column(s) {missing} (needs {list(need)})")
    if economics is not None:
        absent = sorted(set(billing["plan"].astype(str)) - set(economics))
        if absent:
            raise ValueError(f"economics: no entry for plan(s) {absent}")


def arpu_by_plan(
    billing: pd.DataFrame,
    hours_by_member: pd.Series | None = None,
    economics: dict[str, PlanEconomics] | None = None,
) -> pd.DataFrame:
    """Average revenue per paid member-month by plan, subscription plus ads.

    subscription revenue = sum of ``price`` over paid periods; ad revenue of an ads-tier paid
    period = hours_by_member[user_id] * ad_revenue_per_hour; ARPU = revenue / paid periods
    (USD per member-month); contribution = ARPU * margin.

    Parameters
    ----------
    billing : billing table (user_id, period_start, plan, price, status).
    hours_by_member : hours watched per paid month, indexed by user_id; members absent watch 0.
        None: no ad revenue.
    economics : plan -> `PlanEconomics`; defaults to `DEFAULT_ECONOMICS`.

    Returns
    -------
    DataFrame, one row per plan in `PLANS` then ``plan="all"``: paid_periods, members,
    subscription_revenue, ad_revenue, revenue, arpu, margin, contribution_per_member_month.

    Examples
    --------
    >>> arpu_by_plan(world.tables["billing"])  # doctest: +SKIP
    """
    economics = DEFAULT_ECONOMICS if economics is None else economics
    _check(billing, economics)
    paid = billing[billing["status"].isin(PAID_STATUSES)]
    plan = paid["plan"].astype(str).to_numpy()
    rate = np.array([economics[p].ad_revenue_per_hour for p in plan], dtype=np.float64)
    hours = np.zeros(len(paid))
    if hours_by_member is not None:
        hours = hours_by_member.reindex(paid["user_id"].to_numpy()).fillna(0).to_numpy(float)
    frame = pd.DataFrame(
        {
            "plan": plan,
            "user_id": paid["user_id"].to_numpy(),
            "subscription_revenue": paid["price"].to_numpy(np.float64),
            "ad_revenue": hours * rate,
        }
    )
    out = frame.groupby("plan").agg(
        paid_periods=("user_id", "size"),
        members=("user_id", "nunique"),
        subscription_revenue=("subscription_revenue", "sum"),
        ad_revenue=("ad_revenue", "sum"),
    )
    out = out.reindex([p for p in PLANS if p in economics], fill_value=0)
    total = out.sum()
    total["members"] = frame["user_id"].nunique()
    out.loc["all"] = total
    out["revenue"] = out["subscription_revenue"] + out["ad_revenue"]
    out["arpu"] = out["revenue"] / out["paid_periods"].where(out["paid_periods"] > 0)
    margins = {p: economics[p].margin for p in out.index if p != "all"}
    weights = out["revenue"].drop("all")
    pooled = np.average(list(margins.values()), weights=weights) if weights.sum() > 0 else np.nan
    out["margin"] = pd.Series({**margins, "all": pooled})
    out["contribution_per_member_month"] = out["arpu"] * out["margin"]
    return out.rename_axis("plan").reset_index()


def plan_mix(billing: pd.DataFrame) -> pd.DataFrame:
    """Share of paid periods on each plan per calendar month of ``period_start``.

    share = paid periods of the plan in the month / all paid periods in the month (unitless).

    Returns
    -------
    Long DataFrame: month (``YYYY-MM``), plan, paid_periods, share.
    """
    _check(billing)
    paid = billing[billing["status"].isin(PAID_STATUSES)]
    month = paid["period_start"].dt.strftime("%Y-%m").to_numpy()
    counts = pd.crosstab(month, paid["plan"].astype(str).to_numpy())
    counts = counts.reindex(columns=list(PLANS), fill_value=0)
    shares = counts.div(counts.sum(axis=1), axis=0)
    out = counts.stack().rename("paid_periods").to_frame()
    out["share"] = shares.stack()
    return out.rename_axis(["month", "plan"]).reset_index()


def plan_transitions(billing: pd.DataFrame) -> pd.DataFrame:
    """Counts of plan changes between consecutive billing rows of each member.

    Rows are ordered by (user_id, period_start); each pair of consecutive rows of one member
    counts once in cell (plan of the earlier row, plan of the later row). The diagonal counts
    members who kept their plan.

    Returns
    -------
    Square DataFrame of int counts, index ``from_plan`` and columns ``to_plan``, both `PLANS`.
    """
    _check(billing)
    order = np.lexsort((billing["period_start"].to_numpy(), billing["user_id"].to_numpy()))
    user = billing["user_id"].to_numpy()[order]
    plan = billing["plan"].astype(str).to_numpy()[order]
    same = user[1:] == user[:-1]
    matrix = pd.crosstab(
        pd.Categorical(plan[:-1][same], categories=list(PLANS)),
        pd.Categorical(plan[1:][same], categories=list(PLANS)),
        dropna=False,
    )
    matrix = matrix.reindex(index=list(PLANS), columns=list(PLANS), fill_value=0).astype(np.int64)
    return matrix.rename_axis(index="from_plan", columns="to_plan")


def plan_flows(
    transitions: pd.DataFrame, economics: dict[str, PlanEconomics] | None = None
) -> pd.Series:
    """Upgrades (to a higher list price), downgrades (lower) and unchanged from a transition matrix.

    Moves between plans of equal price count as unchanged.
    """
    economics = DEFAULT_ECONOMICS if economics is None else economics
    price_from = np.array([economics[p].price for p in transitions.index])
    price_to = np.array([economics[p].price for p in transitions.columns])
    diff = price_to[None, :] - price_from[:, None]
    counts = transitions.to_numpy()
    return pd.Series(
        {
            "upgrades": int(counts[diff > 0].sum()),
            "downgrades": int(counts[diff < 0].sum()),
            "unchanged": int(counts[diff == 0].sum()),
        }
    )

"""Revenue of the sales levers: incremental conversions turned into USD, under stated assumptions.

Every value is per member (multiply by 1,000 with `per_thousand`) and follows the payment
convention of `persona_lib.revenue.lifetime`: a member pays at the start of each month while
still a member, so over a horizon of ``H`` months with a constant monthly churn ``c`` they pay
``L = E[min(T, H)] = (1 - (1 - c)^H) / c`` months (`expected_lifetime`). No discounting.

- Upgrade: an upgrader pays ``delta`` (the monthly price increase) for ``L`` months; an upgrader
  who took the offer gets ``discount_months`` of the increase free (ASSUMPTION: the offer's
  "first month at a discount" is the first month of the new plan at the old price, so the cost
  is one month of ``delta`` per offered upgrader; `SalesConfig` sets no discount amount):
  ``value = p * delta * (L - offered * discount_months)``.
- Reactivation: a reactivated member pays their plan's ``price`` for ``L`` months:
  ``value = p * price * L``.
- Game adoption (ASSUMPTION, no public figure: games are included in the plan, so an adopter
  is worth only the retention they add): an adopter's monthly churn is ``c * rr`` instead of
  ``c``, ``value = p * arpu * (L(c rr) - L(c))``; default ``rr = 0.9``.
- Ads: ad revenue per member month = ``hours * ad_minutes * 60 / ad_seconds * CPM / 1000``
  (`persona_lib.revenue.plans.ad_revenue_per_hour`); the ads tier beats a plan priced ``P``
  per member month when ``price_ads + ad revenue > P``, i.e. at a CPM above
  ``(P - price_ads) * 1000 / (hours * ads per hour)`` (`break_even_cpm`).
"""

from __future__ import annotations

import numpy as np

from persona_lib.revenue.lifetime import expected_lifetime
from persona_lib.revenue.plans import AD_CPM_USD, AD_MINUTES_PER_HOUR, AD_SECONDS
from persona_lib.revenue.plans import ad_revenue_per_hour as _ad_revenue_per_hour

HORIZON_MONTHS = 12  # ASSUMPTION: value a conversion over its first year
OFFER_DISCOUNT_MONTHS = 1.0  # ASSUMPTION: months of the price increase given away per offer taken
ADOPTER_CHURN_RR = 0.9  # ASSUMPTION: relative monthly churn of a game adopter


def _nonneg(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be finite and >= 0")
    return a


def _probability(x, name: str) -> np.ndarray:
    a = _nonneg(x, name)
    if np.any(a > 1):
        raise ValueError(f"{name} must lie in [0, 1]")
    return a


def paid_months(monthly_churn: float, horizon_months: int | None = HORIZON_MONTHS) -> float:
    """Expected paid months ``L = E[min(T, H)]`` of a member with constant monthly churn.

    Examples
    --------
    >>> paid_months(0.5, 2)
    1.5
    """
    return expected_lifetime(monthly_churn, horizon_months)


def upgrade_revenue(
    p_upgrade, price_delta, offered, monthly_churn: float,
    horizon_months: int | None = HORIZON_MONTHS, discount_months: float = OFFER_DISCOUNT_MONTHS,
) -> np.ndarray:  # fmt: skip
    """Expected upgrade revenue per member, ``p * delta * (L - offered * discount_months)``, USD.

    Parameters
    ----------
    p_upgrade : (n,) probability of upgrading under the decision taken.
    price_delta : (n,) monthly price increase of an upgrade, USD.
    offered : (n,) bool, the member got the offer (and its discount when upgrading).
    monthly_churn, horizon_months : give ``L`` (`paid_months`).
    discount_months : months of the increase the offer gives away (>= 0).

    Examples
    --------
    >>> upgrade_revenue([0.5], [6.0], [True], 0.5, 2).tolist()  # 0.5 * 6 * (1.5 - 1)
    [1.5]
    """
    p = _probability(p_upgrade, "p_upgrade")
    delta = _nonneg(price_delta, "price_delta")
    if not discount_months >= 0:
        raise ValueError(f"discount_months must be >= 0, got {discount_months}")
    months = paid_months(monthly_churn, horizon_months)
    offer = np.asarray(offered, dtype=bool)
    return p * delta * (months - offer * discount_months)


def reactivation_revenue(
    p_reactivate, monthly_price, monthly_churn: float, horizon_months: int | None = HORIZON_MONTHS
) -> np.ndarray:
    """Expected revenue per lapsed member from reactivating, ``p * price * L``, USD.

    Examples
    --------
    >>> reactivation_revenue([0.1], [10.0], 0.5, 2).tolist()  # 0.1 * 10 * 1.5
    [1.5]
    """
    p = _probability(p_reactivate, "p_reactivate")
    price = _nonneg(monthly_price, "monthly_price")
    return p * price * paid_months(monthly_churn, horizon_months)


def adoption_revenue(
    expected_adoptions, arpu, monthly_churn: float, churn_relative_risk: float = ADOPTER_CHURN_RR,
    horizon_months: int | None = HORIZON_MONTHS,
) -> np.ndarray:  # fmt: skip
    """Retention value of game adoptions, ``adoptions * arpu * (L(c rr) - L(c))``, USD.

    Examples
    --------
    >>> round(float(adoption_revenue(1.0, 10.0, 0.5, 0.5, 2)), 6)  # 10 * (1.75 - 1.5)
    2.5
    """
    n = _nonneg(expected_adoptions, "expected_adoptions")
    arpu = _nonneg(arpu, "arpu")
    if not 0 < churn_relative_risk <= 1 / monthly_churn:
        raise ValueError(
            f"churn_relative_risk must be in (0, 1 / monthly_churn], got {churn_relative_risk}"
        )
    gain = paid_months(monthly_churn * churn_relative_risk, horizon_months) - paid_months(
        monthly_churn, horizon_months
    )
    return n * arpu * gain


def ad_revenue_per_member_month(
    hours_per_month, ad_minutes_per_hour: float = AD_MINUTES_PER_HOUR,
    ad_seconds: float = AD_SECONDS, cpm_usd: float = AD_CPM_USD,
) -> np.ndarray:  # fmt: skip
    """Ad revenue per member month, ``hours * ad_minutes * 60 / ad_seconds * CPM / 1000``, USD.

    Examples
    --------
    >>> float(ad_revenue_per_member_month(10.0))  # 10 h * 8 ads/h * 40 / 1000
    3.2
    """
    hours = _nonneg(hours_per_month, "hours_per_month")
    return hours * _ad_revenue_per_hour(ad_minutes_per_hour, ad_seconds, cpm_usd)


def ads_tier_arpu(
    price, hours_per_month, ad_minutes_per_hour: float = AD_MINUTES_PER_HOUR,
    ad_seconds: float = AD_SECONDS, cpm_usd: float = AD_CPM_USD,
) -> np.ndarray:  # fmt: skip
    """Average revenue per ads-tier member month: price plus ad revenue, USD."""
    price = _nonneg(price, "price")
    return price + ad_revenue_per_member_month(
        hours_per_month, ad_minutes_per_hour, ad_seconds, cpm_usd
    )


def break_even_cpm(
    price_gap, hours_per_month, ad_minutes_per_hour: float = AD_MINUTES_PER_HOUR,
    ad_seconds: float = AD_SECONDS,
) -> np.ndarray:  # fmt: skip
    """CPM (USD per 1,000 ads) at which ad revenue covers ``price_gap`` per member month.

    ``price_gap * 1000 / (hours * ad_minutes * 60 / ad_seconds)``; infinite without ads.

    Examples
    --------
    >>> float(break_even_cpm(4.0, 10.0))  # 4 * 1000 / (10 h * 8 ads/h)
    50.0
    """
    gap = np.asarray(price_gap, dtype=np.float64)
    # ads per member month: revenue per hour at a CPM of 1000 USD is 1 USD per ad
    ads = _nonneg(hours_per_month, "hours_per_month") * _ad_revenue_per_hour(
        ad_minutes_per_hour, ad_seconds, 1000.0
    )
    with np.errstate(divide="ignore"):
        return np.where(ads > 0, 1000.0 * gap / np.where(ads > 0, ads, 1.0), np.inf)


def lifetime_revenue(
    monthly_revenue, monthly_churn: float, horizon_months: int | None = None
) -> np.ndarray:
    """Expected revenue over a member's (restricted) lifetime, ``monthly_revenue * L``, USD.

    Examples
    --------
    >>> float(lifetime_revenue(10.0, 0.02))  # 10 * 50 months
    500.0
    """
    return _nonneg(monthly_revenue, "monthly_revenue") * paid_months(monthly_churn, horizon_months)


def per_thousand(value_per_member) -> np.ndarray:
    """Scale a per-member value to 1,000 members."""
    return 1000.0 * np.asarray(value_per_member, dtype=np.float64)

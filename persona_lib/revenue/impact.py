"""What a change in monthly churn is worth per year, under two explicit framings.

Inputs: a member base N, monthly churn before c0 and after c1 (probabilities per month), ARPU
(USD per member-month), a margin (share of revenue kept) and an annual discount rate d.

``"annual_avoided_cancellations"``: N (c0 - c1) 12 cancellations are avoided per year (the base
held at N, i.e. lost members would have been replaced). Each avoided cancellation is one member
who pays again and then churns at c1, and is worth (``value_basis``):

* ``"first_year"``: the revenue that member pays over the next ``horizon_months`` (default 12),
  ARPU * margin * sum_{t<H} ((1 - c1) v)^t, v = (1 + d)^(-1/12);
* ``"lifetime"``: the member's whole discounted lifetime value, ARPU * margin / (1 - (1 - c1) v).

value = 12 N (c0 - c1) * value per avoided cancellation   [USD per year].

``"steady_state"``: with the same gross adds G per month the base settles at G / c, so it scales
by c0 / c1 and the annual revenue changes by

value = N (c0 / c1 - 1) * ARPU * margin * 12                [USD per year, once settled].

The new steady state takes several lifetimes (~1 / c1 months) to reach and is not discounted.
Undiscounted, the lifetime basis gives exactly the steady-state value: 12 N (c0 - c1) / c1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import brentq

from persona_lib.revenue.lifetime import ltv

FRAMINGS = ("steady_state", "annual_avoided_cancellations")
VALUE_BASES = ("first_year", "lifetime")


@dataclass(frozen=True)
class ChurnImpact:
    """The annual value of moving monthly churn from ``churn_before`` to ``churn_after``.

    ``value`` in USD per year; ``cancellations_avoided`` per year and ``value_per_cancellation``
    (USD) under the avoided-cancellations framing (NaN otherwise); ``members_after`` the settled
    base under the steady-state framing (NaN otherwise). ``value_basis`` and ``horizon_months``
    only matter for the avoided-cancellations framing.
    """

    value: float
    framing: str
    value_basis: str
    members: float
    churn_before: float
    churn_after: float
    arpu: float
    margin: float
    annual_discount_rate: float
    horizon_months: int
    cancellations_avoided: float = float("nan")
    value_per_cancellation: float = float("nan")
    members_after: float = float("nan")

    @property
    def churn_reduction_pp(self) -> float:
        """c0 - c1 in percentage points of monthly churn."""
        return 100.0 * (self.churn_before - self.churn_after)

    def to_dict(self) -> dict:
        """JSON-safe fields plus ``churn_reduction_pp``; NaN becomes None."""
        out = {**asdict(self), "churn_reduction_pp": self.churn_reduction_pp}
        return {
            k: v if isinstance(v, str) else (None if np.isnan(v) else float(v))
            for k, v in out.items()
        }


def _check(members, churn_before, arpu, margin, discount, framing, value_basis, horizon):
    if framing not in FRAMINGS:
        raise ValueError(f"framing: must be one of {list(FRAMINGS)}, got {framing!r}")
    if value_basis not in VALUE_BASES:
        raise ValueError(f"value_basis: must be one of {list(VALUE_BASES)}, got {value_basis!r}")
    for name, x in (("members", members), ("arpu", arpu), ("annual_discount_rate", discount)):
        if not np.isfinite(x) or x < 0:
            raise ValueError(f"{name}: must be finite and >= 0, got {x}")
    if not 0 < churn_before <= 1:
        raise ValueError(f"churn_before: must be in (0, 1], got {churn_before}")
    if not 0 <= margin <= 1:
        raise ValueError(f"margin: must be in [0, 1], got {margin}")
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon_months: must be a whole number >= 1, got {horizon}")


def churn_change_value(
    members: float,
    churn_before: float,
    churn_after: float,
    arpu: float,
    margin: float = 1.0,
    annual_discount_rate: float = 0.0,
    framing: str = "steady_state",
    value_basis: str = "lifetime",
    horizon_months: int = 12,
) -> ChurnImpact:
    """Annual value (USD per year) of a change in monthly churn; see the module docstring.

    Parameters
    ----------
    members : N, the member base at ``churn_before``.
    churn_before, churn_after : c0 and c1, monthly churn probabilities; c1 in (0, c0] for gains.
    arpu : USD per member-month.
    margin : share of revenue kept (1.0 = revenue view).
    annual_discount_rate : d, only used by the avoided-cancellations framing.
    framing : "steady_state" or "annual_avoided_cancellations".
    value_basis : "first_year" or "lifetime" (avoided-cancellations framing only).
    horizon_months : H of the "first_year" basis.

    Examples
    --------
    >>> churn_change_value(1000, 0.04, 0.02, 10.0).value  # 1000 * (2 - 1) * 10 * 12
    120000.0
    """
    _check(
        members,
        churn_before,
        arpu,
        margin,
        annual_discount_rate,
        framing,
        value_basis,
        horizon_months,
    )
    if not 0 < churn_after <= 1:
        raise ValueError(f"churn_after: must be in (0, 1], got {churn_after}")
    common = dict(
        framing=framing,
        value_basis=value_basis,
        members=float(members),
        churn_before=float(churn_before),
        churn_after=float(churn_after),
        arpu=float(arpu),
        margin=float(margin),
        annual_discount_rate=float(annual_discount_rate),
        horizon_months=int(horizon_months),
    )
    if framing == "steady_state":
        after = members * churn_before / churn_after
        value = (after - members) * arpu * margin * 12.0
        return ChurnImpact(value=float(value), members_after=float(after), **common)
    avoided = 12.0 * members * (churn_before - churn_after)
    horizon = None if value_basis == "lifetime" else int(horizon_months)
    each = ltv(arpu, margin, churn_after, annual_discount_rate, horizon)
    return ChurnImpact(
        value=float(avoided * each),
        cancellations_avoided=float(avoided),
        value_per_cancellation=float(each),
        **common,
    )


def churn_reduction_for_value(
    target_value: float,
    members: float,
    churn_before: float,
    arpu: float,
    margin: float = 1.0,
    annual_discount_rate: float = 0.0,
    framing: str = "steady_state",
    value_basis: str = "lifetime",
    horizon_months: int = 12,
) -> ChurnImpact:
    """The churn after (and so the reduction c0 - c1) whose annual value is ``target_value``.

    Steady state in closed form: c1 = c0 / (1 + V / (12 N ARPU margin)). Avoided cancellations:
    the value rises monotonically with c0 - c1, so `scipy.optimize.brentq` finds the root on
    (0, c0) to a relative tolerance of 1e-12.

    Returns
    -------
    `ChurnImpact` at the solution; ``churn_reduction_pp`` is the answer in percentage points.
    """
    _check(
        members,
        churn_before,
        arpu,
        margin,
        annual_discount_rate,
        framing,
        value_basis,
        horizon_months,
    )
    if not np.isfinite(target_value) or target_value <= 0:
        raise ValueError(f"target_value: must be finite and > 0, got {target_value}")
    args = (members, churn_before)
    kwargs = dict(
        arpu=arpu,
        margin=margin,
        annual_discount_rate=annual_discount_rate,
        framing=framing,
        value_basis=value_basis,
        horizon_months=horizon_months,
    )
    if framing == "steady_state":
        annual = 12.0 * members * arpu * margin
        if annual <= 0:
            raise ValueError("target_value: unreachable, members * arpu * margin is 0")
        return churn_change_value(*args, churn_before / (1.0 + target_value / annual), **kwargs)

    def gap(reduction: float) -> float:
        return churn_change_value(*args, churn_before - reduction, **kwargs).value - target_value

    top = churn_before * (1.0 - 1e-9)
    if gap(top) < 0:
        raise ValueError(
            f"target_value: unreachable, even churn near 0 is worth {gap(top) + target_value:.4g}"
        )
    reduction = brentq(gap, 0.0, top, xtol=1e-15, rtol=1e-12)
    return churn_change_value(*args, churn_before - reduction, **kwargs)


@dataclass(frozen=True)
class ScaledEffect:
    """An experiment effect scaled to a member base: total = effect * scale, CI scaled alike.

    ``unit`` is "usd" (effect in USD per member-month, total in USD) or "cancellations" (effect
    in churn percentage points, total = effect / 100 * members * months cancellations avoided).
    """

    total: float
    ci_low: float
    ci_high: float
    effect_per_member_month: float
    members: float
    months: float
    unit: str

    def to_dict(self) -> dict:
        """JSON-safe fields; NaN becomes None."""
        return {
            k: v if isinstance(v, str) else (None if np.isnan(v) else float(v))
            for k, v in asdict(self).items()
        }


def scale_effect(
    effect_per_member_month: float,
    members: float,
    months: float,
    ci: tuple[float, float] | None = None,
    kind: str = "revenue",
) -> ScaledEffect:
    """Scale a measured per-member-month effect to ``members`` over ``months``.

    total = effect * members * months (kind "revenue": effect in USD per member-month, total in
    USD) or effect / 100 * members * months (kind "churn_pp": effect = reduction of monthly churn
    in percentage points, positive when churn falls; total = cancellations avoided). members
    and months are taken as known constants, so the CI endpoints scale by the same positive
    factor (its level is unchanged).

    Examples
    --------
    >>> scale_effect(0.05, 1e6, 12, ci=(0.01, 0.09)).total  # 0.05 USD * 1M members * 12 months
    600000.0
    """
    kinds = {"revenue": ("usd", 1.0), "churn_pp": ("cancellations", 0.01)}
    if kind not in kinds:
        raise ValueError(f"kind: must be one of {list(kinds)}, got {kind!r}")
    for name, x in (("members", members), ("months", months)):
        if not np.isfinite(x) or x < 0:
            raise ValueError(f"{name}: must be finite and >= 0, got {x}")
    unit, per = kinds[kind]
    factor = per * float(members) * float(months)
    low, high = (np.nan, np.nan) if ci is None else (float(ci[0]), float(ci[1]))
    if ci is not None and not low <= effect_per_member_month <= high:
        raise ValueError(f"ci: must bracket the effect, got {ci} around {effect_per_member_month}")
    return ScaledEffect(
        total=float(effect_per_member_month) * factor,
        ci_low=low * factor,
        ci_high=high * factor,
        effect_per_member_month=float(effect_per_member_month),
        members=float(members),
        months=float(months),
        unit=unit,
    )

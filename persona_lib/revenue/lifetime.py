"""Expected member lifetime and lifetime value (LTV) from a monthly survival curve.

Convention used throughout `persona_lib.revenue`: a member pays at the *start* of each month
t = 0, 1, 2, ... while still a member, and S(t) = P(T > t) is the probability that the member is
still there to pay at month t, with S(0) = 1 (the signup payment is certain). T is the number of
paid months. With a constant monthly churn c every renewal is lost with probability c, so
S(t) = (1 - c)^t, T is geometric on {1, 2, ...} and

    E[T] = sum_{t>=0} (1 - c)^t = 1 / c  months          (e.g. c = 0.02 -> 50 months).

Restricted to a horizon of H months: E[min(T, H)] = sum_{t<H} S(t) = (1 - (1 - c)^H) / c.
For a step curve with jumps at whole months this equals the restricted mean survival time
integral_0^H S(t) dt (`SurvivalCurve.restricted_mean`).

Observed curves stop at a last month L. Beyond it the tail is extrapolated with a constant
monthly hazard h fitted on the last k observed months (default k = 3, an assumption: short
enough to reflect the settled hazard of tenured members, long enough to smooth one noisy month):

    1 - h = (S(L) / S(L - k))^(1/k),     S(L + j) = S(L) (1 - h)^j,  j >= 1.

LTV discounts the monthly payments at an annual rate d, compounded monthly:
LTV = sum_{t<H} ARPU * margin * S(t) / (1 + d)^(t/12), in the currency of ARPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from persona_lib.models.retention.survival import SurvivalCurve

TAIL_MONTHS = 3  # months used to fit the tail hazard (assumption, see the module docstring)


def _check_rate(value: float, name: str, low_open: bool = False) -> float:
    x = float(value)
    bad = not np.isfinite(x) or x > 1 or (x <= 0 if low_open else x < 0)
    if bad:
        bound = "0 < {} <= 1" if low_open else "0 <= {} <= 1"
        raise ValueError(f"{name}: must satisfy {bound.format(name)}, got {value}")
    return x


def _check_horizon(horizon_months) -> float:
    if horizon_months is None:
        return np.inf
    h = float(horizon_months)
    if not np.isfinite(h) or h < 0 or h != np.floor(h):
        raise ValueError(
            f"horizon_months: must be a whole number >= 0 or None, got {horizon_months}"
        )
    return h


@dataclass(frozen=True, eq=False)
class MonthlySurvival:
    """A monthly survival curve: observed S(0..L) and a constant tail hazard after month L.

    ``observed[t]`` = S(t) for t = 0, ..., L with S(0) = 1 (unitless probabilities);
    ``tail_hazard`` h is the monthly churn probability assumed for every month after L.
    Build it with `from_churn`, `from_array` or `from_curve`.
    """

    observed: np.ndarray
    tail_hazard: float

    def __post_init__(self):
        s = np.asarray(self.observed, dtype=np.float64)
        if s.ndim != 1 or s.size == 0:
            raise ValueError("survival: must be a non-empty 1-d array of S(0), S(1), ...")
        if not np.all(np.isfinite(s)) or np.any((s < 0) | (s > 1)):
            raise ValueError("survival: values must lie in [0, 1]")
        if abs(s[0] - 1.0) > 1e-9:
            raise ValueError(
                f"survival: S(0) must be 1 (the first payment is certain), got {s[0]}; "
                "prepend 1.0 to a curve of month-end values S(1), S(2), ..."
            )
        if np.any(np.diff(s) > 1e-12):
            raise ValueError("survival: must be non-increasing")
        _check_rate(self.tail_hazard, "tail_hazard")
        object.__setattr__(self, "observed", s)

    @classmethod
    def from_churn(cls, churn: float) -> MonthlySurvival:
        """Constant monthly churn c: S(t) = (1 - c)^t, stored as S(0) = 1 and tail hazard c."""
        return cls(np.ones(1), _check_rate(churn, "churn", low_open=True))

    @classmethod
    def from_array(cls, survival, tail_months: int = TAIL_MONTHS) -> MonthlySurvival:
        """S(0), ..., S(L) (S(0) = 1) with the tail hazard fitted on the last ``tail_months``."""
        s = np.asarray(survival, dtype=np.float64).ravel()
        if s.size < 2:
            raise ValueError("survival: need S(0) and at least S(1) to fit a tail hazard")
        if int(tail_months) < 1:
            raise ValueError(f"tail_months: must be >= 1, got {tail_months}")
        k = min(int(tail_months), s.size - 1)
        last, first = s[-1], s[-1 - k]
        hazard = 1.0 if last <= 0 else 1.0 - (last / first) ** (1.0 / k)
        return cls(s, float(np.clip(hazard, 0.0, 1.0)))

    @classmethod
    def from_curve(cls, curve: SurvivalCurve, tail_months: int = TAIL_MONTHS) -> MonthlySurvival:
        """A Kaplan-Meier `SurvivalCurve` whose time unit is months, read at t = 0..floor(t_max)."""
        months = np.arange(int(np.floor(curve.time[-1])) + 1, dtype=np.float64)
        return cls.from_array(np.atleast_1d(curve.at(months)), tail_months)

    @property
    def last_month(self) -> int:
        """L, the last month with an observed S(t)."""
        return self.observed.size - 1

    def at(self, months) -> np.ndarray:
        """S(t) at whole months t >= 0, extrapolated with the tail hazard after L."""
        t = np.asarray(months, dtype=np.int64)
        if np.any(t < 0):
            raise ValueError("months: must be >= 0")
        inside = self.observed[np.minimum(t, self.last_month)]
        beyond = np.maximum(t - self.last_month, 0)
        return inside * (1.0 - self.tail_hazard) ** beyond

    def discounted_sum(self, monthly_discount: float = 1.0, horizon_months=None) -> float:
        """sum_{t<H} S(t) v^t, v = ``monthly_discount`` in (0, 1]; H = None means forever.

        Observed months are summed explicitly; the tail j = 1..H-1-L is the geometric series
        S(L) v^L q (1 - q^n) / (1 - q), q = (1 - h) v, n = H - 1 - L (n = inf: q / (1 - q)).
        """
        v = _check_rate(monthly_discount, "monthly_discount", low_open=True)
        horizon = _check_horizon(horizon_months)
        n_obs = int(min(horizon, self.observed.size))
        head = float(np.sum(self.observed[:n_obs] * v ** np.arange(n_obs)))
        n_tail = horizon - 1 - self.last_month
        base = self.observed[-1] * v**self.last_month
        if n_tail <= 0 or base == 0:
            return head
        q = (1.0 - self.tail_hazard) * v
        if q >= 1.0:
            if np.isinf(n_tail):
                raise ValueError(
                    "lifetime is infinite: the tail hazard is 0 and nothing is discounted; "
                    "give horizon_months or an annual_discount_rate > 0"
                )
            return float(head + base * n_tail)
        # 1 - q written as h v + (1 - v): exact for v = 1, so 1 / c comes out as 1 / c
        return float(head + base * q * (1.0 - q**n_tail) / (self.tail_hazard * v + (1.0 - v)))

    def to_dict(self) -> dict:
        """JSON-safe summary: last observed month, S(L), tail hazard."""
        return {
            "last_month": self.last_month,
            "survival_at_last_month": float(self.observed[-1]),
            "tail_hazard": float(self.tail_hazard),
        }


def as_monthly_survival(survival_or_churn, tail_months: int = TAIL_MONTHS) -> MonthlySurvival:
    """Coerce a churn rate (float), an array S(0..L), a `SurvivalCurve` or a `MonthlySurvival`."""
    if isinstance(survival_or_churn, MonthlySurvival):
        return survival_or_churn
    if isinstance(survival_or_churn, SurvivalCurve):
        return MonthlySurvival.from_curve(survival_or_churn, tail_months)
    if np.ndim(survival_or_churn) == 0:
        return MonthlySurvival.from_churn(float(survival_or_churn))
    return MonthlySurvival.from_array(survival_or_churn, tail_months)


def monthly_discount_factor(annual_discount_rate: float) -> float:
    """v = (1 + d)^(-1/12): the value today of 1 paid one month from now, d the annual rate."""
    d = float(annual_discount_rate)
    if not np.isfinite(d) or d < 0:
        raise ValueError(
            f"annual_discount_rate: must be finite and >= 0, got {annual_discount_rate}"
        )
    return (1.0 + d) ** (-1.0 / 12.0)


def expected_lifetime(
    survival_or_churn, horizon_months: int | None = None, tail_months: int = TAIL_MONTHS
) -> float:
    """Expected number of paid months, E[min(T, H)] = sum_{t<H} S(t), in months.

    Parameters
    ----------
    survival_or_churn : constant monthly churn c (float in (0, 1]), an array S(0), ..., S(L)
        with S(0) = 1, a `SurvivalCurve` in months, or a `MonthlySurvival`.
    horizon_months : H; None sums forever (1 / c for a constant churn c).
    tail_months : months used to fit the constant tail hazard after the last observed month.

    Examples
    --------
    >>> expected_lifetime(0.02)
    50.0
    """
    return as_monthly_survival(survival_or_churn, tail_months).discounted_sum(1.0, horizon_months)


def ltv(
    arpu: float,
    margin: float,
    survival_or_churn,
    annual_discount_rate: float,
    horizon_months: int | None = None,
    tail_months: int = TAIL_MONTHS,
) -> float:
    """Lifetime value: sum_{t<H} ARPU * margin * S(t) / (1 + d)^(t/12), in ARPU's currency.

    Payments at the start of each month (the first one, t = 0, undiscounted). Closed form for a
    constant churn c and H = None: ARPU * margin / (1 - (1 - c) v), v = (1 + d)^(-1/12).

    Parameters
    ----------
    arpu : average revenue per member per month (e.g. USD / member-month).
    margin : share of revenue kept (1.0 = revenue view, unitless).
    survival_or_churn : see `expected_lifetime`.
    annual_discount_rate : d, e.g. 0.08 for 8 % a year.
    horizon_months : H; None means the whole lifetime.

    Examples
    --------
    >>> round(ltv(10.0, 1.0, 0.05, 0.0), 6)
    200.0
    """
    if not np.isfinite(arpu) or arpu < 0:
        raise ValueError(f"arpu: must be finite and >= 0, got {arpu}")
    _check_rate(margin, "margin")
    curve = as_monthly_survival(survival_or_churn, tail_months)
    v = monthly_discount_factor(annual_discount_rate)
    return float(arpu) * float(margin) * curve.discounted_sum(v, horizon_months)

"""The Netflix back-of-envelope: how much monthly churn must fall to be worth $1B a year?

Gomez-Uribe & Hunt (2015/2016, "The Netflix Recommender System: Algorithms, Business Value, and
Innovation", ACM TMIS 6(4), article 13) write that personalization and recommendations "save us
more than $1B per year" by lowering monthly churn, which they put in the low single digits.
`NetflixCase` holds the public inputs for that claim; `churn_reduction_for_one_billion` inverts
`churn_change_value` under each framing; `tornado` shows which input matters most.

Worked by hand with the defaults (N = 93.80M, ARPU = 8.20 USD, c0 = 3 %, margin 1):
12 N ARPU = 9.230 B USD a year, so $1B is 10.83 % of it. Steady state: c0 / c1 = 1.1083,
c1 = 2.707 %, a cut of 0.29 pp. Avoided cancellations valued at their lifetime (d = 8 %):
0.36 pp; valued at their first-year revenue only: about 1.0 pp.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from persona_lib.revenue.impact import ChurnImpact, churn_reduction_for_value

ONE_BILLION = 1e9  # USD / year, Gomez-Uribe & Hunt (2016), section 4 ("Business value")

# Revenue lift from personalization reported by consulting studies: McKinsey & Company, "The
# value of getting personalization right - or wrong - is multiplying" (Nov 2021): most often
# 10-15 %, with company-specific lift spanning 5-15 %.
CONSULTING_UPLIFTS = (0.05, 0.10, 0.15)


@dataclass(frozen=True)
class NetflixCase:
    """Public inputs of the Netflix back-of-envelope (USD, per month unless said otherwise)."""

    # Netflix 10-K for 2016: 93.80M global streaming memberships at the end of 2016.
    members: float = 93.80e6
    # Netflix 10-K for 2016: about 8.20 USD of streaming revenue per member per month (2016).
    arpu: float = 8.20
    # Gomez-Uribe & Hunt (2016): monthly churn "in the low single digits"; 3 % is our mid-point
    # of the 2-4 % range (third-party estimates for 2021-22, Antenna: 2.4-3.3 %). Assumption.
    monthly_churn: float = 0.03
    # Revenue view (1.0): the $1B claim is read as revenue, not profit. Assumption.
    margin: float = 1.0
    # Annual rate for discounting lifetime value; ~8 %, a typical cost of capital for a large
    # listed tech company. Assumption.
    annual_discount_rate: float = 0.08
    # Context only (not used in the arithmetic), from Netflix quarterly reports:
    revenue_q4_2017: float = 3.29e9  # USD in Q4 2017
    revenue_q1_2024: float = 9.37e9  # USD in Q1 2024

    def __post_init__(self):
        for name in ("members", "arpu", "annual_discount_rate"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(f"{name}: must be finite and >= 0, got {getattr(self, name)}")
        if not 0 < self.monthly_churn <= 1:
            raise ValueError(f"monthly_churn: must be in (0, 1], got {self.monthly_churn}")
        if not 0 <= self.margin <= 1:
            raise ValueError(f"margin: must be in [0, 1], got {self.margin}")

    @property
    def annual_revenue(self) -> float:
        """members * ARPU * 12, USD per year (9.23B with the defaults)."""
        return self.members * self.arpu * 12.0

    def to_dict(self) -> dict:
        """JSON-safe fields plus ``annual_revenue``."""
        return {
            **{k: float(v) for k, v in asdict(self).items()},
            "annual_revenue": self.annual_revenue,
        }


def churn_reduction_for_one_billion(
    case: NetflixCase | None = None,
    framing: str = "steady_state",
    value_basis: str = "lifetime",
    target: float = ONE_BILLION,
    horizon_months: int = 12,
) -> ChurnImpact:
    """The monthly churn cut (``.churn_reduction_pp``) worth ``target`` USD a year for the case.

    Examples
    --------
    >>> round(churn_reduction_for_one_billion().churn_reduction_pp, 3)
    0.293
    """
    case = NetflixCase() if case is None else case
    return churn_reduction_for_value(
        target,
        case.members,
        case.monthly_churn,
        case.arpu,
        case.margin,
        case.annual_discount_rate,
        framing,
        value_basis,
        horizon_months,
    )


def back_of_envelope(case: NetflixCase | None = None, target: float = ONE_BILLION) -> pd.DataFrame:
    """Required churn cut under each framing and value basis.

    Returns
    -------
    DataFrame: framing, value_basis, churn_before_pct, churn_after_pct, churn_reduction_pp,
    relative_reduction_pct (cut / c0 * 100), value_usd_per_year.
    """
    cases = (
        ("steady_state", "lifetime"),
        ("annual_avoided_cancellations", "lifetime"),
        ("annual_avoided_cancellations", "first_year"),
    )
    rows = []
    for framing, basis in cases:
        r = churn_reduction_for_one_billion(case, framing, basis, target)
        rows.append(
            {
                "framing": framing,
                "value_basis": basis if framing != "steady_state" else "steady_state",
                "churn_before_pct": 100 * r.churn_before,
                "churn_after_pct": 100 * r.churn_after,
                "churn_reduction_pp": r.churn_reduction_pp,
                "relative_reduction_pct": 100 * r.churn_reduction_pp / (100 * r.churn_before),
                "value_usd_per_year": r.value,
            }
        )
    return pd.DataFrame(rows)


# Tornado ranges (low, high): members and ARPU +-10 % (rounding and paid vs total members);
# churn over the 2-4 % "low single digits"; margin from ~0.4 (a gross margin, assumption) to
# revenue; discount 0-12 % a year.
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "members": (84.42e6, 103.18e6),
    "arpu": (7.38, 9.02),
    "monthly_churn": (0.02, 0.04),
    "margin": (0.4, 1.0),
    "annual_discount_rate": (0.0, 0.12),
}


def tornado(
    case: NetflixCase | None = None,
    target: float = ONE_BILLION,
    ranges: dict[str, tuple[float, float]] | None = None,
    framing: str = "steady_state",
    value_basis: str = "lifetime",
) -> pd.DataFrame:
    """One-at-a-time sensitivity of the required churn cut (pp) to each input of the case.

    Each input moves to its low and high value while the others stay at the case's values.

    Returns
    -------
    DataFrame sorted by swing (largest first): input, input_low, input_high, base_pp,
    output_at_low_pp, output_at_high_pp, swing_pp = |high - low|.
    """
    case = NetflixCase() if case is None else case
    ranges = DEFAULT_RANGES if ranges is None else ranges
    base = churn_reduction_for_one_billion(case, framing, value_basis, target).churn_reduction_pp
    rows = []
    for name, (low, high) in ranges.items():
        if not hasattr(case, name):
            raise ValueError(f"ranges: {name!r} is not a NetflixCase field")
        out = [
            churn_reduction_for_one_billion(
                replace(case, **{name: value}), framing, value_basis, target
            ).churn_reduction_pp
            for value in (low, high)
        ]
        rows.append(
            {
                "input": name,
                "input_low": float(low),
                "input_high": float(high),
                "base_pp": base,
                "output_at_low_pp": out[0],
                "output_at_high_pp": out[1],
                "swing_pp": abs(out[1] - out[0]),
            }
        )
    frame = pd.DataFrame(rows).sort_values("swing_pp", ascending=False, kind="stable")
    return frame.reset_index(drop=True)


def scenario_bands(annual_revenue: float, uplifts=CONSULTING_UPLIFTS) -> pd.DataFrame:
    """Revenue gain (USD per year) if personalization lifts revenue by each uplift share.

    gain = annual_revenue * uplift; revenue_after = annual_revenue * (1 + uplift). Default
    uplifts 5, 10, 15 % from McKinsey (2021), see `CONSULTING_UPLIFTS`.

    Examples
    --------
    >>> scenario_bands(1e9)["gain_usd_per_year"].tolist()
    [50000000.0, 100000000.0, 150000000.0]
    """
    if not np.isfinite(annual_revenue) or annual_revenue < 0:
        raise ValueError(f"annual_revenue: must be finite and >= 0, got {annual_revenue}")
    u = np.asarray(uplifts, dtype=np.float64)
    if u.ndim != 1 or np.any(~np.isfinite(u)) or np.any(u < 0):
        raise ValueError("uplifts: must be a 1-d sequence of finite shares >= 0")
    return pd.DataFrame(
        {
            "uplift_pct": 100 * u,
            "gain_usd_per_year": annual_revenue * u,
            "revenue_after_usd_per_year": annual_revenue * (1 + u),
        }
    )

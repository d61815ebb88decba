"""Retention, lifetime value and business impact: what a churn change or a plan mix is worth.

Conventions: money in USD, churn as a monthly probability, payments at the start of each month
(see `persona_lib.revenue.lifetime`).
"""

from persona_lib.revenue.impact import (
    FRAMINGS,
    VALUE_BASES,
    ChurnImpact,
    ScaledEffect,
    churn_change_value,
    churn_reduction_for_value,
    scale_effect,
)
from persona_lib.revenue.lifetime import (
    MonthlySurvival,
    as_monthly_survival,
    expected_lifetime,
    ltv,
    monthly_discount_factor,
)
from persona_lib.revenue.netflix import (
    CONSULTING_UPLIFTS,
    DEFAULT_RANGES,
    ONE_BILLION,
    NetflixCase,
    back_of_envelope,
    churn_reduction_for_one_billion,
    scenario_bands,
    tornado,
)
from persona_lib.revenue.plans import (
    DEFAULT_ECONOMICS,
    PAID_STATUSES,
    PlanEconomics,
    ad_revenue_per_hour,
    arpu_by_plan,
    plan_flows,
    plan_mix,
    plan_transitions,
)

__all__ = [
    "CONSULTING_UPLIFTS",
    "DEFAULT_ECONOMICS",
    "DEFAULT_RANGES",
    "FRAMINGS",
    "ONE_BILLION",
    "PAID_STATUSES",
    "VALUE_BASES",
    "ChurnImpact",
    "MonthlySurvival",
    "NetflixCase",
    "PlanEconomics",
    "ScaledEffect",
    "ad_revenue_per_hour",
    "arpu_by_plan",
    "as_monthly_survival",
    "back_of_envelope",
    "churn_change_value",
    "churn_reduction_for_one_billion",
    "churn_reduction_for_value",
    "expected_lifetime",
    "ltv",
    "monthly_discount_factor",
    "plan_flows",
    "plan_mix",
    "plan_transitions",
    "scale_effect",
    "scenario_bands",
    "tornado",
]

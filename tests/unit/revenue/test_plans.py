import numpy as np
import pandas as pd
import pytest
from tolerances import approx32

from persona_lib.data import BILLING_STATUSES, PLANS
from persona_lib.revenue import (
    DEFAULT_ECONOMICS,
    PlanEconomics,
    ad_revenue_per_hour,
    arpu_by_plan,
    plan_flows,
    plan_mix,
    plan_transitions,
)


def billing(rows):
    frame = pd.DataFrame(rows, columns=["user_id", "period_start", "plan", "price", "status"])
    frame["period_start"] = pd.to_datetime(frame["period_start"]).astype("datetime64[ms]")
    frame["plan"] = pd.Categorical(frame["plan"], categories=list(PLANS))
    frame["price"] = frame["price"].astype(np.float32)
    frame["status"] = pd.Categorical(frame["status"], categories=list(BILLING_STATUSES))
    return frame


# member 0: ads for 2 paid months then churns; member 1: standard, upgrades to premium;
# member 2: standard, payment fails, comes back on standard. Rows are deliberately unsorted.
LOG = billing(
    [
        (1, "2025-02-05", "premium", 24.99, "renewed"),
        (0, "2025-01-10", "ads", 7.99, "new"),
        (0, "2025-02-10", "ads", 7.99, "renewed"),
        (0, "2025-03-10", "ads", 7.99, "churned"),
        (1, "2025-01-05", "standard", 17.99, "new"),
        (2, "2025-01-20", "standard", 17.99, "renewed"),
        (2, "2025-02-20", "standard", 17.99, "payment_failed"),
        (2, "2025-03-02", "standard", 17.99, "reactivated"),
    ]
)


def test_default_ad_revenue_per_hour_is_the_stated_assumption():
    # 4 min/hour of 30 s spots = 8 ads an hour, at 40 USD per thousand: 8 * 0.04 = 0.32 USD
    assert ad_revenue_per_hour() == pytest.approx(0.32)
    assert DEFAULT_ECONOMICS["ads"].ad_revenue_per_hour == pytest.approx(0.32)
    assert DEFAULT_ECONOMICS["premium"].price == pytest.approx(24.99)
    assert DEFAULT_ECONOMICS["standard"].ad_revenue_per_hour == 0.0


def test_arpu_by_plan_counts_paid_periods_and_ad_hours():
    hours = pd.Series({0: 10.0, 1: 30.0})  # member 1 watches too, but not on the ads tier
    out = arpu_by_plan(LOG, hours_by_member=hours).set_index("plan")
    # ads: 2 paid months * 7.99 + 2 * 10 h * 0.32 = 15.98 + 6.40 = 22.38 -> ARPU 11.19
    assert out.loc["ads", "paid_periods"] == 2
    assert out.loc["ads", "ad_revenue"] == pytest.approx(6.4)
    assert out.loc["ads", "arpu"] == approx32(11.19)  # prices are float32
    # standard: paid rows are 1/new, 2/renewed and 2/reactivated: 3 * 17.99
    assert out.loc["standard", "paid_periods"] == 3
    assert out.loc["standard", "members"] == 2
    assert out.loc["standard", "arpu"] == approx32(17.99)
    assert out.loc["basic", "paid_periods"] == 0 and np.isnan(out.loc["basic", "arpu"])
    # all: (15.98 + 6.4 + 53.97 + 24.99) / 6 = 101.34 / 6 = 16.89
    assert out.loc["all", "paid_periods"] == 6 and out.loc["all", "members"] == 3
    assert out.loc["all", "arpu"] == approx32(16.89)
    assert out.loc["all", "contribution_per_member_month"] == approx32(16.89)


def test_arpu_margin_and_missing_plans():
    economics = {p: PlanEconomics(p, e.price, margin=0.5) for p, e in DEFAULT_ECONOMICS.items()}
    out = arpu_by_plan(LOG, economics=economics).set_index("plan")
    assert out.loc["ads", "contribution_per_member_month"] == approx32(7.99 / 2)
    assert out.loc["all", "margin"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"economics: no entry for plan\(s\) \['ads', 'premium'\]"):
        arpu_by_plan(LOG, economics={"standard": economics["standard"]})
    with pytest.raises(ValueError, match="billing: missing column"):
        arpu_by_plan(LOG.drop(columns="price"))


def test_plan_transitions_count_consecutive_rows_per_member():
    matrix = plan_transitions(LOG)
    assert list(matrix.index) == list(PLANS) and list(matrix.columns) == list(PLANS)
    # member 0: ads->ads twice; member 1: standard->premium; member 2: standard->standard twice
    assert matrix.loc["ads", "ads"] == 2
    assert matrix.loc["standard", "premium"] == 1
    assert matrix.loc["standard", "standard"] == 2
    assert matrix.to_numpy().sum() == 5
    assert plan_flows(matrix).to_dict() == {"upgrades": 1, "downgrades": 0, "unchanged": 4}


def test_plan_mix_shares_sum_to_one_per_month():
    mix = plan_mix(LOG)
    jan = mix[mix["month"] == "2025-01"].set_index("plan")
    # January paid rows: ads (0), standard (1), standard (2)
    assert jan.loc["standard", "paid_periods"] == 2
    assert jan.loc["ads", "share"] == pytest.approx(1 / 3)
    assert mix.groupby("month")["share"].sum().to_numpy() == pytest.approx([1, 1, 1])


def test_plan_economics_validates():
    with pytest.raises(ValueError, match="plan: must be one of"):
        PlanEconomics("gold", 9.99)
    with pytest.raises(ValueError, match=r"margin: must be in \[0, 1\]"):
        PlanEconomics("ads", 7.99, margin=1.5)

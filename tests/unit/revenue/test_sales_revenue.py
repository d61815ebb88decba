"""Revenue of the sales levers: hand-computed small examples and input errors."""

import numpy as np
import pytest

from persona_lib.revenue.sales import (
    ad_revenue_per_member_month,
    adoption_revenue,
    ads_tier_arpu,
    break_even_cpm,
    lifetime_revenue,
    paid_months,
    per_thousand,
    reactivation_revenue,
    upgrade_revenue,
)


def test_paid_months_is_the_restricted_geometric_sum():
    # c = 0.5, H = 3: 1 + 0.5 + 0.25
    assert paid_months(0.5, 3) == pytest.approx(1.75)
    assert paid_months(0.02, None) == pytest.approx(50.0)


def test_upgrade_revenue_charges_the_discount_only_to_offered_upgraders():
    # L = 1.75 (c 0.5, H 3); offered: 0.2 * 6 * (1.75 - 1) = 0.9; not offered: 0.1 * 6 * 1.75
    out = upgrade_revenue([0.2, 0.1], [6.0, 6.0], [True, False], 0.5, 3)
    np.testing.assert_allclose(out, [0.9, 1.05])
    free = upgrade_revenue([0.2], [6.0], [True], 0.5, 3, discount_months=0.0)
    np.testing.assert_allclose(free, [2.1])


def test_reactivation_and_adoption_revenue():
    # 0.1 * 12 USD * 1.75 months
    np.testing.assert_allclose(reactivation_revenue([0.1], [12.0], 0.5, 3), [2.1])
    # churn 0.5 -> 0.25: L = 1 + 0.75 + 0.5625 = 2.3125 vs 1.75; 2 adoptions * 10 USD * 0.5625
    assert float(adoption_revenue(2.0, 10.0, 0.5, 0.5, 3)) == pytest.approx(11.25)


def test_ad_revenue_arpu_and_break_even_cpm():
    # 6 h * (4 min * 60 / 30 s = 8 ads/h) * 40 USD / 1000 = 1.92 USD
    assert float(ad_revenue_per_member_month(6.0)) == pytest.approx(1.92)
    assert float(ads_tier_arpu(7.99, 6.0)) == pytest.approx(9.91)
    # (11.99 - 7.99) * 1000 / 48 ads = 83.33 USD CPM; at that CPM the tiers tie
    cpm = float(break_even_cpm(11.99 - 7.99, 6.0))
    assert cpm == pytest.approx(4000 / 48)
    assert float(ads_tier_arpu(7.99, 6.0, cpm_usd=cpm)) == pytest.approx(11.99)
    assert np.isinf(break_even_cpm(4.0, 0.0))


def test_lifetime_revenue_and_scaling():
    assert float(lifetime_revenue(10.0, 0.02)) == pytest.approx(500.0)
    assert float(lifetime_revenue(10.0, 0.5, 3)) == pytest.approx(17.5)
    np.testing.assert_allclose(per_thousand([0.0123]), [12.3])


def test_more_hours_and_more_ads_lower_the_break_even_cpm():
    cpm = break_even_cpm(4.0, np.array([2.0, 4.0, 8.0]))
    assert np.all(np.diff(cpm) < 0)
    more_ads = break_even_cpm(4.0, 4.0, ad_minutes_per_hour=6.0)
    assert float(more_ads) < float(break_even_cpm(4.0, 4.0))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: upgrade_revenue([1.2], [5.0], [True], 0.1), "p_upgrade"),
        (lambda: upgrade_revenue([0.2], [-5.0], [True], 0.1), "price_delta"),
        (lambda: upgrade_revenue([0.2], [5.0], [True], 0.1, 12, -1.0), "discount_months"),
        (lambda: reactivation_revenue([0.1], [np.nan], 0.1), "monthly_price"),
        (lambda: adoption_revenue(1.0, 10.0, 0.1, 0.0), "churn_relative_risk"),
        (lambda: ad_revenue_per_member_month(-1.0), "hours_per_month"),
        (lambda: paid_months(0.0), "churn"),
        (lambda: paid_months(0.1, 2.5), "horizon_months"),
    ],
)
def test_bad_inputs_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()

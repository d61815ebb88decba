import json

import numpy as np
import pytest

from persona_lib.revenue import (
    churn_change_value,
    churn_reduction_for_value,
    scale_effect,
)

BASE = dict(members=1_000_000, churn_before=0.04, arpu=10.0, margin=0.5)


def test_steady_state_by_hand():
    # base scales by 0.04 / 0.02 = 2: 1M more members * 10 USD * 0.5 * 12 = 60M USD a year
    r = churn_change_value(**BASE, churn_after=0.02)
    assert r.value == pytest.approx(60e6)
    assert r.members_after == pytest.approx(2e6)
    assert r.churn_reduction_pp == pytest.approx(2.0)
    assert np.isnan(r.cancellations_avoided)


def test_avoided_cancellations_first_year_by_hand():
    # 1M * (0.04 - 0.02) * 12 = 240k cancellations avoided a year; each pays for
    # sum_{t<12} 0.98^t = (1 - 0.784717) / 0.02 = 10.7642 months * 10 USD * 0.5 = 53.821 USD
    r = churn_change_value(
        **BASE, churn_after=0.02, framing="annual_avoided_cancellations", value_basis="first_year"
    )
    months = (1 - 0.98**12) / 0.02
    assert r.cancellations_avoided == pytest.approx(240_000)
    assert r.value_per_cancellation == pytest.approx(5 * months)
    assert r.value == pytest.approx(240_000 * 5 * months)
    assert r.value == pytest.approx(12.9170e6, rel=1e-4)  # 240k * 53.821


def test_avoided_cancellations_lifetime_undiscounted_equals_steady_state():
    # each saved member is worth 5 USD / 0.02 = 250 USD: 240k * 250 = 60M, the steady state
    r = churn_change_value(**BASE, churn_after=0.02, framing="annual_avoided_cancellations")
    assert r.value_per_cancellation == pytest.approx(250.0)
    assert r.value == pytest.approx(churn_change_value(**BASE, churn_after=0.02).value)


def test_discounting_lowers_the_lifetime_basis():
    kwargs = dict(**BASE, churn_after=0.02, framing="annual_avoided_cancellations")
    v = 1.1 ** (-1 / 12)
    r = churn_change_value(**kwargs, annual_discount_rate=0.1)
    assert r.value_per_cancellation == pytest.approx(5 / (1 - 0.98 * v))
    assert r.value < churn_change_value(**kwargs).value


@pytest.mark.parametrize(
    "framing, basis, rate",
    [
        ("steady_state", "lifetime", 0.0),
        ("annual_avoided_cancellations", "lifetime", 0.0),
        ("annual_avoided_cancellations", "lifetime", 0.08),
        ("annual_avoided_cancellations", "first_year", 0.08),
    ],
)
def test_solver_inverts_the_value_function(framing, basis, rate):
    kwargs = dict(**BASE, annual_discount_rate=rate, framing=framing, value_basis=basis)
    solved = churn_reduction_for_value(7.5e6, **kwargs)
    assert solved.value == pytest.approx(7.5e6, rel=1e-9)
    again = churn_change_value(**kwargs, churn_after=solved.churn_after)
    assert again.value == pytest.approx(7.5e6, rel=1e-9)
    assert 0 < solved.churn_after < BASE["churn_before"]


def test_steady_state_closed_form_by_hand():
    # V = 60M, 12 N ARPU m = 60M: c1 = 0.04 / 2 = 0.02
    assert churn_reduction_for_value(60e6, **BASE).churn_after == pytest.approx(0.02)


def test_unreachable_target_and_bad_inputs():
    with pytest.raises(ValueError, match="target_value: unreachable"):
        churn_reduction_for_value(
            1e12, **BASE, framing="annual_avoided_cancellations", value_basis="first_year"
        )
    with pytest.raises(ValueError, match="framing: must be one of"):
        churn_change_value(**BASE, churn_after=0.02, framing="yearly")
    with pytest.raises(ValueError, match=r"churn_after: must be in \(0, 1\]"):
        churn_change_value(**BASE, churn_after=0.0)


def test_to_dict_is_json_safe():
    d = churn_change_value(**BASE, churn_after=0.03).to_dict()
    assert d["framing"] == "steady_state" and d["cancellations_avoided"] is None
    assert d["churn_reduction_pp"] == pytest.approx(1.0)
    json.dumps(d, allow_nan=False)


def test_scale_effect_scales_the_ci_linearly():
    r = scale_effect(0.05, 2e6, 12, ci=(0.01, 0.09))
    assert (r.total, r.ci_low, r.ci_high) == pytest.approx((1.2e6, 0.24e6, 2.16e6))
    assert r.unit == "usd"
    # 0.1 pp less monthly churn on 1M members for 12 months: 0.001 * 1M * 12 = 12k cancellations
    c = scale_effect(0.1, 1e6, 12, kind="churn_pp")
    assert c.total == pytest.approx(12_000) and c.unit == "cancellations"
    assert c.to_dict()["ci_low"] is None
    with pytest.raises(ValueError, match="ci: must bracket the effect"):
        scale_effect(0.05, 1e6, 12, ci=(0.06, 0.09))

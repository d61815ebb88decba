import json

import pytest

from persona_lib.revenue import (
    NetflixCase,
    back_of_envelope,
    churn_reduction_for_one_billion,
    scenario_bands,
    tornado,
)

# By hand, defaults N = 93.80M, ARPU = 8.20 USD, c0 = 3 %, margin 1, d = 8 %:
# 12 N ARPU = 9.22992e9 USD a year, so 1e9 / 9.22992e9 = 0.108343.
# steady state: c1 = 0.03 / 1.108343 = 0.0270674 -> cut 0.2933 pp.
# lifetime basis: v = 1.08^(-1/12) = 0.9936071; solve D = 0.108343 (v (0.03 - D) + 1 - v)
#   -> D (1 + 0.108343 v) = 0.108343 * 0.0362011 -> D = 0.0035410 -> 0.3541 pp.
# first-year basis: at c1 = 1.9613 %, q = (1 - c1) v = 0.974119, sum_{t<12} q^t = 10.4303
#   months, D = 0.108343 / 10.4303 = 0.010387 -> 1.039 pp.


def test_defaults_and_annual_revenue():
    case = NetflixCase()
    assert case.members == 93.80e6 and case.arpu == 8.20
    assert case.annual_revenue == pytest.approx(9.22992e9)
    json.dumps(case.to_dict(), allow_nan=False)


def test_steady_state_needs_about_three_tenths_of_a_point():
    r = churn_reduction_for_one_billion(NetflixCase(), "steady_state")
    assert r.churn_after == pytest.approx(0.0270674, rel=1e-5)
    assert r.churn_reduction_pp == pytest.approx(0.2933, abs=1e-4)
    assert r.value == pytest.approx(1e9)


def test_avoided_cancellations_lifetime_and_first_year():
    life = churn_reduction_for_one_billion(NetflixCase(), "annual_avoided_cancellations")
    assert life.churn_reduction_pp == pytest.approx(0.3541, abs=1e-4)
    first = churn_reduction_for_one_billion(
        NetflixCase(), "annual_avoided_cancellations", "first_year"
    )
    assert first.churn_reduction_pp == pytest.approx(1.0387, abs=1e-3)
    # the plausible band the paper's "low single digits" churn allows: 0.1-1.5 pp
    for r in (life, first):
        assert 0.1 < r.churn_reduction_pp < 1.5


def test_back_of_envelope_table():
    table = back_of_envelope()
    assert table["churn_reduction_pp"].round(3).tolist() == [0.293, 0.354, 1.039]
    assert table["value_usd_per_year"].to_numpy() == pytest.approx([1e9] * 3)


def test_tornado_is_sorted_and_brackets_the_base():
    t = tornado()
    assert t["swing_pp"].is_monotonic_decreasing
    assert t.loc[0, "input"] == "margin"
    # a 2-4 % baseline: 0.02 / 1.108343 -> 0.1955 pp; 0.04 -> 0.3910 pp
    churn = t.set_index("input").loc["monthly_churn"]
    assert churn["output_at_low_pp"] == pytest.approx(0.19551, abs=1e-4)
    assert churn["output_at_high_pp"] == pytest.approx(0.39101, abs=1e-4)
    # the steady state is not discounted
    assert t.set_index("input").loc["annual_discount_rate", "swing_pp"] == pytest.approx(0)
    with pytest.raises(ValueError, match="not a NetflixCase field"):
        tornado(ranges={"price": (1, 2)})


def test_scenario_bands():
    bands = scenario_bands(NetflixCase().annual_revenue)
    assert bands["uplift_pct"].tolist() == pytest.approx([5, 10, 15])
    assert bands["gain_usd_per_year"].tolist() == pytest.approx(
        [0.461496e9, 0.922992e9, 1.384488e9]
    )

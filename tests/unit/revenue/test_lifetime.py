import numpy as np
import pytest
from tolerances import approx64, approx_closed_form

from persona_lib.models.retention import kaplan_meier
from persona_lib.revenue import MonthlySurvival, expected_lifetime, ltv


@pytest.mark.parametrize("churn", [0.01, 0.025, 0.1, 1.0])
def test_geometric_lifetime_is_one_over_churn_and_matches_the_sum(churn):
    t = np.arange(20_000)
    explicit = np.sum((1 - churn) ** t)
    assert expected_lifetime(churn) == approx_closed_form(1 / churn)
    assert expected_lifetime(churn) == approx64(explicit)  # a sum of 20,000 terms


def test_restricted_lifetime_closed_form():
    # c = 0.1, H = 12: (1 - 0.9^12) / 0.1 = (1 - 0.2824295) / 0.1 = 7.175705
    assert expected_lifetime(0.1, horizon_months=12) == pytest.approx(7.1757046, rel=1e-7)
    assert expected_lifetime(0.1, horizon_months=0) == 0.0
    assert expected_lifetime(0.1, horizon_months=1) == 1.0


@pytest.mark.parametrize("horizon", [None, 1, 7, 36])
@pytest.mark.parametrize("rate", [0.0, 0.08, 0.5])
def test_discounted_ltv_closed_form_matches_explicit_sum(horizon, rate):
    arpu, margin, churn = 11.99, 0.6, 0.03
    n = 20_000 if horizon is None else horizon
    t = np.arange(n)
    explicit = np.sum(arpu * margin * (1 - churn) ** t / (1 + rate) ** (t / 12))
    assert ltv(arpu, margin, churn, rate, horizon) == approx64(explicit)
    if horizon is None:
        v = (1 + rate) ** (-1 / 12)
        closed = arpu * margin / (1 - (1 - churn) * v)
        assert ltv(arpu, margin, churn, rate) == approx_closed_form(closed)


def test_array_curve_sums_observed_months_then_a_fitted_tail():
    s = np.array([1.0, 0.7, 0.63, 0.567, 0.5103])  # retention 0.9 a month over the last 3 months
    curve = MonthlySurvival.from_array(s, tail_months=3)
    assert curve.tail_hazard == pytest.approx(0.1)
    # observed sum 3.4073, tail 0.5103 * 0.9 / 0.1 = 4.5927 -> 8.0
    assert expected_lifetime(s) == pytest.approx(8.0)
    assert expected_lifetime(s, horizon_months=3) == pytest.approx(2.33)
    # H = 7: 3.4073 + 0.5103 * (0.9 + 0.81) = 3.4073 + 0.872613
    assert expected_lifetime(s, horizon_months=7) == pytest.approx(4.279913)
    assert curve.at([0, 4, 6]) == pytest.approx([1.0, 0.5103, 0.5103 * 0.81])
    explicit = np.sum(curve.at(np.arange(5_000)) * 1.08 ** (-np.arange(5_000) / 12))
    assert ltv(1.0, 1.0, s, 0.08) == approx64(explicit)


def test_kaplan_meier_curve_in_months_gives_the_restricted_mean():
    durations = np.array([1, 1, 2, 3, 3, 4, 6, 6, 6, 6], dtype=float)
    events = np.array([1, 1, 1, 1, 0, 1, 0, 0, 0, 0])
    curve = kaplan_meier(durations, events)
    # whole-month jumps: sum_{t<6} S(t) equals the integral of the step curve up to 6
    assert expected_lifetime(curve, horizon_months=6) == pytest.approx(curve.restricted_mean(6))
    assert MonthlySurvival.from_curve(curve).last_month == 6


def test_flat_tail_needs_a_horizon_or_a_discount():
    flat = [1.0, 0.9, 0.9, 0.9]  # no churn over the last 2 months: tail hazard 0
    with pytest.raises(ValueError, match="lifetime is infinite"):
        expected_lifetime(flat, tail_months=2)
    assert expected_lifetime(flat, horizon_months=10, tail_months=2) == pytest.approx(1 + 0.9 * 9)
    assert np.isfinite(ltv(1.0, 1.0, flat, 0.05, tail_months=2))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"S\(0\) must be 1"):
        expected_lifetime([0.9, 0.8])
    with pytest.raises(ValueError, match="non-increasing"):
        expected_lifetime([1.0, 0.8, 0.9])
    with pytest.raises(ValueError, match="churn: must satisfy 0 < churn <= 1"):
        expected_lifetime(0.0)
    with pytest.raises(ValueError, match="horizon_months"):
        expected_lifetime(0.1, horizon_months=2.5)
    with pytest.raises(ValueError, match="annual_discount_rate"):
        ltv(1.0, 1.0, 0.1, -0.1)

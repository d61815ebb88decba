"""Kaplan-Meier, log-rank and the discrete-time hazard model against hand computations and the
Freireich et al. (1963) 6-MP leukemia trial (the textbook example of Kaplan-Meier)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from scipy.stats import norm
from tolerances import FLOAT64, approx64

from persona_lib.models.retention.hazard import DiscreteTimeHazard, person_period
from persona_lib.models.retention.survival import (
    CURVE_COLUMNS,
    SurvivalCurve,
    kaplan_meier,
    kaplan_meier_by,
    logrank_test,
    survival_table,
)

# 6-MP arm: weeks of remission, 0 = censored (still in remission)
MP_T = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP_E = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO_T = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]

# tiny case with ties: at t=2 two events and one censoring, at t=5 one of each
TINY_T = [2, 2, 2, 3, 5, 5]
TINY_E = [1, 1, 0, 1, 0, 1]


# --- Kaplan-Meier by hand -------------------------------------------------------------------------
def test_tiny_curve_counts_events_before_censorings():
    c = kaplan_meier(TINY_T, TINY_E)
    assert c.time.tolist() == [0, 2, 3, 5]
    assert c.at_risk.tolist() == [6, 6, 3, 2]
    assert c.events.tolist() == [0, 2, 1, 1]
    assert c.censored.tolist() == [0, 1, 0, 1]
    # S(2) = 1 - 2/6 (the censored member is still at risk at 2), S(3) = S(2) 2/3, S(5) = S(3) / 2
    np.testing.assert_allclose(c.survival, [1, 4 / 6, 4 / 9, 2 / 9])
    # Greenwood: sum d/(n(n-d)) = 2/24, + 1/6, + 1/2
    g = np.cumsum([0, 2 / 24, 1 / 6, 1 / 2])
    np.testing.assert_allclose(c.std_err, c.survival * np.sqrt(g))
    np.testing.assert_allclose(c.std_err[1:], [0.19245, 0.22222, 0.19245], atol=1e-5)


def test_at_is_a_right_continuous_step_function():
    c = kaplan_meier(TINY_T, TINY_E)
    assert c.at(1.999) == 1.0
    assert c.at(2) == pytest.approx(4 / 6)
    assert c.at(-1) == 1.0
    assert c.at(100) == pytest.approx(2 / 9)  # carried past the last time
    np.testing.assert_allclose(c.at([0, 2.5, 3, 4.9, 5]), [1, 4 / 6, 4 / 9, 4 / 9, 2 / 9])
    assert c.at(2.5, "ci_low") == c.ci_low[1]
    assert c.at(-1, "std_err") == 0.0
    with pytest.raises(ValueError, match="column: must be one of"):
        c.at(1, "at_risk")


def test_median_and_restricted_mean_by_hand():
    c = kaplan_meier(TINY_T, TINY_E)
    assert c.median() == 3.0  # first time with S <= 0.5
    assert np.isnan(kaplan_meier([1, 2, 3], [1, 0, 0]).median())
    # area: 1 * 2 + 4/6 * 1 + 4/9 * (h - 3) up to 5, then 2/9 beyond
    assert c.restricted_mean(4) == pytest.approx(2 + 4 / 6 + 4 / 9)
    assert c.restricted_mean(5) == pytest.approx(2 + 4 / 6 + 8 / 9)
    assert c.restricted_mean(10) == pytest.approx(2 + 4 / 6 + 8 / 9 + 5 * 2 / 9)
    assert c.restricted_mean(0) == 0.0
    # without censoring the RMST at the last time is the sample mean
    assert kaplan_meier([1, 2, 6], [1, 1, 1]).restricted_mean(6) == pytest.approx(3.0)


def test_survival_hits_zero_with_a_closed_band():
    c = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1])
    np.testing.assert_allclose(c.survival, [1, 0.75, 0.5, 0.0])
    assert np.isnan(c.std_err[-1]) and c.ci_low[-1] == c.ci_high[-1] == 0.0


def test_events_at_time_zero():
    c = kaplan_meier([0, 0, 1, 2], [1, 0, 1, 1])
    assert c.time.tolist() == [0, 1, 2]
    np.testing.assert_allclose(c.survival, [0.75, 0.375, 0.0])


def test_integer_weights_equal_repeated_rows():
    t, e, w = np.array([1, 2, 2, 4, 5]), np.array([1, 0, 1, 1, 0]), np.array([2, 1, 3, 1, 2])
    weighted = kaplan_meier(t, e, weights=w)
    repeated = kaplan_meier(np.repeat(t, w), np.repeat(e, w))
    for col in ("at_risk", "events", "censored", "survival", "std_err", "ci_low", "ci_high"):
        np.testing.assert_allclose(getattr(weighted, col), getattr(repeated, col))


def test_delayed_entry_shrinks_the_risk_set():
    # the second member enters at 2.5, so is not at risk at the first event
    c = kaplan_meier([2, 3, 4], [1, 1, 1], entry=[0, 2.5, 0])
    assert c.at_risk.tolist() == [2, 2, 2, 1]
    np.testing.assert_allclose(c.survival, [1, 0.5, 0.25, 0.0])
    plain = kaplan_meier(MP_T, MP_E)
    zero = kaplan_meier(MP_T, MP_E, entry=np.zeros(len(MP_T)))
    np.testing.assert_allclose(zero.survival, plain.survival)


def test_curve_invariants_on_random_data():
    rng = np.random.default_rng(0)
    t = rng.exponential(10, 300).round(1)
    e = rng.random(300) < 0.7
    c = kaplan_meier(t, e)
    assert np.all(np.diff(c.survival) <= 0) and np.all(np.diff(c.time) > 0)
    slack = FLOAT64["atol"]
    assert np.all(c.ci_low <= c.survival + slack) and np.all(c.survival <= c.ci_high + slack)
    assert c.at_risk[0] == 300 and c.events.sum() == e.sum() and c.censored.sum() == 300 - e.sum()
    frame = c.to_frame()
    assert list(frame.columns) == list(CURVE_COLUMNS) and len(frame) == c.time.size
    assert c.to_dict()["n"] == 300.0
    summary = kaplan_meier([1, 2, 3], [1, 0, 0]).to_dict()
    assert summary["median"] is None and summary["events"] == 1.0


# --- Freireich et al. (1963) --------------------------------------------------------------------
def test_freireich_6mp_matches_published_estimates():
    c = kaplan_meier(MP_T, MP_E)
    published = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    np.testing.assert_allclose(c.at(list(published)), list(published.values()), atol=1e-3)
    # by hand: S(6) = 18/21, S(7) = 18/21 * 16/17; Greenwood at 6 = S sqrt(3 / (21 * 18))
    assert c.at(6) == pytest.approx(18 / 21)
    assert c.at(7) == pytest.approx(18 / 21 * 16 / 17)
    assert c.at(6, "std_err") == pytest.approx(18 / 21 * np.sqrt(3 / (21 * 18)))
    assert c.at(6, "std_err") == pytest.approx(0.076, abs=1e-3)
    assert c.at(23, "std_err") == pytest.approx(0.135, abs=1e-3)
    assert c.median() == 23.0


def test_freireich_bands_follow_their_formulas():
    z = norm.ppf(0.975)
    s, g = 18 / 21, 3 / (21 * 18)
    se = s * np.sqrt(g)
    loglog = kaplan_meier(MP_T, MP_E)
    sd = se / (s * abs(np.log(s)))
    low = np.exp(-np.exp(np.log(-np.log(s)) + z * sd))
    high = np.exp(-np.exp(np.log(-np.log(s)) - z * sd))
    assert loglog.at(6, "ci_low") == pytest.approx(low)
    assert loglog.at(6, "ci_high") == pytest.approx(high)
    assert (round(low, 3), round(high, 3)) == (0.620, 0.952)
    plain = kaplan_meier(MP_T, MP_E, ci="plain", alpha=0.1)
    zp = norm.ppf(0.95)
    assert plain.at(7, "ci_low") == pytest.approx(plain.at(7) - zp * plain.at(7, "std_err"))
    assert kaplan_meier(MP_T, MP_E, ci="plain").at(6, "ci_high") == 1.0  # 0.857 + 1.96 * 0.076


def test_placebo_median_and_its_band():
    c = kaplan_meier(PLACEBO_T, np.ones(len(PLACEBO_T)))
    assert c.median() == 8.0  # S(5) = 12/21 > 0.5, S(8) = 8/21
    # log-log band: ci_low(4) = 0.425 is the first <= 0.5, ci_high(11) = 0.482 the first (R's
    # default "log" band gives (4, 12): its upper band at 11 is 0.562)
    assert c.median_ci() == (4.0, 11.0)
    assert c.at(8, "ci_high") > 0.5 and c.at(11, "ci_high") == pytest.approx(0.4818, abs=1e-4)
    assert c.restricted_mean(23) == pytest.approx(np.mean(PLACEBO_T))
    low, high = kaplan_meier(MP_T, MP_E).median_ci()
    assert low == 13.0 and np.isnan(high)


def test_logrank_6mp_vs_placebo():
    t = MP_T + PLACEBO_T
    e = MP_E + [1] * len(PLACEBO_T)
    g = ["6-MP"] * len(MP_T) + ["placebo"] * len(PLACEBO_T)
    r = logrank_test(t, e, g)
    assert r.statistic == pytest.approx(16.79, abs=5e-3)
    assert r.dof == 1 and r.p_value == pytest.approx(4.17e-5, rel=1e-2)
    assert r.observed == (9.0, 21.0)
    assert sum(r.expected) == pytest.approx(30.0)
    flipped = logrank_test(t, e, [x == "6-MP" for x in g])
    assert flipped.statistic == approx64(r.statistic)
    assert r.to_dict()["groups"] == ["6-MP", "placebo"]


def test_logrank_by_hand_and_k_groups():
    # A = {1, 2}, B = {3, 4}, all events. E_A = 1/2 + 1/3, V = 1/4 + 2/9
    r = logrank_test([1, 2, 3, 4], [1, 1, 1, 1], ["A", "A", "B", "B"])
    assert r.statistic == pytest.approx((2 - 5 / 6) ** 2 / (1 / 4 + 2 / 9))
    same = logrank_test(MP_T * 3, MP_E * 3, np.repeat([0, 1, 2], len(MP_T)))
    assert same.dof == 2 and same.statistic == approx64(0.0)
    assert same.p_value == pytest.approx(1.0)


# --- grouped helpers ------------------------------------------------------------------------------
@pytest.fixture
def trial() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "weeks": MP_T + PLACEBO_T,
            "relapse": MP_E + [1] * len(PLACEBO_T),
            "arm": ["6-MP"] * len(MP_T) + ["placebo"] * len(PLACEBO_T),
        }
    )


def test_kaplan_meier_by_is_tidy(trial):
    out = kaplan_meier_by(trial, "weeks", "relapse", "arm")
    assert list(out.columns) == ["arm", *CURVE_COLUMNS]
    mp = out[out["arm"] == "6-MP"]
    np.testing.assert_allclose(mp["survival"], kaplan_meier(MP_T, MP_E).survival)
    pooled = kaplan_meier_by(trial, "weeks", "relapse", None)
    assert list(pooled.columns) == list(CURVE_COLUMNS) and pooled["at_risk"].iloc[0] == 42


def test_survival_table_at_chosen_times(trial):
    out = survival_table(trial, "weeks", "relapse", "arm", times=[10, 20])
    assert list(out.columns) == ["arm", "time", "at_risk", "survival", "ci_low", "ci_high"]
    mp = out[out["arm"] == "6-MP"].reset_index(drop=True)
    np.testing.assert_allclose(mp["survival"], [0.753, 0.627], atol=1e-3)
    assert mp["at_risk"].tolist() == [15, 8]  # durations >= 10 and >= 20
    placebo = out[out["arm"] == "placebo"]
    np.testing.assert_allclose(placebo["survival"], [8 / 21, 2 / 21])
    with pytest.raises(ValueError, match=r"missing column\(s\) \['plan'\]"):
        survival_table(trial, "weeks", "relapse", "plan", times=[10])


# --- discrete time --------------------------------------------------------------------------------
def test_person_period_by_hand():
    frame = pd.DataFrame({"id": [7, 8, 9], "t": [1.0, 3.0, 2.5], "e": [1, 0, 1]})
    pp = person_period(frame, "t", "e")
    assert pp["id"].tolist() == [7, 8, 8, 8, 9, 9, 9]
    assert pp["period"].tolist() == [1, 1, 2, 3, 1, 2, 3]
    assert pp["e"].tolist() == [1, 0, 0, 0, 0, 0, 1]
    two = person_period(frame, "t", "e", period_length=2)
    assert two["period"].tolist() == [1, 1, 2, 1, 2]
    assert two["e"].tolist() == [1, 0, 0, 0, 1]
    zero = person_period(pd.DataFrame({"t": [0.0], "e": [True]}), "t", "e")
    assert zero["period"].tolist() == [1] and zero["e"].tolist() == [1]


def simulate_discrete(n: int, hazards, beta: float, random_state: int) -> pd.DataFrame:
    """Members with logit h_j = logit(hazards[j]) + beta x, censored uniformly in 1..J."""
    rng = np.random.default_rng(random_state)
    x = rng.normal(size=n)
    duration = np.full(n, len(hazards))
    event = np.zeros(n, dtype=int)
    alive = np.ones(n, dtype=bool)
    for j, h in enumerate(hazards, start=1):
        hit = alive & (rng.random(n) < expit(logit(h) + beta * x))
        duration[hit], event[hit], alive = j, 1, alive & ~hit
    censor = rng.integers(1, len(hazards) + 1, n)
    cut = censor < duration
    return pd.DataFrame(
        {"months": np.where(cut, censor, duration), "churn": np.where(cut, 0, event), "x": x}
    )


HAZARDS = [0.10, 0.06, 0.05, 0.08, 0.04, 0.04]


def test_discrete_hazard_recovers_known_hazard():
    data = simulate_discrete(20_000, HAZARDS, beta=0.7, random_state=1)
    model = DiscreteTimeHazard().fit(data, "months", "churn", ["x"])
    assert model.coef_["x"] == pytest.approx(0.7, abs=0.05)
    np.testing.assert_allclose(expit(model.baseline_.to_numpy()), HAZARDS, atol=0.01)
    at_mean = model.predict_hazard(pd.DataFrame({"x": [0.0]}))
    np.testing.assert_allclose(at_mean.to_numpy()[0], HAZARDS, atol=0.01)
    surv = model.predict_survival(pd.DataFrame({"x": [0.0, 1.0]}), horizon=8)
    assert surv.shape == (2, 8) and list(surv.columns) == list(range(1, 9))
    assert (surv.iloc[1] < surv.iloc[0]).all()  # a higher x churns more
    assert np.all(np.diff(surv.to_numpy(), axis=1) < 0)
    hazard = model.predict_hazard(pd.DataFrame({"x": [0.0]}), horizon=8)
    assert hazard[7].iloc[0] == hazard[6].iloc[0]  # beyond the data: the last period's alpha


def test_discrete_hazard_without_covariates_equals_kaplan_meier():
    data = simulate_discrete(3_000, HAZARDS, beta=0.0, random_state=2)
    model = DiscreteTimeHazard().fit(data, "months", "churn")
    surv = model.predict_survival(data.head(3)).to_numpy()
    km = kaplan_meier(data["months"], data["churn"]).at(np.arange(1, 7))
    np.testing.assert_allclose(surv, np.tile(km, (3, 1)), atol=1e-5)
    assert model.coef_.empty


def test_discrete_hazard_is_deterministic():
    data = simulate_discrete(2_000, HAZARDS, beta=0.5, random_state=3)
    a = DiscreteTimeHazard(C=10).fit(data, "months", "churn", ["x"]).coef_
    b = DiscreteTimeHazard(C=10).fit(data, "months", "churn", ["x"]).coef_
    assert a.equals(b)


def test_discrete_hazard_errors():
    data = simulate_discrete(200, HAZARDS, beta=0.5, random_state=4)
    with pytest.raises(ValueError, match="not fitted"):
        DiscreteTimeHazard().predict_hazard(data)
    with pytest.raises(ValueError, match=r"must be numeric or bool.*\['plan'\]"):
        DiscreteTimeHazard().fit(data.assign(plan="ads"), "months", "churn", ["plan"])
    with pytest.raises(ValueError, match=r"frame: missing column\(s\) \['nope'\]"):
        DiscreteTimeHazard().fit(data, "months", "churn", ["nope"])
    model = DiscreteTimeHazard().fit(data, "months", "churn", ["x"])
    with pytest.raises(ValueError, match=r"missing covariate column\(s\) \['x'\]"):
        model.predict_survival(data[["months"]])
    with pytest.raises(ValueError, match="period_length: must be finite and > 0"):
        person_period(data, "months", "churn", period_length=0)


# --- input errors ---------------------------------------------------------------------------------
def test_input_errors_name_argument_and_positions():
    with pytest.raises(ValueError, match=r"durations and events: lengths differ \(3 vs 2\)"):
        kaplan_meier([1, 2, 3], [1, 0])
    with pytest.raises(ValueError, match=r"durations: must be finite and >= 0; bad at positions "
                                         r"\[1, 3\] \(2 values\)"):  # fmt: skip
        kaplan_meier([1, -2, 3, np.nan], [1, 0, 1, 1])
    with pytest.raises(ValueError, match=r"events: must be 0/1 or bool; bad at positions \[2\]"):
        kaplan_meier([1, 2, 3], [1, 0, 2])
    with pytest.raises(ValueError, match="events: must be 0/1 or bool, got dtype"):
        kaplan_meier([1, 2], ["yes", "no"])
    with pytest.raises(ValueError, match="ci: must be one of"):
        kaplan_meier([1, 2], [1, 0], ci="log")
    with pytest.raises(ValueError, match="alpha: must be in"):
        kaplan_meier([1, 2], [1, 0], alpha=1.5)
    with pytest.raises(ValueError, match=r"entry: must be <= durations; bad at positions \[0\]"):
        kaplan_meier([1, 2], [1, 0], entry=[3, 0])
    with pytest.raises(ValueError, match="weights: must be finite and >= 0"):
        kaplan_meier([1, 2], [1, 0], weights=[1, -1])
    with pytest.raises(ValueError, match="groups: need at least 2 distinct groups"):
        logrank_test([1, 2], [1, 1], ["a", "a"])
    with pytest.raises(ValueError, match="horizon: must be finite"):
        kaplan_meier([1, 2], [1, 0]).restricted_mean(-1)
    with pytest.raises(ValueError, match="time must start at 0"):
        one = np.ones(1)
        SurvivalCurve(one, one, one, one, one, one, one, one)


def test_grouped_curves_and_tables_take_delayed_entry():
    frame = pd.DataFrame(
        {
            "t": [5.0, 6.0, 8.0, 9.0, 3.0, 4.0],
            "e": [1, 0, 1, 1, 1, 0],
            "entry": [4.0, 0.0, 7.0, 0.0, 0.0, 0.0],
            "g": list("aaaabb"),
        }
    )
    tidy = kaplan_meier_by(frame, "t", "e", "g", entry="entry")
    a = frame[frame["g"] == "a"]
    direct = kaplan_meier(a["t"], a["e"], entry=a["entry"])
    np.testing.assert_allclose(tidy[tidy["g"] == "a"]["survival"], direct.survival)
    table = survival_table(frame, "t", "e", "g", times=[5.0], entry="entry")
    # at t = 5 group a has members 0 (entered at 4), 1 and 3 at risk; member 2 enters at 7
    assert table.loc[table["g"] == "a", "at_risk"].item() == 3
    assert table.loc[table["g"] == "a", "survival"].item() == pytest.approx(direct.at(5.0))

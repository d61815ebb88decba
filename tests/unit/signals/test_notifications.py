"""The push experiment table: hand-written logs, and the smoke world against the simulator coins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from persona_lib.data.schema import BILLING_STATUSES, COUNTRIES, DEVICES, LANGUAGES, PLANS
from persona_lib.evaluation.uplift import eligibility_audit
from persona_lib.signals.notifications import ExperimentDesign, notification_experiment

START = pd.Timestamp("2025-01-01")
DESIGN = ExperimentDesign("2025-01-01", n_days=8, inactive_days=3, history_days=28)


def at(day: float, hour: float = 0.0) -> pd.Timestamp:
    return START + pd.Timedelta(days=day, hours=hour)


def cat(values, categories) -> pd.Categorical:
    return pd.Categorical(values, categories=list(categories))


@pytest.fixture
def logs() -> dict[str, pd.DataFrame]:
    """Four members over 8 days (first eligible-rule day 2, inactive_days 3).

    u0: old member; sessions day 0 20:00, day 4 10:00 (two events), day 7 21:00; push day 4 09:30
        opened.
    u1: old member, no sessions; renews on day 3 switching standard -> ads.
    u2: signs up on day 1 at 15:00, no sessions.
    u3: old member, churns on day 5; a push on day 1 (burn-in, outside the table).
    """
    sessions = [
        (0, 100, at(0, 20)),
        (0, 101, at(4, 10)),
        (0, 101, at(4, 10.2)),
        (0, 102, at(7, 21)),
    ]
    events = pd.DataFrame(
        {
            "user_id": np.array([s[0] for s in sessions], dtype="int32"),
            "session_id": np.array([s[1] for s in sessions], dtype="int32"),
            "ts": pd.Series([s[2] for s in sessions]).astype("datetime64[ms]"),
        }
    )
    notifications = pd.DataFrame(
        {
            "user_id": np.array([3, 0], dtype="int32"),
            "ts": pd.Series([at(1, 8.5), at(4, 9.5)]).astype("datetime64[ms]"),
            "hour": np.array([8, 9], dtype="int8"),
            "opened": [False, True],
        }
    )
    billing = pd.DataFrame(
        {
            "user_id": np.array([2, 1, 3], dtype="int32"),
            "period_start": pd.Series([at(1, 15), at(3), at(5)]).astype("datetime64[ms]"),
            "plan": cat(["premium", "ads", "standard"], PLANS),
            "price": np.array([25.0, 8.0, 18.0], dtype="float32"),
            "status": cat(["new", "renewed", "churned"], BILLING_STATUSES),
        }
    )
    users = pd.DataFrame(
        {
            "user_id": np.arange(4, dtype="int32"),
            "signup_ts": pd.Series([at(-200), at(-50), at(1, 15), at(-400)]).astype(
                "datetime64[ms]"
            ),
            "country": cat(["US", "FR", "DE", "US"], COUNTRIES),
            "language": cat(["en", "fr", "de", "en"], LANGUAGES),
            "plan": cat(["standard", "standard", "premium", "standard"], PLANS),
            "price": np.array([18.0, 18.0, 25.0, 18.0], dtype="float32"),
            "preferred_device": cat(["tv", "web", "mobile", "tv"], DEVICES),
        }
    )
    return {"events": events, "notifications": notifications, "billing": billing, "users": users}


def build(logs, design=DESIGN) -> pd.DataFrame:
    return notification_experiment(
        logs["events"], logs["notifications"], logs["billing"], logs["users"], design
    )


def test_eligible_rows_follow_the_simulator_rule(logs):
    exp = build(logs)
    got = {u: sorted(exp.loc[exp["user_id"] == u, "day"]) for u in range(4)}
    # u0: a session exactly 3 days earlier still qualifies (day 7 after day 4)
    assert got == {0: [3, 4, 7], 1: [2, 3, 4, 5, 6, 7], 2: [4, 5, 6, 7], 3: [2, 3, 4]}
    assert list(exp["day"]) == sorted(exp["day"])  # day-major order


def test_treatment_outcome_and_push_diagnostics(logs):
    exp = build(logs).set_index(["user_id", "day"])
    row = exp.loc[(0, 4)]
    assert row["treated"] and row["opened"] and row["hour"] == 9
    assert row["session"] and row["n_sessions"] == 1 and row["session_after_send"] == 1.0
    assert exp["treated"].sum() == 1
    assert np.isnan(exp.loc[(0, 3), "hour"]) and np.isnan(exp.loc[(0, 3), "session_after_send"])
    assert not exp.loc[(0, 3), "session"]
    assert exp.attrs == {"n_pushes_in_window": 1, "n_pushes_unmatched": 0}


def test_features_use_only_earlier_days(logs):
    exp = build(logs).set_index(["user_id", "day"])
    assert exp.loc[(0, 4), "days_since_session"] == 4
    assert exp.loc[(0, 4), "sessions_hist"] == 1
    assert exp.loc[(0, 4), "typical_hour"] == pytest.approx(20)
    assert exp.loc[(0, 7), "days_since_session"] == 3
    assert exp.loc[(0, 7), "active_days_hist"] == 2
    # circular mean of 20:00 and 10:00 (10 hours apart) is 15:00
    assert exp.loc[(0, 7), "typical_hour"] == pytest.approx(15, abs=0.3)
    assert exp.loc[(0, 7), "session_rate_hist"] == pytest.approx(2 / 7)
    assert np.isnan(exp.loc[(1, 5), "days_since_session"])
    assert exp.loc[(1, 2), "plan"] == "standard" and exp.loc[(1, 3), "plan"] == "ads"
    assert exp.loc[(2, 4), "tenure_days"] == pytest.approx(3 - 15 / 24)
    assert exp.loc[(2, 4), "preferred_device"] == "mobile"
    assert exp.loc[(0, 3), "weekday"] == 5  # 2025-01-04 is a Saturday


def test_users_must_be_indexed_by_id(logs):
    logs["users"] = logs["users"].iloc[::-1]
    with pytest.raises(ValueError, match="users must hold user_id 0..n-1 in order"):
        build(logs)


def test_design_validates_and_reads_a_config(smoke_world):
    with pytest.raises(ValueError, match="inactive_days must be > 0"):
        ExperimentDesign("2025-01-01", 10, inactive_days=0)
    design = ExperimentDesign.from_config(smoke_world.config)
    assert design.n_days == smoke_world.config.n_days and design.first_day == 2


@pytest.fixture(scope="module")
def smoke_experiment(smoke_world):
    w = smoke_world
    return notification_experiment(w.events, w.notifications, w.billing, w.users, w.config)


def test_smoke_treated_rows_are_the_logged_pushes_on_eligible_days(smoke_world, smoke_experiment):
    exp, cfg = smoke_experiment, smoke_world.config
    day = (smoke_world.notifications["ts"].dt.floor("D") - START).dt.days
    in_window = int((day >= cfg.inactive_days - 1).sum())
    assert exp["treated"].sum() == in_window == exp.attrs["n_pushes_in_window"]
    assert exp.attrs["n_pushes_unmatched"] == 0
    share, n = exp["treated"].mean(), len(exp)
    assert abs(share - cfg.notification_share) < 4 * np.sqrt(0.3 * 0.7 / n)


def test_smoke_eligibility_matches_the_simulator_coins(smoke_world, smoke_experiment):
    audit = eligibility_audit(smoke_world, smoke_experiment)
    assert audit["coin_rows"] > 1000
    assert audit["mismatch_rate"] <= 0.005  # measured: 0 false positives, 0 false negatives


def test_smoke_features_do_not_leak_the_day(smoke_world, smoke_experiment):
    w, cut = smoke_world, 15
    early = w.events[w.events["ts"] < START + pd.Timedelta(days=cut)]
    exp = notification_experiment(early, w.notifications, w.billing, w.users, w.config)
    feats = ["days_since_session", "sessions_hist", "typical_hour", "tenure_days", "plan"]
    a = smoke_experiment[smoke_experiment["day"] == cut].reset_index(drop=True)
    b = exp[exp["day"] == cut].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        a[["user_id", "treated", *feats]], b[["user_id", "treated", *feats]]
    )
    assert b["session"].sum() == 0 < a["session"].sum()

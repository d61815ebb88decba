"""Member snapshot features and churn labels: a hand-built log, leakage and label checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT32

from persona_lib.data.schema import BILLING_STATUSES, DEVICES, EVENT_TYPES, KINDS, PLANS
from persona_lib.signals.features import (
    FEATURE_TABLES,
    FEATURES,
    churn_labels,
    member_features,
    renewal_dates,
    snapshot_features,
)

CUTOFF = pd.Timestamp("2025-01-29")
T = pd.Timestamp


def _events(rows: list[tuple]) -> pd.DataFrame:
    """Schema-typed events from (ts, user, session, device, type, title, row, dwell, watch)."""
    raw = pd.DataFrame(
        rows, columns=["ts", "user", "session", "device", "type", "title", "row", "dwell", "watch"]
    ).sort_values("ts", kind="stable", ignore_index=True)
    return pd.DataFrame(
        {
            "event_id": np.arange(len(raw), dtype="int32"),
            "ts": pd.to_datetime(raw["ts"]).astype("datetime64[ms]"),
            "user_id": raw["user"].astype("int32"),
            "session_id": raw["session"].astype("int32"),
            "device": pd.Categorical(raw["device"], categories=DEVICES),
            "event_type": pd.Categorical(raw["type"], categories=EVENT_TYPES),
            "title_id": raw["title"].astype("int32"),
            "artwork_id": np.full(len(raw), -1, dtype="int32"),
            "row_id": pd.Categorical(raw["row"], categories=["popular", "search"]),
            "row_position": np.zeros(len(raw), dtype="int8"),
            "col_position": np.zeros(len(raw), dtype="int8"),
            "dwell_ms": raw["dwell"].astype("uint16"),
            "watch_s": raw["watch"].astype("float32"),
        }
    )


def _billing(rows: list[tuple]) -> pd.DataFrame:
    raw = pd.DataFrame(rows, columns=["user_id", "period_start", "plan", "price", "status"])
    return pd.DataFrame(
        {
            "user_id": raw["user_id"].astype("int32"),
            "period_start": pd.to_datetime(raw["period_start"], format="ISO8601").astype(
                "datetime64[ms]"
            ),
            "plan": pd.Categorical(raw["plan"], categories=PLANS),
            "price": raw["price"].astype("float32"),
            "status": pd.Categorical(raw["status"], categories=BILLING_STATUSES),
        }
    ).sort_values(["period_start", "user_id"], ignore_index=True)


@pytest.fixture
def tiny() -> dict[str, pd.DataFrame]:
    """Members 0, 1 and 3 active at CUTOFF; 2 lapsed (reactivates at CUTOFF); 4 joins later.

    Titles: T0 movie 100 min Drama|Comedy, T1 series 50 min Action.
    """
    nan = np.nan
    s1 = ("2025-01-05 20:00:00", 0, 1, "tv")
    s2 = ("2025-01-25 20:00:00", 0, 2, "mobile")
    events = _events(
        [
            (s1[0], *s1[1:], "impression", 0, "popular", 1000, nan),
            ("2025-01-05 20:00:01", *s1[1:], "hover", 0, "popular", 400, nan),
            ("2025-01-05 20:00:02", *s1[1:], "play_start", 0, "popular", 0, nan),
            ("2025-01-05 21:30:02", *s1[1:], "play_stop", 0, "popular", 0, 5400.0),  # completed
            (s2[0], *s2[1:], "impression", 1, "popular", 2000, nan),
            ("2025-01-25 20:00:01", *s2[1:], "scroll_past", 1, "popular", 600, nan),
            ("2025-01-25 20:00:10", *s2[1:], "search", 1, "search", 5000, nan),
            ("2025-01-25 20:00:11", *s2[1:], "play_start", 1, "search", 0, nan),
            ("2025-01-25 20:25:11", *s2[1:], "play_stop", 1, "search", 0, 1500.0),  # not done
            ("2025-01-27 09:00:00", 1, 3, "web", "impression", 0, "popular", 3000, nan),
            ("2025-01-27 09:00:01", 1, 3, "web", "click", 0, "popular", 500, nan),
            ("2025-01-27 09:00:02", 1, 3, "web", "play_start", 0, "popular", 0, nan),
            ("2025-01-27 10:40:02", 1, 3, "web", "play_stop", 0, "popular", 0, 6000.0),
            ("2025-01-28 23:30:00", 1, 4, "tablet", "play_start", 0, "popular", 0, nan),
            ("2025-01-29 00:30:00", 1, 4, "tablet", "play_stop", 0, "popular", 0, 3600.0),
        ]
    )
    billing = _billing(
        [
            (0, "2025-01-10", "standard", 17.99, "renewed"),
            (0, "2025-02-10", "standard", 17.99, "renewed"),
            (1, "2025-01-20 12:00", "ads", 7.99, "new"),
            (1, "2025-02-20", "ads", 7.99, "churned"),
            (2, "2025-01-15", "basic", 11.99, "churned"),
            (2, "2025-01-29", "standard", 17.99, "reactivated"),
            (2, "2025-02-28", "standard", 17.99, "renewed"),
            (3, "2024-12-31", "premium", 24.99, "payment_failed"),
            (3, "2025-01-03", "standard", 17.99, "reactivated"),
            (3, "2025-02-03", "standard", 17.99, "payment_failed"),
            (4, "2025-01-30 08:00", "ads", 7.99, "new"),
        ]
    )
    users = pd.DataFrame(
        {
            "user_id": np.arange(5, dtype="int32"),
            "signup_ts": pd.to_datetime(
                [
                    "2024-06-10 10:00",
                    "2025-01-20 12:00",
                    "2023-01-31",
                    "2024-03-31",
                    "2025-01-30 08:00",
                ],
                format="ISO8601",  # fmt: skip
            ).astype("datetime64[ms]"),
            "plan": pd.Categorical(["standard", "ads", "basic", "premium", "ads"], PLANS),
            "price": np.array([17.99, 7.99, 11.99, 24.99, 7.99], dtype="float32"),
        }
    )
    titles = pd.DataFrame(
        {
            "title_id": np.arange(2, dtype="int32"),
            "kind": pd.Categorical(["movie", "series"], categories=KINDS),
            "genres": pd.array(["Drama|Comedy", "Action"], dtype="str"),
            "runtime_min": np.array([100, 50], dtype="int16"),
            "n_episodes": np.array([1, 10], dtype="int16"),
        }
    )
    notifications = pd.DataFrame(
        {
            "user_id": np.zeros(4, dtype="int32"),
            "ts": pd.to_datetime(["2024-12-20", "2025-01-02", "2025-01-28", "2025-01-29"]).astype(
                "datetime64[ms]"
            ),
            "hour": np.zeros(4, dtype="int8"),
            "opened": np.array([True, True, False, True]),
        }
    )
    return {"events": events, "billing": billing, "users": users, "titles": titles,
            "notifications": notifications}  # fmt: skip


def test_tiny_log_features_match_hand_computed_values(tiny):
    X = member_features(**tiny, cutoff=CUTOFF).set_index("user_id")
    assert list(X.index) == [0, 1, 3]  # 2 lapsed (its reactivation is at the cutoff), 4 later
    assert list(X.columns) == ["cutoff", *FEATURES]
    expected = {
        0: dict(recency_days=3 + 4 / 24, sessions_7d=1, sessions_28d=2,
                sessions_per_week=7 * 2 / (23 + 4 / 24), hours_7d=1500 / 3600,
                hours_28d=6900 / 3600,
                hours_trend_7_28=(1500 / 3600 / 7) / (6900 / 3600 / (23 + 4 / 24)),
                hours_period=1500 / 3600, completions_period=0,
                period_trend=(1500 / 3600 / 19) / (6900 / 3600 / (23 + 4 / 24)),
                completion_rate=0.5, genre_entropy=-(0.5 * np.log(0.25) + 0.5 * np.log(0.5)),
                device_share_tv=0.5, device_share_mobile=0.5, device_share_tablet=0.0,
                device_share_web=0.0, mean_dwell_ms=500.0, play_rate=0.5,
                search_play_share=0.5, price=17.99, tenure_days=232 + 14 / 24,
                payment_failures=0, prior_churns=0, notifications_28d=2,
                notifications_opened_28d=1, days_to_renewal=12),
        1: dict(recency_days=0.5 / 24, sessions_7d=2, sessions_28d=2,
                sessions_per_week=7 * 2 / 8.5, hours_7d=6000 / 3600, hours_28d=6000 / 3600,
                hours_trend_7_28=(6000 / 3600 / 7) / (6000 / 3600 / 8.5),
                hours_period=6000 / 3600, completions_period=1, period_trend=1.0,
                completion_rate=1.0, genre_entropy=np.log(2), device_share_tv=0.0,
                device_share_mobile=0.0, device_share_tablet=0.5, device_share_web=0.5,
                mean_dwell_ms=500.0, play_rate=1.0, search_play_share=0.0, price=7.99,
                tenure_days=8.5, payment_failures=0, prior_churns=0, notifications_28d=0,
                notifications_opened_28d=0, days_to_renewal=22),
        3: dict(recency_days=np.nan, sessions_7d=0, sessions_28d=0, sessions_per_week=0.0,
                hours_7d=0, hours_28d=0, hours_trend_7_28=1.0, hours_period=0,
                completions_period=0, period_trend=1.0, completion_rate=np.nan,
                genre_entropy=np.nan, device_share_tv=np.nan, device_share_mobile=np.nan,
                device_share_tablet=np.nan, device_share_web=np.nan, mean_dwell_ms=np.nan,
                play_rate=np.nan, search_play_share=np.nan, price=17.99, tenure_days=304,
                payment_failures=1, prior_churns=0, notifications_28d=0,
                notifications_opened_28d=0, days_to_renewal=5),
    }  # fmt: skip
    for user, values in expected.items():
        got = X.loc[user, list(values)].to_numpy("float64")
        # float32 inputs (prices, watch seconds) set the precision
        np.testing.assert_allclose(got, list(values.values()), **FLOAT32, err_msg=str(user))
    assert list(X["plan"].astype("str")) == ["standard", "ads", "standard"]


def test_tiny_log_churn_labels(tiny):
    labels = churn_labels(tiny["billing"], CUTOFF)
    assert list(labels["user_id"]) == [0, 1, 3]  # 2 reactivates first, 4 signs up first
    assert list(labels["churn"]) == [0, 1, 1]
    assert list(labels["cause"].astype("str")) == ["renewed", "churned", "payment_failed"]
    assert list(labels["renewal_ts"]) == [T("2025-02-10"), T("2025-02-20"), T("2025-02-03")]
    short = churn_labels(tiny["billing"], CUTOFF, horizon_days=10)
    assert list(short["user_id"]) == [3]  # the others renew after the horizon: dropped


def test_renewal_dates_clamp_to_month_end():
    prev, nxt = renewal_dates(np.array([31, 31, 15, 1]), "2025-02-20")
    assert list(pd.DatetimeIndex(prev).strftime("%Y-%m-%d")) == [
        "2025-01-31", "2025-01-31", "2025-02-15", "2025-02-01"]  # fmt: skip
    assert list(pd.DatetimeIndex(nxt).strftime("%Y-%m-%d")) == [
        "2025-02-28", "2025-02-28", "2025-03-15", "2025-03-01"]  # fmt: skip
    _, at = renewal_dates(np.array([20]), "2025-02-20")  # a renewal at the cutoff is next
    assert pd.Timestamp(at[0]) == T("2025-02-20")


@pytest.fixture(scope="module")
def smoke():
    from persona_lib.sim import load_preset, simulate

    return simulate(load_preset("smoke"))


def _scramble(frame: pd.DataFrame, ts_col: str, cutoff, columns: list[str], seed: int):
    """Shuffle ``columns`` among rows at or after ``cutoff`` and drop a third of those rows."""
    rng = np.random.default_rng(seed)
    late = np.flatnonzero((frame[ts_col] >= cutoff).to_numpy())
    out = frame.copy()
    for c in columns:
        values = out[c].to_numpy().copy()
        values[late] = values[rng.permutation(late)]
        out[c] = pd.Series(values, index=out.index).astype(frame[c].dtype)
    drop = rng.choice(late, size=len(late) // 3, replace=False)
    return out.drop(index=out.index[drop])


def test_features_ignore_every_row_at_or_after_the_cutoff(smoke):
    tables = {k: smoke.tables[k] for k in FEATURE_TABLES}
    cutoff = pd.Timestamp(smoke.config.start) + pd.Timedelta(days=18, hours=7)
    base = member_features(**tables, cutoff=cutoff)
    assert len(base) > 800
    changed = dict(tables)
    changed["events"] = _scramble(
        tables["events"], "ts", cutoff,
        ["user_id", "session_id", "device", "event_type", "title_id", "dwell_ms", "watch_s"], 0,
    )  # fmt: skip
    changed["billing"] = _scramble(tables["billing"], "period_start", cutoff, ["status", "plan"], 1)
    changed["notifications"] = _scramble(tables["notifications"], "ts", cutoff, ["opened"], 2)
    pd.testing.assert_frame_equal(member_features(**changed, cutoff=cutoff), base)
    removed = {
        "events": tables["events"][tables["events"]["ts"] < cutoff],
        "billing": tables["billing"][tables["billing"]["period_start"] < cutoff],
        "notifications": tables["notifications"][tables["notifications"]["ts"] < cutoff],
    }
    pd.testing.assert_frame_equal(member_features(**{**tables, **removed}, cutoff=cutoff), base)


def test_smoke_labels_agree_with_billing_and_renewal_dates(smoke):
    tables = {k: smoke.tables[k] for k in FEATURE_TABLES}
    cutoffs = [pd.Timestamp(smoke.config.start) + pd.Timedelta(days=d) for d in (10, 17)]
    X = snapshot_features(**tables, cutoffs=cutoffs)
    assert X.groupby("cutoff").size().to_dict().keys() == set(cutoffs)
    for cutoff in cutoffs:
        labels = churn_labels(smoke.billing, cutoff, horizon_days=31)
        merged = X[X["cutoff"] == cutoff].merge(labels, on=["user_id", "cutoff"])
        assert len(merged) == len(labels)  # every labelled member is active at the cutoff
        days = (merged["renewal_ts"] - cutoff) / pd.Timedelta(days=1)
        np.testing.assert_allclose(days, merged["days_to_renewal"])
        # the labels are exactly the renewal rows of the window
        b = smoke.billing
        renewal = b["status"].isin(["renewed", "churned", "payment_failed"])
        window = b[(b["period_start"] >= cutoff) & renewal]
        assert len(labels) == window["user_id"].nunique()
        lost = window["status"].isin(["churned", "payment_failed"]).sum()
        assert labels["churn"].sum() == lost

"""Subscription spells from hand-built billing logs and from the smoke world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT32

from persona_lib.data import BILLING_STATUSES, DAYS_PER_MONTH, PLANS
from persona_lib.signals.lifetimes import SPELL_COLUMNS, subscription_spells

END = pd.Timestamp("2024-05-01")


def make_billing(rows: list[tuple]) -> pd.DataFrame:
    """Schema-typed billing from (user_id, date, plan, price, status) tuples, shuffled order."""
    raw = pd.DataFrame(rows, columns=["user_id", "period_start", "plan", "price", "status"])
    raw = raw.iloc[::-1].reset_index(drop=True)  # the function must sort by itself
    return raw.assign(
        user_id=raw["user_id"].astype("int32"),
        period_start=pd.to_datetime(raw["period_start"]).astype("datetime64[ms]"),
        plan=pd.Categorical(raw["plan"], categories=list(PLANS)),
        price=raw["price"].astype("float32"),
        status=pd.Categorical(raw["status"], categories=list(BILLING_STATUSES)),
    )


@pytest.fixture
def billing() -> pd.DataFrame:
    return make_billing(
        [
            # 1: renews once, then cancels
            (1, "2024-01-01", "basic", 9.99, "new"),
            (1, "2024-02-01", "basic", 9.99, "renewed"),
            (1, "2024-03-01", "basic", 9.99, "churned"),
            # 2: the first renewal payment fails
            (2, "2024-01-05", "ads", 7.99, "new"),
            (2, "2024-02-05", "ads", 7.99, "payment_failed"),
            # 3: cancels, comes back on another plan, still a member at the end
            (3, "2024-01-10", "standard", 17.99, "new"),
            (3, "2024-02-10", "standard", 17.99, "churned"),
            (3, "2024-03-20", "premium", 24.99, "reactivated"),
            (3, "2024-04-20", "premium", 24.99, "renewed"),
            # 4: joined before the log (no "new" row), still a member
            (4, "2024-01-15", "ads", 7.99, "renewed"),
            (4, "2024-02-15", "ads", 7.99, "renewed"),
        ]
    )


@pytest.fixture
def users() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": np.array([1, 2, 3, 4, 5], dtype="int32"),
            "signup_ts": pd.to_datetime(
                ["2024-01-01", "2024-01-05", "2024-01-10", "2023-06-15", "2024-04-01"]
            ).astype("datetime64[ms]"),
        }
    )


def days(a: str, b: str) -> float:
    return (pd.Timestamp(b) - pd.Timestamp(a)) / pd.Timedelta(days=1)


def test_spells_by_hand(billing):
    s = subscription_spells(billing, end=END)
    assert list(s.columns) == list(SPELL_COLUMNS)
    assert list(zip(s["user_id"], s["spell"], strict=True)) == [(1, 0), (2, 0), (3, 0), (3, 1),
                                                                  (4, 0)]  # fmt: skip
    assert s["event"].tolist() == [1, 1, 1, 0, 0]
    assert s["cause"].astype(object).where(s["cause"].notna(), None).tolist() == [
        "voluntary", "payment", "voluntary", None, None,
    ]  # fmt: skip
    expected_days = [
        days("2024-01-01", "2024-03-01"),
        days("2024-01-05", "2024-02-05"),
        days("2024-01-10", "2024-02-10"),
        days("2024-03-20", "2024-05-01"),  # censored at end
        days("2024-01-15", "2024-05-01"),  # left-truncated: clock starts at the first row
    ]
    np.testing.assert_allclose(s["duration_days"], expected_days)
    np.testing.assert_allclose(s["duration_months"], np.array(expected_days) / 30.4375)
    assert DAYS_PER_MONTH == 30.4375
    assert s["left_truncated"].tolist() == [False, False, False, False, True]
    assert s["plan"].astype(str).tolist() == ["basic", "ads", "standard", "premium", "ads"]
    np.testing.assert_allclose(s["price"], [9.99, 7.99, 17.99, 24.99, 7.99], **FLOAT32)  # float32
    assert (s["entry_days"] == 0).all()
    assert s["start"].iloc[3] == pd.Timestamp("2024-03-20")
    assert (s["stop"].iloc[3:] == END).all()
    assert s["start"].dtype == "datetime64[ms]" and s["event"].dtype == np.int8


def test_default_end_is_the_last_billing_row(billing):
    s = subscription_spells(billing)
    assert (s.loc[s["event"] == 0, "stop"] == pd.Timestamp("2024-04-20")).all()
    assert s["duration_days"].iloc[3] == days("2024-03-20", "2024-04-20")


def test_an_early_end_drops_later_rows(billing):
    s = subscription_spells(billing, end="2024-02-12")
    # user 1 has not churned yet; user 3 has not come back, so has one spell
    assert s["user_id"].tolist() == [1, 2, 3, 4]
    assert s["event"].tolist() == [0, 1, 1, 0]
    assert s["stop"].iloc[0] == pd.Timestamp("2024-02-12")


def test_users_give_signup_clock_entry_and_tenure(billing, users):
    s = subscription_spells(billing, end=END, users=users)
    assert list(s.columns) == [*SPELL_COLUMNS, "tenure_days_at_start"]
    four = s[s["user_id"] == 4].iloc[0]
    assert four["start"] == pd.Timestamp("2023-06-15")
    assert four["duration_days"] == days("2023-06-15", "2024-05-01")
    assert four["entry_days"] == days("2023-06-15", "2024-01-15")
    assert four["entry_months"] == pytest.approx(four["entry_days"] / 30.4375)
    back = s[(s["user_id"] == 3) & (s["spell"] == 1)].iloc[0]
    assert back["tenure_days_at_start"] == days("2024-01-10", "2024-03-20")
    assert back["entry_days"] == 0
    # members whose spell starts in the log keep their billing start
    assert s.loc[s["user_id"] == 1, "tenure_days_at_start"].iloc[0] == 0


def test_irregular_logs_are_read_leniently():
    b = make_billing(
        [
            # a renewal after a churn without "reactivated" starts a new spell
            (1, "2024-01-01", "ads", 7.99, "new"),
            (1, "2024-02-01", "ads", 7.99, "churned"),
            (1, "2024-03-01", "ads", 7.99, "renewed"),
            # a second "new" inside an open spell censors the first one there
            (2, "2024-01-01", "ads", 7.99, "new"),
            (2, "2024-02-10", "basic", 9.99, "new"),
            # a member first seen cancelling: a left-truncated spell of length 0
            (3, "2024-01-20", "ads", 7.99, "churned"),
        ]
    )
    s = subscription_spells(b, end=END)
    assert list(zip(s["user_id"], s["spell"], strict=True)) == [(1, 0), (1, 1), (2, 0), (2, 1),
                                                                  (3, 0)]  # fmt: skip
    assert s["event"].tolist() == [1, 0, 0, 0, 1]
    assert s["stop"].iloc[2] == pd.Timestamp("2024-02-10")
    assert s["left_truncated"].tolist() == [False, False, False, False, True]
    assert s["duration_days"].iloc[4] == 0.0


def test_plain_string_columns_work():
    b = pd.DataFrame(
        {
            "user_id": [1, 1],
            "period_start": pd.to_datetime(["2024-01-01", "2024-01-31"]),
            "plan": ["ads", "ads"],
            "price": [7.99, 7.99],
            "status": ["new", "payment_failed"],
        }
    )
    s = subscription_spells(b)
    assert s["duration_days"].tolist() == [30.0] and s["cause"].astype(str).tolist() == ["payment"]


def test_errors_name_the_column_rows_and_users(billing, users):
    with pytest.raises(ValueError, match="billing: missing column 'status'"):
        subscription_spells(billing.drop(columns="status"))
    bad = billing.assign(status=billing["status"].astype(str))
    bad.loc[2, "status"] = "paused"
    with pytest.raises(ValueError, match=r"column 'status': unknown value\(s\) \['paused'\] "
                                         r"in rows \[2\] \(1 rows\)"):  # fmt: skip
        subscription_spells(bad)
    with pytest.raises(ValueError, match=r"users: no row for billing user_id\(s\) \[4\]"):
        subscription_spells(billing, users=users[users["user_id"] != 4])
    with pytest.raises(ValueError, match="users: missing column 'signup_ts'"):
        subscription_spells(billing, users=users[["user_id"]])
    with pytest.raises(ValueError, match="billing: no rows on or before end"):
        subscription_spells(billing, end="2020-01-01")


@pytest.fixture(scope="module")
def smoke_world():
    from persona_lib.sim import load_preset, simulate

    return simulate(load_preset("smoke"))


def test_smoke_world_spells_match_the_billing_log(smoke_world):
    billing, users = smoke_world.tables["billing"], smoke_world.tables["users"]
    s = subscription_spells(billing, users=users)
    status = billing["status"].astype(str)
    assert s["event"].sum() == status.isin(["churned", "payment_failed"]).sum()
    assert (s["cause"] == "payment").sum() == (status == "payment_failed").sum()
    starts = status.isin(["new", "reactivated"]).sum()
    assert (~s["left_truncated"]).sum() == starts
    assert s["user_id"].nunique() == billing["user_id"].nunique()
    assert (s["duration_days"] >= 0).all() and (s["entry_days"] <= s["duration_days"]).all()
    assert (
        s["start"] >= users.set_index("user_id").loc[s["user_id"], "signup_ts"].to_numpy()
    ).all()


def test_retention_after_follows_members_subscribed_at_the_cutoff():
    from persona_lib.signals.lifetimes import retention_after

    spells = pd.DataFrame(
        {
            "user_id": [0, 1, 2, 2],
            "spell": [0, 0, 0, 1],
            "start": pd.to_datetime(["2025-01-01", "2025-01-20", "2024-12-01", "2025-01-05"]),
            "stop": pd.to_datetime(["2025-01-31", "2025-02-10", "2025-01-03", "2025-01-25"]),
            "event": [0, 1, 1, 1],
            "cause": [np.nan, "voluntary", "payment", "voluntary"],
        }
    )
    out = retention_after(spells, "2025-01-10")
    # member 1 starts after the cutoff; member 2's first spell ended before it
    assert out["user_id"].tolist() == [0, 2]
    assert out["spell"].tolist() == [0, 1]
    np.testing.assert_allclose(out["duration_days"], [21.0, 15.0])
    assert out["event"].tolist() == [0, 1]
    with pytest.raises(ValueError, match="missing column"):
        retention_after(spells.drop(columns="stop"), "2025-01-10")

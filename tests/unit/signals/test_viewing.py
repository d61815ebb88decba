"""Viewing time per paid member: member-days and the ratios, on hand-computed logs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from persona_lib.signals import member_days, viewing_time

START, END = np.datetime64("2025-01-01"), np.datetime64("2025-01-11")


def _users(signups: dict[int, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {"user_id": list(signups), "signup_ts": pd.to_datetime(list(signups.values()))}
    )


def _billing(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "period_start": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
            "status": pd.Categorical([r[2] for r in rows]),
        }
    )


def test_member_days_counts_paid_spells_inside_the_window():
    users = _users({1: "2024-06-01", 2: "2025-01-09", 3: "2025-02-01", 4: "2024-12-01", 5: None})
    billing = _billing(
        [
            (1, "2025-01-02", "renewed"),  # not a transition
            (1, "2025-01-05", "churned"),  # 1: Jan 1-5 = 4 days
            (1, "2025-01-07", "reactivated"),  # 1: Jan 7-11 = 4 days
            (2, "2025-01-09", "new"),  # 2: Jan 9-11 = 2 days
            (4, "2024-12-20", "payment_failed"),  # 4: lapsed before the window: 0
            (4, "2025-01-10T12:00", "reactivated"),  # 4: half a day
        ]
    )
    assert member_days(users, billing, START, END) == pytest.approx(4 + 4 + 2 + 0.5)


def test_member_days_of_no_members_is_zero():
    assert member_days(_users({}), _billing([]), START, END) == 0.0


def _events(rows: list[tuple[str, int, int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.to_datetime([r[0] for r in rows]),
            "user_id": [r[1] for r in rows],
            "session_id": [r[2] for r in rows],
            "event_type": pd.Categorical([r[3] for r in rows]),
            "watch_s": np.array([r[4] for r in rows], dtype="float32"),
        }
    )


def test_viewing_time_ratios_by_hand():
    users = _users({1: "2024-01-01", 2: "2024-01-01"})  # 2 members x 10 days = 20 member-days
    events = _events(
        [
            ("2025-01-01 20:00", 1, 10, "impression", np.nan),
            ("2025-01-01 21:00", 1, 10, "play_stop", 3600.0),
            ("2025-01-01 23:00", 1, 10, "play_stop", 1800.0),  # sitting 10: 90 min
            ("2025-01-01 23:30", 1, 11, "play_stop", 1800.0),  # same day, sitting 11
            ("2025-01-03 20:00", 2, 12, "play_stop", 5400.0),  # user 2 day 3
            ("2025-01-04 20:00", 2, 13, "impression", np.nan),  # a visit without a play
            ("2025-01-10 23:00", 2, 14, "play_stop", 3600.0),  # last day of the window
            ("2025-01-11 00:30", 2, 15, "play_stop", 9999.0),  # outside the window
        ]
    )
    got = viewing_time(events, users, _billing([]), START, END)
    hours = (3600 + 1800 + 1800 + 5400 + 3600) / 3600  # 4.5
    assert got.member_days == pytest.approx(20.0)
    assert got.hours == pytest.approx(hours)
    assert got.hours_per_member_month == pytest.approx(hours / 20 * 365.25 / 12)
    assert got.daily_active_share == pytest.approx(3 / 20)  # (1, Jan 1), (2, Jan 3), (2, Jan 10)
    assert got.sittings_per_active_day == pytest.approx(4 / 3)  # sittings 10, 11, 12, 14
    assert got.sitting_minutes == pytest.approx(60 * hours / 4)
    assert got.visits_per_member_day == pytest.approx(5 / 20)  # sessions 10-14


def test_viewing_time_window_defaults_to_the_days_the_events_span():
    users = _users({1: "2024-01-01"})
    events = _events([("2025-01-01 10:00", 1, 1, "play_stop", 7200.0),
                      ("2025-01-02 10:00", 1, 2, "play_stop", 0.0)])  # fmt: skip
    got = viewing_time(events, users, _billing([]))
    assert got.member_days == pytest.approx(2.0)
    assert got.daily_active_share == pytest.approx(1.0)
    assert got.sitting_minutes == pytest.approx(60.0)


def test_viewing_time_without_plays_has_nan_ratios():
    users = _users({1: "2024-01-01"})
    events = _events([("2025-01-01 10:00", 1, 1, "impression", np.nan)])
    got = viewing_time(events, users, _billing([]), START, END)
    assert got.hours == 0.0 and got.daily_active_share == 0.0
    assert math.isnan(got.sittings_per_active_day) and math.isnan(got.sitting_minutes)

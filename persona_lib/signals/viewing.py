"""Viewing time per paid member: hours a member-month, daily active share, sittings, their length.

The figures streaming services publish are per paid membership: Netflix's engagement reports
give hours viewed over a half year beside the paid memberships of the period, so the comparable
figure from logs divides hours watched by the days members were paying, not by every account in
the users table. `member_days` counts those days from the users' signups and the billing log;
`viewing_time` sets the logged watch time against them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 365.25 / 12
STARTS = ("reactivated",)  # besides the signup itself
STOPS = ("churned", "payment_failed")
MS_PER_DAY = 86_400_000


def member_days(
    users: pd.DataFrame, billing: pd.DataFrame, start: np.datetime64, end: np.datetime64
) -> float:
    """Days of paid membership inside the window ``[start, end)``, summed over members.

    A member pays from ``signup_ts`` until a billing row with status churned or payment_failed
    and again from a reactivated row. Each transition opens (signup, reactivation) or closes
    (cancellation, payment failure) a spell that lasts until the member's next transition or
    the window's end; ``days = sum over open spells of (min(next, end) - max(ts, start))^+``
    in days.

    Parameters
    ----------
    users : users table (``user_id``, ``signup_ts``).
    billing : billing table (``user_id``, ``period_start``, ``status``).
    start, end : the window, as anything ``numpy.datetime64`` accepts.

    Examples
    --------
    >>> users = pd.DataFrame({"user_id": [1], "signup_ts": pd.to_datetime(["2025-01-03"])})
    >>> billing = pd.DataFrame({"user_id": [1], "period_start": pd.to_datetime(["2025-01-05"]),
    ...                         "status": ["churned"]})
    >>> member_days(users, billing, np.datetime64("2025-01-01"), np.datetime64("2025-01-11"))
    2.0
    """
    lo = np.datetime64(start, "ms").astype(np.int64)
    hi = np.datetime64(end, "ms").astype(np.int64)
    status = billing["status"].astype(str).to_numpy()
    move = np.isin(status, STARTS + STOPS)
    moves = billing[move]
    signup = users["signup_ts"].to_numpy(dtype="datetime64[ms]")
    known = ~np.isnat(signup)
    frame = pd.DataFrame(
        {
            "user_id": np.concatenate(
                [users["user_id"].to_numpy()[known], moves["user_id"].to_numpy()]
            ).astype(np.int64),
            "ts": np.concatenate(
                [signup[known], moves["period_start"].to_numpy(dtype="datetime64[ms]")]
            ).astype(np.int64),
            "opens": np.concatenate([np.ones(known.sum(), bool), np.isin(status[move], STARTS)]),
        }
    ).sort_values(["user_id", "ts"], kind="stable")
    user, ts, opens = (frame[c].to_numpy() for c in ("user_id", "ts", "opens"))
    last = np.r_[user[1:] != user[:-1], True]  # a member's last transition
    following = np.where(last, hi, np.r_[ts[1:], hi])
    spell = np.minimum(following, hi) - np.maximum(ts, lo)
    return float(np.clip(spell[opens], 0, None).sum() / MS_PER_DAY)


@dataclass(frozen=True)
class ViewingTime:
    """Viewing per paid member over a window (see `viewing_time`)."""

    member_days: float
    hours: float
    hours_per_member_month: float
    daily_active_share: float
    sittings_per_active_day: float
    sitting_minutes: float
    visits_per_member_day: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def viewing_time(
    events: pd.DataFrame,
    users: pd.DataFrame,
    billing: pd.DataFrame,
    start: np.datetime64 | None = None,
    end: np.datetime64 | None = None,
) -> ViewingTime:
    """Hours per member-month, daily active share, sittings per active day and their length.

    With ``D`` the paid member-days of the window (`member_days`), ``H`` the hours of every
    ``play_stop``'s ``watch_s``, a *sitting* a session with at least one play_stop and an
    *active day* a (member, calendar day of ``ts``) with at least one:

    - ``hours_per_member_month = H / D * 365.25 / 12``
    - ``daily_active_share = active days / D``
    - ``sittings_per_active_day = sittings / active days``
    - ``sitting_minutes = 60 H / sittings`` (watch time, not time in the app)
    - ``visits_per_member_day = sessions / D`` (every session, with a play or not)

    Parameters
    ----------
    events : events (``ts``, ``user_id``, ``session_id``, ``event_type``, ``watch_s``).
    users, billing : as for `member_days`.
    start, end : the window; by default the calendar days the events span.

    Returns
    -------
    ViewingTime; the ratios are NaN when their denominator is zero.
    """
    ts = events["ts"].to_numpy(dtype="datetime64[ms]")
    if start is None:
        start = ts.min().astype("datetime64[D]") if ts.size else np.datetime64("1970-01-01")
    if end is None:
        end = (ts.max().astype("datetime64[D]") + 1) if ts.size else np.datetime64(start, "D")
    lo, hi = np.datetime64(start, "ms"), np.datetime64(end, "ms")
    inside = (ts >= lo) & (ts < hi)
    stops = inside & (events["event_type"] == "play_stop").to_numpy()
    watch = events["watch_s"].to_numpy(dtype="float64", na_value=np.nan)[stops]
    hours = float(np.nansum(watch) / 3600.0)
    days = member_days(users, billing, lo, hi)
    user = events["user_id"].to_numpy()[stops].astype(np.int64)
    day = ts[stops].astype("datetime64[D]").astype(np.int64)
    day = day - (day.min() if day.size else 0)  # days since the first play_stop
    active = np.unique(user * (int(day.max(initial=0)) + 1) + day).size  # (member, day) pairs
    sittings = pd.unique(events["session_id"].to_numpy()[stops]).size
    sessions = pd.unique(events["session_id"].to_numpy()[inside]).size

    def share(num: float, den: float) -> float:
        return float(num / den) if den > 0 else float("nan")

    return ViewingTime(
        member_days=days,
        hours=hours,
        hours_per_member_month=share(hours * DAYS_PER_MONTH, days),
        daily_active_share=share(active, days),
        sittings_per_active_day=share(sittings, active),
        sitting_minutes=share(60.0 * hours, sittings),
        visits_per_member_day=share(sessions, days),
    )

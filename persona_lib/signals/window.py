"""The days a log covers: from the day of its first session to the day of its last.

A notebook that reads a simulated world knows its calendar from the world's config; one that
reads a team's own logs has only the logs. `log_window` recovers the calendar from the event
log alone, dating each session by its first event (as `notification_experiment` does): a
session that starts late on the last day and logs events after midnight does not add a day.
On a simulated world the window equals the config's ``start_date`` and ``n_days`` whenever a
session starts on the first and on the last day (any world of more than a few members).
`sample_log` keeps a random sample of members over the first days of a log (an analysis whose
cost grows with the log, such as 03's off-policy rounds, on logs larger than it needs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = ["LogWindow", "log_window", "sample_log"]


@dataclass(frozen=True)
class LogWindow:
    """A calendar window of whole UTC days: ``n_days`` days from midnight of ``start_date``.

    Attributes
    ----------
    start_date : str
        Day 0 as ``YYYY-MM-DD`` (midnight, UTC).
    n_days : int
        Number of days covered, at least 1.
    """

    start_date: str
    n_days: int

    def __post_init__(self) -> None:
        np.datetime64(self.start_date, "D")  # raises on a malformed date
        if int(self.n_days) != self.n_days or self.n_days < 1:
            raise ValueError(f"LogWindow.n_days must be a positive integer, got {self.n_days}")

    @property
    def start(self) -> pd.Timestamp:
        """Midnight of day 0."""
        return pd.Timestamp(self.start_date)

    @property
    def end(self) -> pd.Timestamp:
        """Midnight after the last day (exclusive end)."""
        return self.start + pd.Timedelta(days=self.n_days)

    def to_dict(self) -> dict:
        return asdict(self)


def log_window(events: pd.DataFrame) -> LogWindow:
    """The whole days from the first to the last session start of an event log.

    Parameters
    ----------
    events : DataFrame
        Event log with ``session_id`` and ``ts`` (naive UTC timestamps); a session is dated by
        its earliest event.

    Returns
    -------
    LogWindow
        ``start_date`` the day of the first session, ``n_days`` through the day of the last.

    Raises
    ------
    ValueError
        If `events` holds no timestamped row.

    Examples
    --------
    >>> ev = pd.DataFrame({"session_id": [1, 1, 2],
    ...                    "ts": pd.to_datetime(["2025-01-01 08:00", "2025-01-01 09:00",
    ...                                          "2025-01-03 23:59"])})
    >>> log_window(ev)
    LogWindow(start_date='2025-01-01', n_days=3)
    """
    starts = events.groupby("session_id", sort=False)["ts"].min().dropna()
    if starts.empty:
        raise ValueError("log_window needs an event log with at least one timestamped event")
    days = starts.to_numpy().astype("datetime64[D]")
    first, last = days.min(), days.max()
    return LogWindow(str(first), int((last - first).astype(np.int64)) + 1)


def sample_log(
    events: pd.DataFrame,
    max_members: int | None = None,
    max_days: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """The events of at most `max_members` members over the first `max_days` days of a log.

    Members are drawn uniformly at random without replacement from those with an event (all of
    them when there are no more than `max_members`); days are those of `log_window`, and a
    session belongs to the day it starts on, so no session is cut in two. A log within both
    limits is returned whole (the same frame, not a copy), so a capped analysis of a small log
    equals the uncapped one.

    Parameters
    ----------
    events : DataFrame
        Event log with ``user_id``, ``session_id`` and ``ts``.
    max_members, max_days : int or None
        The caps; None for no cap. Each must be at least 1.
    random_state : int
        Seed of the member draw.

    Returns
    -------
    DataFrame
        The kept rows, in their original order and with their original index.

    Examples
    --------
    >>> ev = pd.DataFrame({"user_id": [0, 1, 2, 0], "session_id": [1, 2, 3, 4],
    ...                    "ts": pd.to_datetime(["2025-01-01 08:00", "2025-01-01 09:00",
    ...                                          "2025-01-02 23:59", "2025-01-03 00:10"])})
    >>> sample_log(ev, max_days=2)["session_id"].tolist()
    [1, 2, 3]
    >>> int(sample_log(ev, max_members=2)["user_id"].nunique())
    2
    """
    for name, cap in (("max_members", max_members), ("max_days", max_days)):
        if cap is not None and (int(cap) != cap or cap < 1):
            raise ValueError(f"sample_log: {name} must be a positive integer or None, got {cap!r}")
    keep = np.ones(len(events), dtype=bool)
    if max_members is not None:
        members = np.unique(events["user_id"].to_numpy())
        if members.size > max_members:
            rng = np.random.default_rng(random_state)
            chosen = np.sort(rng.choice(members, size=int(max_members), replace=False))
            keep &= np.isin(events["user_id"].to_numpy(), chosen)
    if max_days is not None and len(events):
        window = log_window(events)
        if window.n_days > max_days:
            start = events.groupby("session_id", sort=False)["ts"].transform("min").to_numpy()
            end = np.datetime64(window.start_date, "D") + np.timedelta64(int(max_days), "D")
            keep &= start < end
    return events if keep.all() else events[keep]

"""The days a log covers: from the day of its first session to the day of its last.

A notebook that reads a simulated world knows its calendar from the world's config; one that
reads a team's own logs has only the logs. `log_window` recovers the calendar from the event
log alone, dating each session by its first event (as `notification_experiment` does): a
session that starts late on the last day and logs events after midnight does not add a day.
On a simulated world the window equals the config's ``start_date`` and ``n_days`` whenever a
session starts on the first and on the last day (any world of more than a few members).
Logs without events (a billing history alone, such as an imported churn table) are dated by
their billing rows instead: `billing_window`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = ["LogWindow", "billing_window", "log_window"]


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
    return _spanning(starts.to_numpy().astype("datetime64[D]"))


def billing_window(billing: pd.DataFrame) -> LogWindow:
    """The whole days from the first to the last ``period_start`` of a billing log.

    For logs without events: the last day observed is that of the last billing row, so a
    membership still running is censored there (its next renewal is not in the log).

    Parameters
    ----------
    billing : DataFrame
        Billing log with ``period_start`` (naive UTC timestamps).

    Returns
    -------
    LogWindow
        ``start_date`` the day of the first period start, ``n_days`` through the day of the
        last.

    Raises
    ------
    ValueError
        If `billing` holds no dated row.

    Examples
    --------
    >>> billing_window(pd.DataFrame({"period_start": pd.to_datetime(["2017-11-01", "2017-12-01"])}))
    LogWindow(start_date='2017-11-01', n_days=31)
    """
    days = billing["period_start"].dropna().to_numpy().astype("datetime64[D]")
    if days.size == 0:
        raise ValueError("billing_window needs a billing log with at least one dated row")
    return _spanning(days)


def _spanning(days: np.ndarray) -> LogWindow:
    """The window of whole days from the earliest to the latest of ``days`` (datetime64[D])."""
    first, last = days.min(), days.max()
    return LogWindow(str(first), int((last - first).astype(np.int64)) + 1)

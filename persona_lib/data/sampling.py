"""A random sample of members over the first days of an event log: the two rules every reader
of such a sample shares.

An analysis whose cost grows with the log (03's off-policy rounds, say) may need only part of
a large log. The sample is defined by two rules, applied in this order:

1. `draw_members`: at most ``max_members`` members, drawn uniformly at random without
   replacement (``numpy.random.default_rng(random_state).choice``) from the sorted distinct
   ``user_id`` values of the whole log; all of them when there are no more.
2. `first_days_mask`: the sessions that *start* before midnight of day ``max_days`` counted
   from the UTC day of the log's first event (that event starts a session, so day 0 is the day
   of the log's first session); a session is never cut in two.

`sample_log` applies them to a frame in memory and `persona_lib.data.folder_logs.Logs.read_sample`
to a day-partitioned store without loading it
whole: the same rules, so the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["check_caps", "draw_members", "first_days_mask", "sample_log"]


def check_caps(max_members: int | None, max_days: int | None) -> None:
    """Raise ValueError unless each cap is None or a positive integer."""
    for name, cap in (("max_members", max_members), ("max_days", max_days)):
        if cap is not None and (isinstance(cap, bool) or int(cap) != cap or cap < 1):
            raise ValueError(f"sample: {name} must be a positive integer or None, got {cap!r}")


def draw_members(members: np.ndarray, max_members: int | None,
                 random_state: int = 0) -> np.ndarray | None:  # fmt: skip
    """The members kept: a sorted random draw of `max_members` of `members`, or None (all).

    Parameters
    ----------
    members : array
        The log's distinct ``user_id`` values, sorted (``np.unique``).
    max_members : int or None
        The cap; None or at least ``len(members)``: every member is kept (returns None).
    random_state : int
        Seed of the draw.

    Examples
    --------
    >>> draw_members(np.array([3, 5, 8]), 5) is None
    True
    >>> draw_members(np.array([3, 5, 8]), 2, random_state=0).size
    2
    """
    if max_members is None or members.size <= max_members:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(members, size=int(max_members), replace=False))


def first_days_mask(session_id, ts, first_day, max_days: int) -> np.ndarray:
    """Rows whose session starts before midnight of day `max_days` from `first_day`.

    Parameters
    ----------
    session_id, ts : array-like
        Each row's session and timestamp (naive UTC); a session starts at its earliest ``ts``
        among the rows given (give every row of each session).
    first_day : str or numpy.datetime64
        Day 0 (the UTC day of the log's first event).
    max_days : int
        Days kept.

    Examples
    --------
    >>> ts = pd.to_datetime(["2025-01-01 23:50", "2025-01-02 00:10", "2025-01-02 09:00"])
    >>> first_days_mask([1, 1, 2], ts, "2025-01-01", 1).tolist()
    [True, True, False]
    """
    ts = pd.Series(np.asarray(ts, dtype="datetime64[ns]"))
    start = ts.groupby(np.asarray(session_id), sort=False).transform("min").to_numpy()
    end = np.datetime64(first_day, "D") + np.timedelta64(int(max_days), "D")
    return start < end


def sample_log(
    events: pd.DataFrame,
    max_members: int | None = None,
    max_days: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """The events of at most `max_members` members over the first `max_days` days of a log.

    The rules of `persona_lib.data.sampling`: members drawn uniformly at random without
    replacement from those with an event (all of them when there are no more than
    `max_members`), then the sessions that start within `max_days` days of the day of the log's
    first event (the first day of `persona_lib.signals.window.log_window`), so no session is
    cut in two. A log within both caps is returned whole (the same frame, not a copy), so a
    capped analysis of a small log equals the uncapped one. `persona_lib.data.Logs.read_sample`
    reads the same rows from a day-partitioned store without loading the whole log.

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
    check_caps(max_members, max_days)
    out = events
    chosen = draw_members(np.unique(events["user_id"].to_numpy()), max_members, random_state)
    if chosen is not None:
        out = out[np.isin(out["user_id"].to_numpy(), chosen)]
    if max_days is not None and len(out):
        first_day = events["ts"].min().to_datetime64().astype("datetime64[D]")
        keep = first_days_mask(out["session_id"].to_numpy(), out["ts"].to_numpy(), first_day,
                               max_days)  # fmt: skip
        if not keep.all():
            out = out[keep]
    return out

"""Outcomes of a logged experiment, computed from the event log around each member's assignment.

Each assigned member ``u`` has an assignment time ``a_u`` and a window length ``W``. Events with
``a_u <= ts < a_u + W`` are the *post* period (outcomes) and events with ``a_u - W <= ts < a_u``
the *pre* period (covariates), so the split falls exactly at ``a_u`` and both periods are equally
long; without a window (``window=None``) the post period is all of the log from ``a_u`` on and
the pre period all of it before. Per period:

- ``hours``: ``sum(watch_s) / 3600`` over the member's plays that *started* in the period; a
  play is a ``play_start`` closed by its ``play_stop`` (`persona_lib.signals.engagement.
  start_watch_s`), so a play that starts before ``a_u`` counts wholly in the pre period, and a
  play without a stop counts 0 hours;
- ``plays``: ``play_start`` events;
- ``active_days``: 24-hour blocks counted from ``a_u`` (``floor((ts - a_u) / 1 day)``) holding
  at least one event of any type, at most ``ceil(W / 1 day)``;
- ``played``: ``plays > 0``;
- ``sessions``: sessions whose first event (by ``ts``, then ``event_id``) is in the period, and
  ``play_sessions``: sessions whose first ``play_start`` is in the period (a session's play
  rate is ``sum(play_sessions) / sum(sessions)``, a ratio for the delta method).

With the billing log, over the post period (``period_start`` in ``[a_u, a_u + W)``): ``renewals``
(renewed, churned or payment_failed rows), ``lost`` (churned or payment_failed) and ``churned``
(``lost > 0``) and ``revenue_usd`` (``price`` of the paid periods: new, renewed or reactivated).
Each table gives only its own outcomes: without an event log there are no period or session
outcomes (nor covariates), without billing no churn or revenue; a per-member ``outcomes`` table
is merged as it is.
Pre-period columns are prefixed ``pre_``; they are measured before assignment, so
they are valid CUPED covariates (Deng, Xu, Kohavi & Walker 2013). A pre period that starts
before the log does is measured over the part the log holds; that weakens the covariate but
keeps the CUPED estimate unbiased.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from persona_lib.data.schema import EVENT_TYPES
from persona_lib.experiments.choice import (
    experiment_members,
    ids_text,
    require_columns,
)
from persona_lib.experiments.frame import ArmsAnalysis, analyze_arms
from persona_lib.signals.engagement import start_watch_s
from persona_lib.signals.features import LOST_STATUSES
from persona_lib.signals.subscriptions import RENEWAL_STATUSES

__all__ = [
    "PERIOD_OUTCOMES",
    "SESSION_OUTCOMES",
    "analyze_logged_experiment",
    "compute_logged_outcomes",
    "cumulative_daily_hours",
]

EVENT_COLUMNS = ("event_id", "ts", "user_id", "session_id", "event_type", "title_id", "watch_s")
BILLING_COLUMNS = ("user_id", "period_start", "status", "price")
PERIOD_OUTCOMES = ("hours", "plays", "active_days", "played")
SESSION_OUTCOMES = ("sessions", "play_sessions")
BILLING_OUTCOMES = ("renewals", "lost", "churned", "revenue_usd")
PAID_STATUSES = ("new", "renewed", "reactivated")
DAY_NS = 86_400 * 10**9


def _ns(ts: pd.Series) -> np.ndarray:
    """Timestamps as int64 nanoseconds; tz-aware ones in UTC."""
    ts = pd.to_datetime(ts)
    if ts.dt.tz is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return ts.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _window_ns(window) -> int | None:
    """The window as nanoseconds: a number is days, else anything `pd.Timedelta` reads; None
    stays None (the whole log on each side of the assignment)."""
    if window is None:
        return None
    is_days = isinstance(window, int | float) and not isinstance(window, bool)
    delta = pd.Timedelta(days=window) if is_days else pd.Timedelta(window)
    if delta <= pd.Timedelta(0):
        raise ValueError(f"window must be positive, got {window!r}")
    return int(delta.value)


def _offsets(ts: pd.Series, user_id: pd.Series, members: pd.DataFrame) -> tuple:
    """Per row: the member's position (-1 when not assigned) and ``ts - assigned_ts`` in ns."""
    pos = pd.Index(members["user_id"]).get_indexer(user_id.to_numpy())
    assigned = _ns(members["assigned_ts"])
    offset = _ns(ts) - assigned[np.maximum(pos, 0)]
    return pos, offset


def _periods(offset: np.ndarray, window: int | None) -> tuple[tuple[str, np.ndarray], ...]:
    """(prefix, rows in the period) for the post ("") and the pre ("pre_") period."""
    if window is None:
        return ("", offset >= 0), ("pre_", offset < 0)
    return ("", (offset >= 0) & (offset < window)), ("pre_", (offset < 0) & (offset >= -window))


def _first_rows(events: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Of the positions ``rows``, the first of each session by ``ts`` then ``event_id``."""
    order = rows[np.lexsort((events["event_id"].to_numpy()[rows], _ns(events["ts"])[rows]))]
    return order[np.unique(events["session_id"].to_numpy()[order], return_index=True)[1]]


def _by_member(pos: np.ndarray, mask: np.ndarray, n: int, weights=None) -> np.ndarray:
    w = None if weights is None else weights[mask]
    return np.bincount(pos[mask], weights=w, minlength=n).astype(np.float64)


def _member_events(events: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """The members' events, the columns the outcomes read, event types categorical."""
    require_columns(events, EVENT_COLUMNS, "events")
    events = events.loc[events["user_id"].isin(members["user_id"]), list(EVENT_COLUMNS)]
    if not isinstance(events["event_type"].dtype, pd.CategoricalDtype):
        events = events.astype({"event_type": pd.CategoricalDtype(EVENT_TYPES)})
    return events.reset_index(drop=True)


def _event_outcomes(events: pd.DataFrame, members: pd.DataFrame, window: int | None) -> dict:
    """Period and session outcomes of the post period and ``pre_*`` of the pre period."""
    events = _member_events(events, members)
    n = len(members)
    pos, offset = _offsets(events["ts"], events["user_id"], members)
    starts, watch_s = start_watch_s(events)
    hours = np.nan_to_num(watch_s) / 3600.0
    block = np.floor_divide(offset, DAY_NS)  # 24-hour blocks from assignment; pre ones negative
    first = _first_rows(events, np.arange(len(events)))
    first_play = _first_rows(events, starts)
    out = {}
    for prefix, period in _periods(offset, window):
        out[f"{prefix}sessions"] = _by_member(pos[first], period[first], n)
        out[f"{prefix}play_sessions"] = _by_member(pos[first_play], period[first_play], n)
        start_in = period[starts]
        plays = _by_member(pos[starts], start_in, n)
        member_days = np.unique(np.stack([pos[period], block[period]]), axis=1)[0]
        out[f"{prefix}hours"] = _by_member(pos[starts], start_in, n, hours)
        out[f"{prefix}plays"] = plays
        out[f"{prefix}active_days"] = np.bincount(member_days, minlength=n).astype(np.float64)
        out[f"{prefix}played"] = plays > 0
    return out


def _billing_outcomes(billing: pd.DataFrame, members: pd.DataFrame, window: int | None) -> dict:
    """Renewals, lost renewals, churn and revenue of the billing periods starting post."""
    require_columns(billing, BILLING_COLUMNS, "billing")
    billing = billing.loc[billing["user_id"].isin(members["user_id"])]
    pos, offset = _offsets(billing["period_start"], billing["user_id"], members)
    post = _periods(offset, window)[0][1]
    status = billing["status"].astype(str).to_numpy()
    price = billing["price"].to_numpy(np.float64)
    n = len(members)
    lost = _by_member(pos, post & np.isin(status, LOST_STATUSES), n)
    renewals = _by_member(pos, post & np.isin(status, RENEWAL_STATUSES), n)
    revenue = _by_member(pos, post & np.isin(status, PAID_STATUSES), n, price)
    return {"renewals": renewals, "lost": lost, "churned": lost > 0, "revenue_usd": revenue}


def _merge_outcomes(frame: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    require_columns(outcomes, ["user_id"], "outcomes")
    repeated = outcomes["user_id"][outcomes["user_id"].duplicated()].unique()
    if len(repeated):
        raise ValueError(f"outcomes has more than one row for user_id {ids_text(repeated)}")
    clash = [c for c in outcomes.columns if c != "user_id" and c in frame.columns]
    if clash:
        raise ValueError(f"outcomes columns {clash} clash with computed columns; rename them")
    return frame.merge(outcomes, on="user_id", how="left", validate="one_to_one")


def _check_end(members: pd.DataFrame, window: int, end) -> None:
    late = _ns(members["assigned_ts"]) + window > _ns(pd.Series([pd.Timestamp(end)]))[0]
    if late.any():
        raise ValueError(
            f"{late.sum():,} members' post windows end after {end}: user_id "
            f"{ids_text(members['user_id'].to_numpy()[late])}; shorten the window or drop them"
        )


def cumulative_daily_hours(
    events: pd.DataFrame,
    assignments: pd.DataFrame,
    *,
    experiment: object = None,
    days: int | None = None,
) -> np.ndarray:
    """(members, days) each member's hours watched from assignment to the end of each day.

    Day ``d`` (1-based) ends ``d`` 24-hour blocks after the member's ``a_u``; a play counts on the
    day it started, with the hours of `compute_logged_outcomes`. Rows follow its member order
    (sorted by ``user_id``). The input of a peeking study: a look per day.

    Parameters
    ----------
    events, assignments, experiment : as in `compute_logged_outcomes`.
    days : looks; None: up to the last day on which any member started a play.

    Returns
    -------
    ndarray (members, days) of float64, non-decreasing along each row.

    Examples
    --------
    >>> hours = cumulative_daily_hours(events, assignments, days=14)  # doctest: +SKIP
    """
    members = experiment_members(assignments, experiment)
    events = _member_events(events, members)
    pos, offset = _offsets(events["ts"], events["user_id"], members)
    starts, watch_s = start_watch_s(events)
    block = np.floor_divide(offset[starts], DAY_NS)
    post = block >= 0
    if days is None:
        days = int(block[post].max()) + 1 if post.any() else 1
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    keep = post & (block < days)
    cell = pos[starts][keep] * days + block[keep]
    hours = np.nan_to_num(watch_s[keep]) / 3600.0
    daily = np.bincount(cell, weights=hours, minlength=len(members) * days)
    return np.cumsum(daily.reshape(len(members), days), axis=1)


def compute_logged_outcomes(
    events: pd.DataFrame | None,
    assignments: pd.DataFrame,
    *,
    experiment: object = None,
    window: str | pd.Timedelta | float = "14D",
    billing: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
    end: object = None,
) -> pd.DataFrame:
    """One row per assigned member: variant, pre-period covariates and post-period outcomes.

    Parameters
    ----------
    events : event log with at least ``event_id, ts, user_id, session_id, event_type, title_id,
        watch_s`` (the schema's ``events`` table); None when the logs have none: no period or
        session columns then.
    assignments : ``user_id, experiment, variant, assigned_ts``, one row per assignment; a member
        assigned twice to the same variant counts from the first time.
    experiment : which experiment of ``assignments``; may be omitted when there is only one.
    window : length ``W`` of the post and of the pre period: a `pd.Timedelta`, a string such as
        ``"14D"`` or a number of days; None: all of the log after and before each assignment.
    billing : optional billing log (``user_id, period_start, status, price``): adds
        ``renewals``, ``lost``, ``churned`` and ``revenue_usd`` over the post period.
    outcomes : optional frame of ``user_id`` and more outcome columns, merged by ``user_id``
        (members it lacks get NaN).
    end : optional end of the log; members whose post window ``a_u + W`` passes it raise,
        since their outcomes would be cut short (not checked without a window).

    Returns
    -------
    DataFrame sorted by ``user_id``: ``user_id, variant, assigned_ts``, then (with ``events``)
    ``pre_hours, pre_plays, pre_active_days, pre_played, hours, plays, active_days, played``,
    then ``pre_sessions, pre_play_sessions, sessions, play_sessions`` (see the module
    docstring), then the billing and ``outcomes`` columns when given. Members without events
    have zeros.

    Raises
    ------
    ValueError : missing columns, members assigned to more than one variant (naming their
        user_ids), windows that pass ``end``, duplicated or clashing ``outcomes`` rows.

    Examples
    --------
    >>> frame = compute_logged_outcomes(events, assignments, experiment="row-v2",
    ...                                 window="14D")  # doctest: +SKIP
    """
    members = experiment_members(assignments, experiment)
    window_ns = _window_ns(window)
    if end is not None and window_ns is not None:
        _check_end(members, window_ns, end)
    frame = members
    if events is not None:
        periods = _event_outcomes(events, members, window_ns)
        order = [f"pre_{m}" for m in PERIOD_OUTCOMES] + list(PERIOD_OUTCOMES)
        order += [f"pre_{m}" for m in SESSION_OUTCOMES] + list(SESSION_OUTCOMES)
        frame = frame.assign(**{name: periods[name] for name in order})
    if billing is not None:
        frame = frame.assign(**_billing_outcomes(billing, members, window_ns))
    if outcomes is not None:
        frame = _merge_outcomes(frame, outcomes)
    return frame


def analyze_logged_experiment(
    events: pd.DataFrame | None,
    assignments: pd.DataFrame,
    *,
    control: object,
    experiment: object = None,
    window: str | pd.Timedelta | float = "14D",
    billing: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
    metrics: Sequence[str] | None = None,
    ratios: Mapping[str, tuple[str, str]] | None = None,
    pooled: Mapping[str, Sequence] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    expected_weights: Mapping[object, float] | None = None,
    end: object = None,
) -> ArmsAnalysis:
    """`compute_logged_outcomes`, then `analyze_arms` with CUPED on the pre-period covariates.

    Each period outcome ``m`` of ``PERIOD_OUTCOMES`` is adjusted by its own pre-period value
    ``pre_m``: ``y_adj = y - theta (pre_m - mean(pre_m))``, ``theta = cov(y, pre_m) / var(pre_m)``
    (`persona_lib.experiments.stats.cuped`). Other outcomes (``churned``, the ``outcomes``
    table's columns, ``ratios``) are tested without covariate.

    Parameters
    ----------
    events, assignments, experiment, window, billing, outcomes, end :
        as in `compute_logged_outcomes`.
    control : the control variant.
    metrics : outcome columns to test; by default ``PERIOD_OUTCOMES`` when ``events`` are
        given, ``churned`` when ``billing`` is, and every column of ``outcomes``.
    ratios, pooled, alpha, correction, expected_weights : as in `analyze_arms`.

    Returns
    -------
    ArmsAnalysis : the SRM check on the members per variant and one row per variant x metric.
    Error messages about rows quote ``user_id`` values.

    Examples
    --------
    >>> result = analyze_logged_experiment(events, assignments, control="control",
    ...                                    window="14D")  # doctest: +SKIP
    >>> result.table[["arm", "outcome", "diff", "ci_low", "ci_high"]]  # doctest: +SKIP
    """
    frame = compute_logged_outcomes(
        events, assignments, experiment=experiment, window=window, billing=billing,
        outcomes=outcomes, end=end,
    )  # fmt: skip
    if metrics is None:
        extra = [] if outcomes is None else [c for c in outcomes.columns if c != "user_id"]
        metrics = [*(PERIOD_OUTCOMES if events is not None else ()),
                   *(["churned"] if billing is not None else []), *extra]  # fmt: skip
        if not metrics:
            raise ValueError("nothing to compare: give events, billing or an outcomes table")
    covariates = {m: f"pre_{m}" for m in metrics if m in PERIOD_OUTCOMES}
    return analyze_arms(
        frame.set_index("user_id"), "variant", list(metrics), control=control, pooled=pooled,
        covariates=covariates, ratios=ratios, alpha=alpha, correction=correction,
        expected_weights=expected_weights,
    )  # fmt: skip

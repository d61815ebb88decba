"""Member snapshot features for churn models, and the churn labels that go with them.

A snapshot at ``cutoff`` describes every member active at that instant using only log rows
strictly before it (events by ``ts``, billing by ``period_start``, notifications by ``ts``), so
rewriting or deleting any row at or after ``cutoff`` cannot change a feature. A member is
*active* at ``cutoff`` when they signed up before it and their last billing row before it (if
any) is ``new``, ``renewed`` or ``reactivated``. Labels look forward from the same instant:
`churn_labels` takes each member's next renewal at or after ``cutoff``.

Renewals fall on the member's anniversary: the day of month of the signup (or of the last
reactivation), on the month's last day when the month is shorter, at midnight.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from persona_lib.data.schema import DEVICES, GENRES, PLANS
from persona_lib.signals.browsing import member_browsing_speed
from persona_lib.signals.engagement import (
    COMPLETION_THRESHOLD,
    play_outcomes,
    ratio,
    session_summary,
)
from persona_lib.signals.subscriptions import RENEWAL_STATUSES

DAY = pd.Timedelta(days=1)
FEATURE_TABLES = ("events", "billing", "users", "titles", "notifications")
ACTIVE_STATUSES = ("new", "renewed", "reactivated")
LOST_STATUSES = ("churned", "payment_failed")
DEVICE_FEATURES = [f"device_share_{d}" for d in DEVICES]
FEATURES = [
    "recency_days", "sessions_7d", "sessions_28d", "sessions_per_week", "hours_7d",
    "hours_28d", "hours_trend_7_28", "hours_period", "completions_period",
    "period_trend", "completion_rate", "genre_entropy", *DEVICE_FEATURES, "mean_dwell_ms",
    "play_rate", "search_play_share", "plan", "price", "tenure_days", "payment_failures",
    "prior_churns", "notifications_28d", "notifications_opened_28d", "days_to_renewal",
]  # fmt: skip
CATEGORICAL_FEATURES = ["plan"]


def _positions(ids: np.ndarray, values) -> np.ndarray:
    """Row of each value in ``ids`` (-1 when absent)."""
    return pd.Index(ids).get_indexer(np.asarray(values))


def _sum_by(pos: np.ndarray, n: int, weights=None, mask=None) -> np.ndarray:
    """Per-member sums (counts without ``weights``) of rows at positions ``pos``."""
    keep = pos >= 0 if mask is None else (pos >= 0) & np.asarray(mask, bool)
    w = None if weights is None else np.asarray(weights, "float64")[keep]
    return np.bincount(pos[keep], weights=w, minlength=n).astype("float64")


def _days(delta) -> np.ndarray:
    return np.asarray(pd.to_timedelta(delta) / DAY, dtype="float64")


def renewal_dates(anniversary: np.ndarray, cutoff) -> tuple[np.ndarray, np.ndarray]:
    """Last renewal date before ``cutoff`` and next one at or after it, per anniversary day.

    A month's renewal is at midnight of day ``min(anniversary, days in month)``.
    """
    cutoff = np.datetime64(pd.Timestamp(cutoff).to_datetime64(), "ms")
    month = cutoff.astype("datetime64[M]") + np.arange(-1, 2)[:, None]  # 3 candidate months
    first = month.astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[D]") - first).astype("int64")
    day = np.minimum(np.asarray(anniversary, "int64")[None, :], length) - 1
    cand = (first + day.astype("timedelta64[D]")).astype("datetime64[ms]").astype("int64")
    before = cand < cutoff.astype("int64")
    prev = np.where(before, cand, np.iinfo("int64").min).max(axis=0)  # month m-1 is before
    nxt = np.where(before, np.iinfo("int64").max, cand).min(axis=0)  # month m+1 is not
    return prev.astype("datetime64[ms]"), nxt.astype("datetime64[ms]")


def _members(users: pd.DataFrame, bill: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Members active at ``cutoff`` with plan, price, tenure, anniversary and billing counts."""
    users = users[users["signup_ts"] < cutoff]
    last = bill.drop_duplicates("user_id", keep="last").set_index("user_id")
    last_status = last["status"].astype("str").reindex(users["user_id"])
    active = last_status.isna().to_numpy() | last_status.isin(ACTIVE_STATUSES).to_numpy()
    users = users[active]
    uid = users["user_id"].to_numpy()
    status = bill["status"].astype("str")
    pos = _positions(uid, bill["user_id"])
    react = bill[status.eq("reactivated").to_numpy()].drop_duplicates("user_id", keep="last")
    anchor = users["signup_ts"].to_numpy().copy()
    rpos = _positions(uid, react["user_id"])
    anchor[rpos[rpos >= 0]] = react["period_start"].to_numpy()[rpos >= 0]
    plan = last["plan"].astype("str").reindex(uid)
    price = last["price"].astype("float64").reindex(uid)
    out = pd.DataFrame(
        {
            "user_id": uid,
            "signup_ts": users["signup_ts"].to_numpy(),
            "plan": pd.Categorical(
                plan.fillna(users["plan"].astype("str").set_axis(plan.index)), categories=PLANS
            ),
            "price": price.fillna(users["price"].astype("float64").set_axis(price.index)),
            "tenure_days": _days(cutoff - users["signup_ts"]),
            "payment_failures": _sum_by(pos, len(uid), mask=status.eq("payment_failed")),
            "prior_churns": _sum_by(pos, len(uid), mask=status.eq("churned")),
            "anniversary": pd.DatetimeIndex(anchor).day.to_numpy(),
        }
    )
    prev, nxt = renewal_dates(out["anniversary"].to_numpy(), cutoff)
    out["period_start"] = np.maximum(prev, anchor.astype("datetime64[ms]"))
    out["days_to_renewal"] = _days(pd.DatetimeIndex(nxt) - cutoff)
    return out.reset_index(drop=True)


def _exposure(members: pd.DataFrame, start, cutoff, days: float) -> np.ndarray:
    """Days of the last ``days`` (or since ``start``) during which the member was signed up."""
    begin = np.maximum(members["signup_ts"].to_numpy(), np.datetime64(start))
    return np.clip(_days(cutoff - pd.DatetimeIndex(begin)), 0, days)


def _activity(members: pd.DataFrame, ev: pd.DataFrame, cutoff, start) -> dict:
    """Recency, session counts, hours in windows, the period and device mix."""
    uid, n = members["user_id"].to_numpy(), len(members)
    sess = session_summary(ev) if len(ev) else pd.DataFrame(columns=["user_id", "device", "start"])
    spos = _positions(uid, sess["user_id"])
    age = _days(cutoff - pd.DatetimeIndex(sess["start"]))
    last = pd.Series(age).groupby(spos).min().reindex(np.arange(n))
    stops = ev[ev["event_type"].eq("play_stop").to_numpy()]
    ppos, page = _positions(uid, stops["user_id"]), _days(cutoff - stops["ts"])
    hours = stops["watch_s"].fillna(0).to_numpy("float64") / 3600.0
    in_period = stops["ts"].to_numpy() >= members["period_start"].to_numpy()[np.maximum(ppos, 0)]
    out = {
        "recency_days": last.to_numpy(),
        "sessions_7d": _sum_by(spos, n, mask=age <= 7),
        "sessions_28d": _sum_by(spos, n, mask=age <= 28),
        "sessions_per_week": 7 * ratio(_sum_by(spos, n), _exposure(members, start, cutoff, 1e9)),
        "hours_7d": _sum_by(ppos, n, hours, page <= 7),
        "hours_28d": _sum_by(ppos, n, hours, page <= 28),
        "hours_period": _sum_by(ppos, n, hours, in_period),
    }
    rate7 = ratio(out["hours_7d"], _exposure(members, start, cutoff, 7))
    rate28 = ratio(out["hours_28d"], _exposure(members, start, cutoff, 28))
    out["hours_trend_7_28"] = np.where(rate28 > 0, ratio(rate7, rate28), 1.0)
    period_days = _days(cutoff - pd.DatetimeIndex(members["period_start"]))
    rate_all = ratio(_sum_by(ppos, n, hours), _exposure(members, start, cutoff, 1e9))
    rate_period = ratio(
        out["hours_period"], np.minimum(period_days, _exposure(members, start, cutoff, 1e9))
    )
    out["period_trend"] = np.where(rate_all > 0, ratio(rate_period, rate_all), 1.0)
    dev = sess["device"].astype(pd.CategoricalDtype(DEVICES)).cat.codes.to_numpy()
    total = _sum_by(spos, n)
    for i, name in enumerate(DEVICE_FEATURES):
        out[name] = ratio(_sum_by(spos, n, mask=dev == i), total)
    return out


def title_genre_weights(titles: pd.DataFrame) -> np.ndarray:
    """(n_titles, n_genres) genre weights of each title (``GENRES`` order), rows summing to 1."""
    g = titles["genres"].astype("str").str.get_dummies(sep="|").reindex(columns=list(GENRES))
    g = g.fillna(0).to_numpy("float64")
    return g / np.maximum(g.sum(axis=1, keepdims=True), 1)


def _viewing(
    members: pd.DataFrame, ev: pd.DataFrame, titles: pd.DataFrame, threshold: float
) -> dict:
    """Completion rate, completions in the period, genre entropy and search share of plays."""
    uid, n = members["user_id"].to_numpy(), len(members)
    plays = play_outcomes(ev, titles, threshold)
    pos = _positions(uid, plays["user_id"])
    done = plays["completed"].to_numpy()
    known = plays["watch_s"].notna().to_numpy()
    start = members["period_start"].to_numpy()[np.maximum(pos, 0)]
    weights = title_genre_weights(titles)[_positions(titles["title_id"], plays["title_id"])]
    keep = pos >= 0
    mix = np.zeros((n, weights.shape[1]))
    np.add.at(mix, pos[keep], weights[keep])
    share = mix / np.maximum(mix.sum(axis=1, keepdims=True), 1e-12)
    logs = np.log(np.where(share > 0, share, 1.0))
    entropy = np.where(mix.sum(axis=1) > 0, np.maximum(-(share * logs).sum(axis=1), 0), np.nan)
    return {
        "completions_period": _sum_by(pos, n, mask=done & (plays["ts"].to_numpy() >= start)),
        "completion_rate": ratio(_sum_by(pos, n, mask=done), _sum_by(pos, n, mask=known)),
        "genre_entropy": entropy,
        "search_play_share": ratio(
            _sum_by(pos, n, mask=plays["from_search"].to_numpy()), _sum_by(pos, n)
        ),
    }


def member_features(
    events: pd.DataFrame,
    billing: pd.DataFrame,
    users: pd.DataFrame,
    titles: pd.DataFrame,
    notifications: pd.DataFrame,
    cutoff,
    threshold: float = COMPLETION_THRESHOLD,
) -> pd.DataFrame:
    """One row per member active at ``cutoff``, from log rows strictly before it.

    Features (``FEATURES``): ``recency_days`` (since the last session start; NaN without
    one), ``sessions_7d``/``sessions_28d``, ``sessions_per_week`` (over the member's observed
    time, from max(signup, first logged event)), ``hours_7d``/``hours_28d`` (``watch_s`` of
    ``play_stop`` rows), ``hours_trend_7_28`` = (hours_7d / exposed days) / (hours_28d / exposed
    days), 1 when there was no viewing in 28 days; ``hours_period`` and
    ``completions_period`` since the current billing period began, ``period_trend`` = daily
    hours this period / daily hours overall (1 without any viewing); ``completion_rate``
    (completed / plays with a stop; completed: ``watch_s >= threshold x runtime``),
    ``genre_entropy`` (natural-log entropy of the plays' genre mix),
    ``device_share_<device>`` (of sessions), ``mean_dwell_ms`` and ``play_rate``
    (`member_browsing_speed`), ``search_play_share``, ``plan``, ``price``, ``tenure_days``,
    ``payment_failures``, ``prior_churns``, ``notifications_28d``,
    ``notifications_opened_28d`` and ``days_to_renewal``. Why: these are the habits a
    renewal decision follows (viewing against the member's own norm, satisfaction, price).

    Parameters
    ----------
    events, billing, users, titles, notifications : DataFrame
        Canonical tables (``FEATURE_TABLES``; e.g. ``{k: world.tables[k] for k in ...}``).
    cutoff : timestamp-like
        Snapshot instant.

    Returns
    -------
    DataFrame
        ``user_id``, ``cutoff`` and ``FEATURES``, sorted by ``user_id``.

    Examples
    --------
    >>> tables = {t: world.tables[t] for t in FEATURE_TABLES}  # doctest: +SKIP
    >>> X = member_features(**tables, cutoff="2025-01-20")  # doctest: +SKIP
    """
    cutoff = pd.Timestamp(cutoff)
    ev = events[(events["ts"] < cutoff).to_numpy()]
    bill = billing[(billing["period_start"] < cutoff).to_numpy()]
    bill = bill.sort_values(["period_start", "user_id"], kind="stable")
    notes = notifications[(notifications["ts"] < cutoff).to_numpy()]
    members = _members(users.sort_values("user_id"), bill, cutoff)
    start = ev["ts"].min() if len(ev) else cutoff
    cols = {**_activity(members, ev, cutoff, start), **_viewing(members, ev, titles, threshold)}
    speed = member_browsing_speed(ev).set_index("user_id") if len(ev) else pd.DataFrame()
    for name in ("mean_dwell_ms", "play_rate"):
        values = speed[name] if name in speed else pd.Series(dtype="float64")
        cols[name] = values.reindex(members["user_id"]).to_numpy("float64")
    npos = _positions(members["user_id"], notes["user_id"])
    recent = _days(cutoff - notes["ts"]) <= 28
    cols["notifications_28d"] = _sum_by(npos, len(members), mask=recent)
    cols["notifications_opened_28d"] = _sum_by(
        npos, len(members), mask=recent & notes["opened"].to_numpy(bool)
    )
    out = members.assign(**cols, cutoff=cutoff)
    return out[["user_id", "cutoff", *FEATURES]]


def snapshot_features(
    events: pd.DataFrame,
    billing: pd.DataFrame,
    users: pd.DataFrame,
    titles: pd.DataFrame,
    notifications: pd.DataFrame,
    cutoffs: Sequence,
) -> pd.DataFrame:
    """`member_features` at each of ``cutoffs``, stacked (``cutoff`` tells the snapshots apart)."""
    frames = [member_features(events, billing, users, titles, notifications, c) for c in cutoffs]
    return pd.concat(frames, ignore_index=True)


def churn_labels(billing: pd.DataFrame, cutoff, horizon_days: float = 31) -> pd.DataFrame:
    """Outcome of each member's next renewal at or after ``cutoff``, within the horizon.

    A member is labelled when their first billing row at or after ``cutoff`` is a renewal
    (renewed, churned or payment_failed) before ``cutoff + horizon_days``: that implies they
    were active at ``cutoff`` (no signup or reactivation in between). ``churn = 1`` when it is
    churned or payment_failed; ``cause`` is the status. Members active at ``cutoff`` whose
    next renewal falls after the horizon, or after the end of the logs, are dropped, not
    labelled 0: with monthly billing and the default 31 days, only the end of the logs drops
    anyone, and anniversaries do not depend on behaviour, so the drop does not bias the label.

    Returns
    -------
    DataFrame
        ``user_id``, ``cutoff``, ``renewal_ts``, ``churn`` (int8), ``cause`` (category),
        sorted by ``user_id``.
    """
    cutoff = pd.Timestamp(cutoff)
    after = billing[(billing["period_start"] >= cutoff).to_numpy()]
    after = after.sort_values(["period_start", "user_id"], kind="stable")
    first = after.drop_duplicates("user_id", keep="first")
    status = first["status"].astype("str")
    keep = status.isin(RENEWAL_STATUSES) & (first["period_start"] < cutoff + horizon_days * DAY)
    first, status = first[keep.to_numpy()], status[keep.to_numpy()]
    out = pd.DataFrame(
        {
            "user_id": first["user_id"].to_numpy(),
            "cutoff": cutoff,
            "renewal_ts": first["period_start"].to_numpy(),
            "churn": status.isin(LOST_STATUSES).to_numpy().astype("int8"),
            "cause": pd.Categorical(status.to_numpy(), categories=list(RENEWAL_STATUSES)),
        }
    )
    return out.sort_values("user_id", ignore_index=True)

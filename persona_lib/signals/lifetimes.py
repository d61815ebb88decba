"""Subscription spells from the billing log: one row per membership, ready for survival analysis.

A spell starts at a ``new`` or ``reactivated`` billing row and ends at ``churned`` (event, cause
"voluntary") or ``payment_failed`` (event, cause "payment"); a spell with no end row is
censored at ``end`` (still a member when the log stops). Each member's billing rows are read in
``period_start`` order.

Left truncation: members who joined before the log starts have no ``new`` row, so their first
spell begins at their first billing row (usually a renewal) and is flagged ``left_truncated``.
Without ``users`` its clock starts at that row (a residual lifetime from the first observed
renewal). With ``users`` it starts at ``users.signup_ts`` and ``entry_days`` > 0 is the time
until the member came under observation: pass it as ``entry`` to
`persona_lib.models.retention.survival.kaplan_meier` so only members still subscribed are at risk
(plain Kaplan-Meier on such spells would overstate survival: only the survivors are in the log).
A member who lapsed and returned before the log starts is then counted from the first signup.

Irregular logs are read leniently: a row that follows an end row starts a new spell even if it
is not ``reactivated``; a spell interrupted by another start row is censored at that row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.constants import DAYS_PER_MONTH
from persona_lib.data.schema import BILLING_STATUSES

BILLING_COLUMNS = ("user_id", "period_start", "plan", "price", "status")
START_STATUSES = ("new", "reactivated")
END_CAUSES = {"churned": "voluntary", "payment_failed": "payment"}
CAUSES = tuple(END_CAUSES.values())
SPELL_COLUMNS = (
    "user_id", "spell", "start", "stop", "duration_days", "duration_months", "event", "cause",
    "plan", "price", "left_truncated", "entry_days", "entry_months",
)  # fmt: skip
DAY = np.timedelta64(1, "D")


def _check_billing(billing: pd.DataFrame) -> pd.Series:
    """The status column as strings, after checking columns and statuses."""
    for col in BILLING_COLUMNS:
        if col not in billing.columns:
            raise ValueError(f"billing: missing column {col!r} (needs {list(BILLING_COLUMNS)})")
    status = billing["status"].astype(object)
    unknown = ~status.isin(BILLING_STATUSES)
    if unknown.any():
        rows = billing.index[unknown.to_numpy()]
        values = sorted({str(v) for v in status[unknown]})
        raise ValueError(
            f"billing: column 'status': unknown value(s) {values[:5]} in rows "
            f"{list(rows[:5])} ({rows.size} rows); allowed: {list(BILLING_STATUSES)}"
        )
    return status.astype(str)


def _signups(users: pd.DataFrame, user_ids: np.ndarray) -> np.ndarray:
    """``users.signup_ts`` for each of ``user_ids`` (datetime64[ms])."""
    for col in ("user_id", "signup_ts"):
        if col not in users.columns:
            raise ValueError(f"users: missing column {col!r}")
    signup = pd.Series(
        users["signup_ts"].to_numpy().astype("datetime64[ms]"), index=users["user_id"].to_numpy()
    )
    absent = ~np.isin(user_ids, signup.index.to_numpy())
    if absent.any():
        raise ValueError(f"users: no row for billing user_id(s) {np.unique(user_ids[absent])[:5]}")
    return signup.loc[user_ids].to_numpy()


def subscription_spells(
    billing: pd.DataFrame, end=None, users: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per subscription spell, with its duration and how it ended.

    duration_days = (stop - start) in days; duration_months = duration_days / 30.4375
    (365.25 / 12). ``event`` = 1 if the spell ended in the log, with ``cause`` "voluntary"
    (churned) or "payment" (payment_failed); 0 if censored at ``end``, cause NaN.

    Parameters
    ----------
    billing : billing table (user_id, period_start, plan, price, status).
    end : timestamp at which observation stops; rows after it are ignored. Default: the last
        ``period_start`` of the log.
    users : optional users table (user_id, signup_ts): left-truncated spells then start at
        signup and the output gains ``tenure_days_at_start`` (start - signup_ts in days).

    Returns
    -------
    DataFrame with ``SPELL_COLUMNS``: user_id, spell (0, 1, ... per member), start, stop,
    duration_days, duration_months, event (int8), cause, plan and price at the spell's first
    row, left_truncated, entry_days / entry_months (first observed row - start; 0 unless
    left-truncated with ``users``), then tenure_days_at_start when ``users`` is given.
    Sorted by user_id and spell.

    Examples
    --------
    >>> spells = subscription_spells(world.tables["billing"], users=world.tables["users"])
    ...  # doctest: +SKIP
    """
    status = _check_billing(billing)
    order = np.lexsort((billing["period_start"].to_numpy(), billing["user_id"].to_numpy()))
    b = billing.iloc[order].reset_index(drop=True)
    st = status.to_numpy()[order]
    ts = b["period_start"].to_numpy().astype("datetime64[ms]")
    if end is not None:
        stop_at = np.datetime64(pd.Timestamp(end), "ms")
    elif ts.size:
        stop_at = ts.max()
    else:
        raise ValueError("billing: empty log and no end given")
    keep = ts <= stop_at
    b, st, ts = b[keep].reset_index(drop=True), st[keep], ts[keep]
    if ts.size == 0:
        raise ValueError(f"billing: no rows on or before end={pd.Timestamp(stop_at)}")
    uid = b["user_id"].to_numpy()
    first = np.r_[True, uid[1:] != uid[:-1]]
    ends = np.isin(st, list(END_CAUSES))
    is_start = first | np.isin(st, START_STATUSES) | np.r_[False, ends[:-1]]
    head = np.flatnonzero(is_start)
    tail = np.r_[head[1:] - 1, uid.size - 1]
    key = np.arange(head.size)
    user_first_key = np.maximum.accumulate(np.where(first[head], key, 0))
    event = ends[tail]
    has_next = np.r_[uid[head[1:]] == uid[head[:-1]], False]
    next_start = np.r_[ts[head[1:]], np.datetime64("NaT", "ms")]
    stop = np.where(event, ts[tail], np.where(has_next, next_start, stop_at))
    observed = ts[head]
    truncated = first[head] & ~np.isin(st[head], START_STATUSES)
    start, signup = observed, None
    if users is not None:
        signup = _signups(users, uid[head])
        start = np.where(truncated, np.minimum(signup, observed), observed)
    last = st[tail]
    cause = np.select([last == "churned", last == "payment_failed"], [0, 1], -1)  # -1: NaN
    days = (stop - start) / DAY
    entry = (observed - start) / DAY
    out = pd.DataFrame(
        {
            "user_id": uid[head],
            "spell": (key - user_first_key).astype(np.int32),
            "start": start,
            "stop": stop,
            "duration_days": days,
            "duration_months": days / DAYS_PER_MONTH,
            "event": event.astype(np.int8),
            "cause": pd.Categorical.from_codes(cause, categories=list(CAUSES)),
            "plan": b["plan"].iloc[head].to_numpy(),
            "price": b["price"].iloc[head].to_numpy(),
            "left_truncated": truncated,
            "entry_days": entry,
            "entry_months": entry / DAYS_PER_MONTH,
        }
    )
    if isinstance(b["plan"].dtype, pd.CategoricalDtype):
        out["plan"] = pd.Categorical(out["plan"], dtype=b["plan"].dtype)
    if signup is not None:
        out["tenure_days_at_start"] = (start - signup) / DAY
    return out


def retention_after(spells: pd.DataFrame, cutoff) -> pd.DataFrame:
    """Remaining lifetime of members subscribed at ``cutoff``: days from it to their spell's end.

    A member is counted when a spell started at or before ``cutoff`` and stopped after it;
    ``duration_days = stop - cutoff``, ``event`` and ``cause`` as in the spell. Why: a
    snapshot's members followed forward from the same instant need no left-truncation
    correction, so their retention curves and hazard models can use snapshot features as
    covariates.

    Returns
    -------
    DataFrame: user_id, spell, duration_days, duration_weeks, event, cause; sorted by user_id.
    """
    missing = [
        c for c in ("user_id", "spell", "start", "stop", "event", "cause") if c not in spells
    ]
    if missing:
        raise ValueError(f"spells: missing column(s) {missing}; expected subscription_spells()")
    cut = np.datetime64(pd.Timestamp(cutoff), "ms")
    start = spells["start"].to_numpy().astype("datetime64[ms]")
    stop = spells["stop"].to_numpy().astype("datetime64[ms]")
    live = spells[(start <= cut) & (stop > cut)]
    days = (stop[(start <= cut) & (stop > cut)] - cut) / DAY
    out = pd.DataFrame(
        {
            "user_id": live["user_id"].to_numpy(),
            "spell": live["spell"].to_numpy(),
            "duration_days": days,
            "duration_weeks": days / 7.0,
            "event": live["event"].to_numpy(),
            "cause": live["cause"].to_numpy(),
        }
    )
    return out.sort_values("user_id", ignore_index=True)

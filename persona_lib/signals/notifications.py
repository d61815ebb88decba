"""The randomized push-notification experiment, rebuilt from the logs as one row per member-day.

Each day every *eligible* member (active subscriber, signed up at least ``inactive_days`` ago,
last session at least ``inactive_days`` days ago) is sent a push with a fixed probability at a
uniformly random hour. `notification_experiment` recovers the eligible member-days from the
event, billing, users and notification logs alone (never the simulator's truth), marks which ones
were treated, attaches the outcome (a session that day) and pre-treatment member features
computed only from days strictly before the row's day.

Eligibility, as the simulator's ``Subscriptions.notify`` evaluates it on day ``d``:

- active: the member's latest billing row dated on or before ``d`` is new, renewed or
  reactivated; members with no billing row yet are active when they signed up before the window
  (their earlier billing is not in the log) and pending otherwise;
- tenure: ``signup_day <= d - inactive_days`` (``signup_day`` from ``users.signup_ts``);
- recency: ``d - last_session_day >= inactive_days``, i.e. no session on the
  ``inactive_days - 1`` days before ``d`` (a session exactly ``inactive_days`` days ago still
  qualifies).

Where the reconstruction can differ from the simulator's state:

- history before the window is not logged; the simulator seeds every member's last session
  1 to 5 days before the start. From day ``inactive_days - 1`` on, any pre-window session is old
  enough not to matter, so earlier days are dropped (``burn-in``) and the rule is exact after;
- a session is dated by its first logged event; a search-first session starting in the last
  seconds of a day can log its first event after midnight (rare, seconds-wide);
- the log's billing rows are assumed complete within the window.
The unit test measures the residual mismatch against the simulator's own random coins.

The outcome follows the simulator: an opened push multiplies the *whole day's* session rate and
session start hours do not depend on the send time, so ``session`` counts any session that day,
including ones that started before the push (``session_after_send`` is also given; in real logs
it is the outcome to use, here it is a diluted version of the true effect).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

ACTIVE_STATUSES = ("new", "renewed", "reactivated")
MS_PER_DAY = 86_400_000
MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class ExperimentDesign:
    """Calendar and eligibility rule of the push experiment.

    ``start_date`` is midnight (UTC) of day 0, ``n_days`` the window length, ``inactive_days``
    the recency threshold of eligibility and ``history_days`` the look-back of the count features.
    """

    start_date: str
    n_days: int
    inactive_days: int = 3
    history_days: int = 28

    def __post_init__(self) -> None:
        for name in ("n_days", "inactive_days", "history_days"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ExperimentDesign.{name} must be > 0, got {getattr(self, name)}")
        np.datetime64(self.start_date, "D")  # raises on a malformed date

    @classmethod
    def from_config(cls, config: Any, history_days: int = 28) -> ExperimentDesign:
        """The design of a simulated world, from any config with ``start_date``, ``n_days`` and
        ``inactive_days`` (duck-typed: signals never import the simulator)."""
        return cls(config.start_date, config.n_days, config.inactive_days, history_days)

    @property
    def start_ms(self) -> int:
        return int(np.datetime64(self.start_date, "D").astype("datetime64[ms]").astype(np.int64))

    @property
    def first_day(self) -> int:
        """First day whose eligibility the logs determine exactly (see the module docstring)."""
        return max(self.inactive_days - 1, 0)

    def to_dict(self) -> dict:
        return asdict(self)


def _ms(values) -> np.ndarray:
    return np.asarray(values).astype("datetime64[ms]").astype(np.int64)


def _ffill_columns(values: np.ndarray, present: np.ndarray, fill) -> np.ndarray:
    """Carry each row's last present value forward along axis 1; ``fill`` before the first."""
    idx = np.where(present, np.arange(values.shape[1]), -1)
    idx = np.maximum.accumulate(idx, axis=1)
    rows = np.arange(values.shape[0])[:, None]
    carried = values[rows, np.maximum(idx, 0)]
    return np.where(idx >= 0, carried, np.broadcast_to(np.asarray(fill)[..., None], idx.shape))


def _billing_grids(billing, users, design) -> tuple[np.ndarray, np.ndarray]:
    """Per (member, day): active flag and plan code from the latest billing row up to that day."""
    n_users, n_days = len(users), design.n_days
    plans = users["plan"].cat.categories
    signup = _ms(users["signup_ts"])
    b = billing.sort_values("period_start", kind="stable")
    day = np.maximum((_ms(b["period_start"]) - design.start_ms) // MS_PER_DAY, 0)
    keep = day < n_days
    user = b["user_id"].to_numpy()[keep]
    day = day[keep]
    active = b["status"].astype(str).isin(ACTIVE_STATUSES).to_numpy()[keep]
    plan = pd.Categorical(b["plan"].astype(str), categories=plans).codes[keep]
    key = user.astype(np.int64) * n_days + day
    order = np.argsort(key, kind="stable")  # rows stay in time order within each key
    sel = order[np.r_[key[order][1:] != key[order][:-1], True]] if key.size else order
    present = np.zeros((n_users, n_days), bool)
    act = np.zeros((n_users, n_days), bool)
    pln = np.zeros((n_users, n_days), np.int16)
    present[user[sel], day[sel]] = True
    act[user[sel], day[sel]] = active[sel]
    pln[user[sel], day[sel]] = plan[sel]
    before_window = signup < design.start_ms
    active_grid = _ffill_columns(act, present, before_window)
    plan_grid = _ffill_columns(pln, present, users["plan"].cat.codes.to_numpy())
    return active_grid.astype(bool), plan_grid


def _sessions(events: pd.DataFrame, design: ExperimentDesign) -> pd.DataFrame:
    """One row per session: user_id, start (ms, first event), day index and start hour (UTC)."""
    s = events.groupby("session_id", sort=False).agg(user_id=("user_id", "first"), ts=("ts", "min"))
    start = _ms(s["ts"])
    day = (start - design.start_ms) // MS_PER_DAY
    keep = (day >= 0) & (day < design.n_days)
    return pd.DataFrame(
        {
            "user_id": s["user_id"].to_numpy()[keep].astype(np.int64),
            "start_ms": start[keep],
            "day": day[keep],
            "hour": (start[keep] % MS_PER_DAY) / MS_PER_HOUR,
        }
    )


def _session_grids(sessions: pd.DataFrame, n_users: int, n_days: int) -> dict[str, np.ndarray]:
    """Per (member, day): session count and sums of sin/cos of the start hour (circular)."""
    flat = sessions["user_id"].to_numpy() * n_days + sessions["day"].to_numpy()
    angle = 2 * np.pi * sessions["hour"].to_numpy() / 24
    size = n_users * n_days

    def grid(weights=None):
        return np.bincount(flat, weights=weights, minlength=size).reshape(n_users, n_days)

    return {
        "count": grid().astype(np.int64),
        "sin": grid(np.sin(angle)),
        "cos": grid(np.cos(angle)),
    }


def _before(grid: np.ndarray, window: int | None = None) -> np.ndarray:
    """Sum of ``grid`` over the ``window`` days strictly before each day (all days if None)."""
    cum = np.concatenate([np.zeros((grid.shape[0], 1)), np.cumsum(grid, axis=1)], axis=1)
    total = cum[:, :-1]
    if window is None:
        return total
    lagged = np.concatenate([np.zeros((grid.shape[0], window)), cum], axis=1)
    return total - lagged[:, : grid.shape[1]]


def _last_session_before(count: np.ndarray) -> np.ndarray:
    """Day of the last session strictly before each day (-inf when none is logged)."""
    days = np.where(count > 0, np.arange(count.shape[1]).astype(float), -np.inf)
    last = np.maximum.accumulate(days, axis=1)
    return np.concatenate([np.full((count.shape[0], 1), -np.inf), last[:, :-1]], axis=1)


def _pushes(notifications: pd.DataFrame, design: ExperimentDesign) -> pd.DataFrame:
    """Logged pushes with their day index (at most one per member-day in the simulator)."""
    ts = _ms(notifications["ts"])
    return pd.DataFrame(
        {
            "user_id": notifications["user_id"].to_numpy().astype(np.int64),
            "day": (ts - design.start_ms) // MS_PER_DAY,
            "ts_ms": ts,
            "hour": notifications["hour"].to_numpy().astype(float),
            "opened": notifications["opened"].to_numpy().astype(bool),
        }
    )


def _push_grids(pushes: pd.DataFrame, n_users: int, n_days: int) -> dict[str, np.ndarray]:
    """Per (member, day): a push was logged, and it was opened."""
    keep = (pushes["day"] >= 0) & (pushes["day"] < n_days)
    u, d = pushes["user_id"].to_numpy()[keep], pushes["day"].to_numpy()[keep]
    push = np.zeros((n_users, n_days), bool)
    opened = np.zeros((n_users, n_days), bool)
    push[u, d] = True
    opened[u, d] = pushes["opened"].to_numpy()[keep]
    return {"push": push, "open": opened}


def _eligible(active, signup_day, last, design) -> np.ndarray:
    """The simulator's eligibility rule on the reconstructed grids (burn-in days excluded)."""
    day = np.arange(design.n_days)
    ok = active & (signup_day[:, None] <= day - design.inactive_days)
    ok &= day - last >= design.inactive_days
    ok[:, : design.first_day] = False
    return ok


def _features(grids, last, plan_grid, users, design, rows) -> dict[str, np.ndarray]:
    """Pre-treatment features of the rows ``(user, day)``: only days before ``day`` are used."""
    u, d = rows
    count = grids["count"]
    observed = np.minimum(d, design.history_days).astype(float)
    n_hist = _before(count, design.history_days)[u, d]
    active_hist = _before((count > 0).astype(float), design.history_days)[u, d]
    s, c, n_all = (_before(grids[k])[u, d] for k in ("sin", "cos", "count"))
    with np.errstate(invalid="ignore", divide="ignore"):
        typical = np.where(n_all > 0, (np.arctan2(s, c) * 24 / (2 * np.pi)) % 24, np.nan)
        concentration = np.where(n_all > 0, np.hypot(s, c) / n_all, np.nan)
    since = d - last[u, d]
    visited = count > 0
    responses = {
        "pushes_hist": grids["push"],
        "opens_hist": grids["open"],
        "push_session_days_hist": grids["push"] & visited,
        "open_session_days_hist": grids["open"] & visited,
    }
    signup = _ms(users["signup_ts"])
    midnight = design.start_ms + d * MS_PER_DAY
    weekday = (np.datetime64(design.start_date, "D").astype(np.int64) + 3 + d) % 7  # Monday = 0
    return {
        "weekday": weekday.astype(np.int8),
        "days_since_session": np.where(np.isfinite(since), since, np.nan),
        "sessions_hist": n_hist,
        "active_days_hist": active_hist,
        "session_rate_hist": np.divide(n_hist, observed, out=np.full(u.size, np.nan),
                                       where=observed > 0),
        "history_days_observed": observed,
        "typical_hour": typical,
        "hour_concentration": concentration,
        **{name: _before(g.astype(float))[u, d] for name, g in responses.items()},
        "tenure_days": (midnight - signup[u]) / MS_PER_DAY,
        "plan": pd.Categorical.from_codes(plan_grid[u, d], users["plan"].cat.categories),
        **{name: _take_category(users[name], u) for name in ("language", "country",
                                                               "preferred_device")},
    }  # fmt: skip


def _take_category(column: pd.Series, rows: np.ndarray) -> pd.Categorical:
    values = pd.Categorical(column)
    return pd.Categorical.from_codes(values.codes[rows], values.categories)


def _session_after(sessions: pd.DataFrame, pushes: pd.DataFrame, n_days: int) -> pd.Series:
    """Per push key ``user * n_days + day``: whether a session started after the push."""
    key = sessions["user_id"].to_numpy() * n_days + sessions["day"].to_numpy()
    push_key = pushes["user_id"].to_numpy() * n_days + pushes["day"].to_numpy()
    push_ts = pd.Series(pushes["ts_ms"].to_numpy(), index=push_key)
    push_ts = push_ts[~push_ts.index.duplicated()]
    later = sessions["start_ms"].to_numpy() > push_ts.reindex(key).to_numpy(np.float64)
    return pd.Series(later, index=key).groupby(level=0).any()


def notification_experiment(
    events: pd.DataFrame,
    notifications: pd.DataFrame,
    billing: pd.DataFrame,
    users: pd.DataFrame,
    design: Any,
) -> pd.DataFrame:
    """One row per eligible member-day of the push experiment, rebuilt from the logs only.

    Parameters
    ----------
    events : event log (session_id, user_id, ts, ...); a session is dated by its first event.
    notifications : sent pushes (user_id, ts, hour, opened).
    billing : billing log (user_id, period_start, plan, status).
    users : members (user_id 0..n-1 in order, signup_ts, plan, language, country,
        preferred_device).
    design : an `ExperimentDesign`, or the world's `SimulationConfig` (read through
        `ExperimentDesign.from_config`).

    Returns
    -------
    DataFrame sorted by (day, user_id): ``user_id``, ``day``, ``date``, ``treated`` (push sent),
    ``hour`` (send hour, NaN for control), ``opened``, outcomes ``session`` (any session that
    day), ``n_sessions``, ``session_after_send`` (treated only, else NaN) and pre-treatment
    features from days before ``day`` (NaN where no history is logged): ``weekday`` (Monday 0),
    ``days_since_session``, ``sessions_hist`` and ``active_days_hist`` (last ``history_days``
    days), ``session_rate_hist`` (sessions per observed day), ``history_days_observed``,
    ``typical_hour`` (circular mean session start hour, UTC) and ``hour_concentration`` (its
    mean resultant length, 0..1), ``pushes_hist``, ``opens_hist``, ``push_session_days_hist``
    and ``open_session_days_hist`` (earlier pushes, opens, and those days with a session: the
    member's past response), ``tenure_days``, ``plan`` (latest billing row), ``language``,
    ``country``, ``preferred_device``. ``attrs`` holds ``n_pushes_in_window`` and
    ``n_pushes_unmatched`` (logged pushes on days >= ``first_day`` that fall on no
    reconstructed eligible row).

    Examples
    --------
    >>> w = simulate(load_preset("smoke"))  # doctest: +SKIP
    >>> exp = notification_experiment(  # doctest: +SKIP
    ...     w.events, w.notifications, w.billing, w.users, w.config)
    >>> exp.groupby("treated")["session"].mean()  # doctest: +SKIP
    """
    if not isinstance(design, ExperimentDesign):
        design = ExperimentDesign.from_config(design)
    n_users, n_days = len(users), design.n_days
    if not np.array_equal(users["user_id"].to_numpy(), np.arange(n_users)):
        raise ValueError("users must hold user_id 0..n-1 in order (one row per member)")
    sessions = _sessions(events, design)
    grids = _session_grids(sessions, n_users, n_days)
    pushes = _pushes(notifications, design)
    grids.update(_push_grids(pushes, n_users, n_days))
    last = _last_session_before(grids["count"])
    active, plan_grid = _billing_grids(billing, users, design)
    signup_day = (_ms(users["signup_ts"]) - design.start_ms) // MS_PER_DAY
    elig = _eligible(active, signup_day, last, design)
    d, u = np.nonzero(elig.T)  # day-major order
    out = _assign_pushes(u, d, pushes, sessions, design)
    out["session"] = grids["count"][u, d] > 0
    out["n_sessions"] = grids["count"][u, d].astype(np.int16)
    for name, values in _features(grids, last, plan_grid, users, design, (u, d)).items():
        out[name] = values
    return out


def _assign_pushes(u, d, pushes, sessions, design) -> pd.DataFrame:
    """Treatment columns of the eligible rows, and the push-matching diagnostics in ``attrs``."""
    n_days = design.n_days
    key = u.astype(np.int64) * n_days + d
    in_window = pushes[(pushes["day"] >= design.first_day) & (pushes["day"] < n_days)]
    push_key = in_window["user_id"].to_numpy() * n_days + in_window["day"].to_numpy()
    indexed = in_window.set_index(push_key)
    indexed = indexed[~indexed.index.duplicated()]
    matched = indexed.reindex(key)
    treated = matched["ts_ms"].notna().to_numpy()
    after = _session_after(sessions, in_window, n_days).reindex(key)
    date = np.datetime64(design.start_date, "D") + d.astype("timedelta64[D]")
    out = pd.DataFrame(
        {
            "user_id": u.astype(np.int32),
            "day": d.astype(np.int32),
            "date": date.astype("datetime64[s]"),
            "treated": treated,
            "hour": matched["hour"].to_numpy(np.float64),
            "opened": matched["opened"].fillna(False).to_numpy().astype(bool),
            "session_after_send": np.where(treated, after.fillna(False).to_numpy(float), np.nan),
        }
    )
    out.attrs["n_pushes_in_window"] = int(len(in_window))
    out.attrs["n_pushes_unmatched"] = int((~np.isin(push_key, key)).sum())
    return out

"""Subscriptions and notifications of the simulated service, one day at a time.

Monthly billing on each member's anniversary day. At renewal a payment can fail (involuntary
churn) or the member can cancel (voluntary churn) with a hazard that rises when the member watched
less than usual in the period and falls with completed good matches, so better recommendations
truly reduce churn; new members and higher prices churn more. Targets: monthly churn of about
2-4 % (third-party estimates for Netflix: 2.4 % in 2021, 3.3 % in 2022, Antenna), roughly a third
of it payment failures. Lapsed members have no sessions and may come back ("reactivated").

Notifications: each day a random share of members inactive for a few days get a push at a
uniformly random hour (a randomized design, so uplift models can be learned from the logs). The
open probability falls with the distance to the member's true best send hour; an opened push
multiplies that day's session rate by ``1 + uplift`` (heterogeneous, sometimes negative).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from persona_lib.data import schema
from persona_lib.data.constants import PRICES
from persona_lib.data.keyed_random import Stream, categorical, uniform
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.population import PLAN_WEIGHTS, Population

PENDING, ACTIVE, LAPSED = 0, 1, 2
# the member's "norm" of hours per expected homepage session: 0.57 of the hours a session yields
# on the default preset (1.25), the ratio the satisfaction term was calibrated at
HOURS_PER_SESSION = 0.715
# likewise of good plays (completed, true fit above 0.5): about 0.3 per expected visit on the
# default preset; the hazard reads a member's count against it, so a world of lighter viewers
# (the smoke preset) churns like the default one
GOOD_PER_SESSION = 0.3
# members who visit more than the median member churn less (both terms above are relative to the
# member's own norm, so this is where engagement itself lowers the hazard)
ENGAGEMENT_WEIGHT = 0.5
PRICE_TABLE = np.array(list(PRICES.values()), dtype=np.float32)
MS_PER_DAY = 86_400_000


def _calendar(date: np.datetime64) -> tuple[int, int]:
    """Day of month (1-based) and the number of days in the month of ``date``."""
    month = date.astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    days = int(((month + 1).astype("datetime64[D]") - first).astype(int))
    return int((date - first).astype(int)) + 1, days


@dataclass
class Subscriptions:
    """Per-member subscription state and the billing, notification and truth rows so far."""

    config: SimulationConfig
    pop: Population
    status: np.ndarray
    anniversary: np.ndarray
    plan: np.ndarray
    period_day: np.ndarray
    hours: np.ndarray
    good: np.ndarray
    last_session: np.ndarray
    rows: dict[str, list] = field(
        default_factory=lambda: {"billing": [], "churn_hazard": [], "notifications": []}
    )

    @classmethod
    def start(cls, config: SimulationConfig, pop: Population) -> Subscriptions:
        signup = pop.signup_day
        signup_date = config.start + signup.astype("timedelta64[D]")
        day_of_month = signup_date - signup_date.astype("datetime64[M]").astype("datetime64[D]")
        anniversary = day_of_month.astype(int) + 1
        u = uniform(config.random_state, Stream.BILLING, np.arange(config.n_users), -1)
        dom, _ = _calendar(config.start)
        # the current period of members who joined before the window started this month or last
        back = (dom - anniversary) % 30
        return cls(
            config,
            pop,
            np.where(signup < 0, ACTIVE, PENDING).astype(np.int8),
            anniversary,
            pop.users["plan"].cat.codes.to_numpy().astype(np.int8),
            np.where(signup < 0, -back, signup),
            np.zeros(config.n_users),
            np.zeros(config.n_users),
            -1 - np.floor(u * 5).astype(int),
        )

    @property
    def active(self) -> np.ndarray:
        return self.status == ACTIVE

    def _row(self, users: np.ndarray, ts: np.ndarray, status: str) -> None:
        self.rows["billing"].append(
            {
                "user_id": users,
                "period_start": ts,
                "plan": self.plan[users].copy(),
                "price": PRICE_TABLE[self.plan[users]],
                "status": np.full(users.size, schema.BILLING_STATUSES.index(status), np.int8),
            }
        )

    def bill(self, day: int) -> None:
        """Signups, reactivations and renewals (with churn) due on ``day``."""
        cfg, pop = self.config, self.pop
        midnight = (cfg.start + np.timedelta64(day, "D")).astype("datetime64[ms]").astype(np.int64)
        new = np.flatnonzero((pop.signup_day == day) & (self.status == PENDING))
        self.status[new], self.period_day[new] = ACTIVE, day
        signup_ms = pop.users["signup_ts"].to_numpy().astype("datetime64[ms]").astype(np.int64)
        self._row(new, signup_ms[new], "new")
        users = np.arange(cfg.n_users)
        u = uniform(cfg.random_state, Stream.BILLING, users, day, np.arange(4)[:, None])
        back = np.flatnonzero((self.status == LAPSED) & (u[0] < cfg.reactivation_rate))
        date = cfg.start + np.timedelta64(day, "D")
        dom, days_in_month = _calendar(date)
        self.plan[back] = np.where(self.plan[back] == 1, 2, self.plan[back])  # basic is closed
        self.status[back], self.period_day[back], self.anniversary[back] = ACTIVE, day, dom
        self.hours[back], self.good[back] = 0, 0
        self._row(back, np.full(back.size, midnight), "reactivated")
        month_end = (self.anniversary > days_in_month) & (dom == days_in_month)
        due = (self.anniversary == dom) | month_end
        due = np.flatnonzero(due & self.active & (self.period_day < day))
        self._renew(due, day, midnight, u[1:, due])

    def hazard(self, users: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
        """True voluntary churn hazard and payment-failure probability at a renewal."""
        cfg, pop = self.config, self.pop
        observed = day - np.maximum(self.period_day[users], 0)
        sessions = pop.engagement[users] * observed  # the member's expected visits so far
        satisfaction = np.log((self.hours[users] + 0.5) / (sessions * HOURS_PER_SESSION + 0.5))
        found = np.log((self.good[users] + 0.5) / (sessions * GOOD_PER_SESSION + 0.5))
        tenure_months = (day - pop.signup_day[users]) / 30.4
        logit = (
            cfg.churn_intercept
            + pop.churn_propensity[users]
            - cfg.satisfaction_weight * np.clip(satisfaction, -3, 1.5)
            - 0.3 * np.clip(found + 1, 0, 2)
            - ENGAGEMENT_WEIGHT * np.log(pop.engagement[users] / cfg.sessions_per_day)
            + 0.9 * np.exp(-tenure_months / 3)
            + 0.05 * (PRICE_TABLE[self.plan[users]] - 15)
        )
        failure = np.minimum(cfg.payment_failure_rate * pop.payment_risk[users], 0.5)
        return expit(logit), failure

    def _renew(self, due: np.ndarray, day: int, midnight: int, u: np.ndarray) -> None:
        cfg = self.config
        voluntary, failure = self.hazard(due, day)
        ts = np.full(due.size, midnight)
        self.rows["churn_hazard"].append(
            {
                "user_id": due,
                "period_start": ts,
                "hazard": voluntary,
                "payment_failure_prob": failure,
            }
        )
        failed = u[0] < failure
        churned = ~failed & (u[1] < voluntary)
        kept = ~failed & ~churned
        change = kept & (u[2] < cfg.plan_change_rate)
        new_plan = categorical(u[2] / cfg.plan_change_rate, PLAN_WEIGHTS * [1, 0, 1, 1])
        self.plan[due[change]] = new_plan[change]
        self.status[due[failed | churned]] = LAPSED
        self.period_day[due], self.hours[due], self.good[due] = day, 0, 0
        for mask, status in ((failed, "payment_failed"), (churned, "churned"), (kept, "renewed")):
            self._row(due[mask], ts[mask], status)

    def notify(self, day: int) -> np.ndarray:
        """Send the day's randomized pushes; return each member's session-rate multiplier."""
        cfg, pop = self.config, self.pop
        users = np.arange(cfg.n_users)
        eligible = (
            self.active
            & (pop.signup_day <= day - cfg.inactive_days)
            & (day - self.last_session >= cfg.inactive_days)
        )
        u = uniform(cfg.random_state, Stream.NOTIFICATIONS, users, day, np.arange(4)[:, None])
        sent = np.flatnonzero(eligible & (u[0] < cfg.notification_share))
        hour = np.floor(u[1, sent] * 24).astype(np.int8)
        gap = np.abs(hour - pop.best_send_hour[sent])
        gap = np.minimum(gap, 24 - gap)
        p_open = 0.02 + 0.22 * np.exp(-(gap**2) / (2 * 2.5**2))
        opened = u[2, sent] < p_open
        midnight = (cfg.start + np.timedelta64(day, "D")).astype("datetime64[ms]").astype(np.int64)
        ts = midnight + ((hour + u[3, sent]) * 3_600_000).astype(np.int64)
        self.rows["notifications"].append(
            {"user_id": sent, "ts": ts, "hour": hour, "opened": opened, "p_open": p_open}
        )
        boost = np.ones(cfg.n_users)
        boost[sent[opened]] += pop.notification_uplift[sent[opened]]
        return boost

    def record(self, session_users: np.ndarray, outcome: dict, day: int) -> None:
        """Add a day's viewing to each member's current period."""
        self.last_session[session_users] = day
        np.add.at(self.hours, outcome["user"], outcome["watch_s"] / 3600.0)
        np.add.at(self.good, outcome["user"], outcome["good"])

    def tables(self) -> dict[str, pd.DataFrame]:
        """billing, notifications and the truth frames churn_hazard and notification_truth."""
        out = {}
        for name, parts in self.rows.items():
            cols = {
                k: np.concatenate([p[k] for p in parts]) if parts else np.zeros(0)
                for k in (parts[0] if parts else {})
            }
            out[name] = pd.DataFrame(cols)
        return _finish(out)


def _ms(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype("datetime64[ms]")


def _finish(raw: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    b = raw["billing"]
    billing = pd.DataFrame(
        {
            "user_id": b["user_id"].to_numpy().astype(np.int32),
            "period_start": _ms(b["period_start"]),
            "plan": pd.Categorical.from_codes(b["plan"].to_numpy(), categories=list(schema.PLANS)),
            "price": b["price"].to_numpy().astype(np.float32),
            "status": pd.Categorical.from_codes(
                b["status"].to_numpy(), categories=list(schema.BILLING_STATUSES)
            ),
        }
    ).sort_values(["period_start", "user_id"], kind="stable", ignore_index=True)
    n = raw["notifications"]
    notes = pd.DataFrame(
        {
            "user_id": n["user_id"].to_numpy().astype(np.int32),
            "ts": _ms(n["ts"]),
            "hour": n["hour"].to_numpy().astype(np.int8),
            "opened": n["opened"].to_numpy().astype(bool),
        }
    )
    order = np.lexsort((notes["user_id"].to_numpy(), notes["ts"].to_numpy()))
    truth_notes = notes.iloc[order].reset_index(drop=True)
    truth_notes["p_open"] = n["p_open"].to_numpy()[order].astype(np.float32)
    h = raw["churn_hazard"]
    hazard = pd.DataFrame(
        {
            "user_id": h["user_id"].to_numpy().astype(np.int32),
            "period_start": _ms(h["period_start"]),
            "hazard": h["hazard"].to_numpy().astype(np.float32),
            "payment_failure_prob": h["payment_failure_prob"].to_numpy().astype(np.float32),
        }
    )
    return {
        "billing": billing,
        "notifications": notes.iloc[order].reset_index(drop=True),
        "churn_hazard": hazard,
        "notification_truth": truth_notes,
    }

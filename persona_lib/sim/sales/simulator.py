"""The "sales" extension: upgrades, win-back, games cross-sell and the ads tier, with ground truth.

`simulate_sales` runs a separate forward simulation on top of a finished `World`, starting at the
*campaign date* (the day after the log's last day). It never changes the world: it reads the logs
(billing, events, titles) and the latent truth of the population, and draws every random number
from its own keyed streams (`keyed_random.Stream.SALES_*`), so the same world and `SalesConfig`
always give the same sales world, independent of the order of computation.

Each lever has a log from a randomized historical campaign, which models may learn from, and truth
oracles that give the exact probability of the outcome for any decision, which only evaluation
may read:

=================  =====================================  =========================================
lever              logs                                   oracles (`SalesTruth`)
=================  =====================================  =========================================
upgrades           households, upgrade_offers             p_upgrade, upgrade_price_delta
win-back           winback_messages, featurable_titles    p_reactivate
games cross-sell   games, game_exposures, game_plays      p_adopt
ads tier           ad_impressions, ad_load_experiment     ctr, monthly_churn, expected_hours, ...
=================  =====================================  =========================================

Formulas and sources are in the lever modules (`sales_households`, `sales_winback`,
`sales_games`, `sales_ads`) and in `sales_config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from persona_lib.data import schema
from persona_lib.data.keyed_random import uniform
from persona_lib.sim.sales.ads import AdsTruth, simulate_ads
from persona_lib.sim.sales.config import SalesConfig
from persona_lib.sim.sales.games import GamesTruth, simulate_games
from persona_lib.sim.sales.households import UpgradeTruth, simulate_households
from persona_lib.sim.sales.winback import WinbackTruth, simulate_winback
from persona_lib.sim.world import World

SALES_TABLES = (
    "households", "upgrade_offers", "winback_messages", "featurable_titles", "games",
    "game_exposures", "game_plays", "ad_impressions", "ad_load_experiment",
)  # fmt: skip
ACTIVE_STATUSES = ("new", "renewed", "reactivated")


@dataclass(frozen=True)
class SalesContext:
    """What the lever simulations read: the world, the config and each member's state at the end.

    Arrays are indexed by user_id. ``plan_end`` and ``active_end`` come from the member's last
    billing row (members without one: their users-table plan, active if they signed up before
    the window); ``churn_day`` is the day index of that row when it is a churn (else -1);
    ``hours_logged`` sums the play_stop watch time in the window; ``engagement_rel`` is the true
    engagement relative to the config's median.
    """

    world: World
    config: SalesConfig
    n_users: int
    n_days: int
    plan_end: np.ndarray
    active_end: np.ndarray
    lapsed: np.ndarray
    churn_day: np.ndarray
    hours_logged: np.ndarray
    engagement_rel: np.ndarray
    latent: SimpleNamespace

    def draw(self, stream: int, *keys) -> np.ndarray:
        """Keyed uniforms of the sales world: ``(world seed, stream, sales seed, *keys)``."""
        return uniform(self.world.config.random_state, stream, self.config.random_state, *keys)


def _last_billing(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row index of each member's last billing row (-1 if none), its status and plan codes."""
    b = world.billing
    n = world.config.n_users
    order = np.lexsort((b["period_start"].to_numpy(), b["user_id"].to_numpy()))
    users = b["user_id"].to_numpy()[order]
    last = np.full(n, -1, dtype=np.int64)
    is_last = np.append(users[1:] != users[:-1], True) if users.size else np.zeros(0, bool)
    last[users[is_last]] = order[is_last]
    return last, b["status"].cat.codes.to_numpy(), b["plan"].cat.codes.to_numpy()


def make_context(world: World, config: SalesConfig) -> SalesContext:
    """Each member's state at the campaign date, read from the world's logs and latent truth."""
    wc = world.config
    n = wc.n_users
    last, status, plan = _last_billing(world)
    has = last >= 0
    plan_end = world.users["plan"].cat.codes.to_numpy().astype(np.int64)
    plan_end[has] = plan[last[has]]
    before = world.users["signup_ts"].to_numpy() < np.datetime64(wc.start_date, "ms")
    active_codes = [schema.BILLING_STATUSES.index(s) for s in ACTIVE_STATUSES]
    active_end = np.where(has, np.isin(status[np.maximum(last, 0)], active_codes), before)
    lapsed = has & (status[np.maximum(last, 0)] == schema.BILLING_STATUSES.index("churned"))
    day = (world.billing["period_start"].to_numpy() - np.datetime64(wc.start_date, "ms")) // (
        np.timedelta64(1, "D")
    )
    churn_day = np.where(lapsed, day[np.maximum(last, 0)], -1)
    e = world.events
    stop = (e["event_type"] == "play_stop").to_numpy()
    watch = np.nan_to_num(e["watch_s"].to_numpy()[stop].astype(np.float64))
    hours = np.bincount(e["user_id"].to_numpy()[stop], weights=watch, minlength=n)[:n] / 3600
    engagement = world.truth.tables["users"]["engagement"].to_numpy()
    return SalesContext(
        world, config, n, wc.n_days, plan_end, active_end, lapsed, churn_day.astype(np.int64),
        hours, engagement / wc.sessions_per_day, world.truth.latent,
    )  # fmt: skip


@dataclass(frozen=True)
class SalesTruth:
    """Ground truth of the sales world: latent tables and exact oracles (evaluation only).

    Oracles take equal-length (or broadcast) arrays and return probabilities or expectations:
    `p_upgrade`, `upgrade_price_delta`, `p_reactivate`, `p_adopt`, `ctr`, `monthly_churn`,
    `p_churn_within`, `expected_hours`, `expected_total_hours`.
    """

    upgrades: UpgradeTruth
    winback: WinbackTruth
    games: GamesTruth
    ads: AdsTruth
    tables: dict[str, pd.DataFrame] = field(repr=False)

    def p_upgrade(self, user_ids, offered) -> np.ndarray:
        """P(upgrade within the horizon | offer given or not); 0 for premium members."""
        return self.upgrades.p_upgrade(user_ids, offered)

    def upgrade_price_delta(self, user_ids) -> np.ndarray:
        """Expected monthly list-price increase (USD) of an upgrade by each member."""
        return self.upgrades.price_delta(user_ids)

    def p_reactivate(self, user_ids, featured_title_ids, arm) -> np.ndarray:
        """P(a lapsed member reactivates within the horizon | arm, featured title)."""
        return self.winback.p_reactivate(user_ids, featured_title_ids, arm)

    def p_adopt(self, user_ids, game_ids) -> np.ndarray:
        """P(a member adopts a game recommended to them)."""
        return self.games.p_adopt(user_ids, game_ids)

    def ctr(self, user_ids, categories) -> np.ndarray:
        """Response rate of a member to one ad of a category."""
        return self.ads.ctr(user_ids, categories)

    def monthly_churn(self, user_ids, ad_minutes_per_hour, month: int = 0) -> np.ndarray:
        """Voluntary churn hazard at the renewal ending month ``month`` under an ad load."""
        return self.ads.monthly_churn(user_ids, ad_minutes_per_hour, month)

    def p_churn_within(self, user_ids, ad_minutes_per_hour, months: int) -> np.ndarray:
        """P(churn at one of the first ``months`` renewals) under an ad load."""
        return self.ads.p_churn_within(user_ids, ad_minutes_per_hour, months)

    def expected_hours(self, user_ids, ad_minutes_per_hour) -> np.ndarray:
        """Expected hours watched per active month under an ad load."""
        return self.ads.expected_hours(user_ids, ad_minutes_per_hour)

    def expected_total_hours(self, user_ids, ad_minutes_per_hour, months: int) -> np.ndarray:
        """Expected hours over ``months`` months, counting only active months."""
        return self.ads.expected_total_hours(user_ids, ad_minutes_per_hour, months)


@dataclass(frozen=True)
class SalesWorld:
    """Logs of the sales campaigns (``tables``), their `SalesTruth`, config and campaign date."""

    config: SalesConfig
    campaign_date: np.datetime64
    tables: dict[str, pd.DataFrame]
    truth: SalesTruth


def simulate_sales(world: World, config: SalesConfig | None = None) -> SalesWorld:
    """Simulate the sales levers forward from the end of ``world``'s log.

    Parameters
    ----------
    world : a finished world from `persona_lib.sim.simulate.simulate` (not modified).
    config : the levers' knobs; default `SalesConfig()`.

    Returns
    -------
    SalesWorld with ``tables`` (the logs in `SALES_TABLES`), ``truth`` (a `SalesTruth`),
    ``config`` and ``campaign_date`` (``datetime64[D]``, the day after the log's last day).

    Examples
    --------
    >>> sales = simulate_sales(simulate(load_preset("smoke")))  # doctest: +SKIP
    >>> offers = sales.tables["upgrade_offers"]  # doctest: +SKIP
    >>> sales.truth.p_upgrade(offers["user_id"], offers["offered"]).mean()  # doctest: +SKIP
    """
    config = SalesConfig() if config is None else config
    ctx = make_context(world, config)
    logs: dict[str, pd.DataFrame] = {}
    house_logs, upgrades = simulate_households(ctx)
    win_logs, winback = simulate_winback(ctx)
    game_logs, games = simulate_games(ctx)
    ad_logs, ads = simulate_ads(ctx)
    for part in (house_logs, win_logs, game_logs, ad_logs):
        logs.update(part)
    tables = {
        "upgrades": upgrades.frame(),
        "winback": winback.frame(),
        "games": games.frame(),
        "gamers": pd.DataFrame(
            {"user_id": np.arange(ctx.n_users, dtype=np.int32), "gamer": games.gamer}
        ),
        **ads.frames(),
    }
    truth = SalesTruth(upgrades, winback, games, ads, tables)
    campaign_date = world.config.start + np.timedelta64(world.config.n_days, "D")
    return SalesWorld(config, campaign_date, {n: logs[n] for n in SALES_TABLES}, truth)

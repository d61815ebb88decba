"""Households and the plan-upgrade lever of the sales world.

Each member has a household: ``n_profiles`` (1-5; families and kids' tastes have more), devices
and refused streams. A stream is refused when more profiles want to watch at once than the plan's
screens allow (ads 2, basic 1, standard 2, premium 4: `sales_config.SCREENS`), so

    blocks_30d ~ Poisson(block_rate * engagement_rel * excess),
    excess = max(profiles - screens, 0) + 0.25 * [profiles >= screens and profiles > 1].

Upgrade truth, on the logit of upgrading within the horizon (30 days) to a plan with more screens:

    base_u   = a + w_p (profiles - 1) + w_b log(1 + blocks) + 0.2 log(engagement_rel) + plan_u
    uplift_u = b + v_p (profiles - 1) + v_b log(1 + blocks) + v_e log(engagement_rel) + sd z_u
    p(upgrade | offered) = sigmoid(base_u + offered * uplift_u)

``z_u`` is a personal term that no log shows. A multi-profile household that hits its screen limit
gains most from the offer (a first month at a discount); a single-profile member gains about
nothing or a little less than nothing (the offer reminds some of the price).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from persona_lib.data import schema
from persona_lib.data.constants import PRICES
from persona_lib.data.keyed_random import Stream, normal, poisson
from persona_lib.sim.sales.config import MAX_PROFILES, SCREENS

PREMIUM = schema.PLANS.index("premium")
STANDARD = schema.PLANS.index("standard")
PLAN_SHIFT = np.array([-0.3, 0.2, 0.0, 0.0])  # ads members are price-sensitive, basic is closed
SCREEN_TABLE = np.array([SCREENS[p] for p in schema.PLANS])
PRICE_TABLE = np.array([PRICES[p] for p in schema.PLANS])


@dataclass(frozen=True)
class UpgradeTruth:
    """Latent household arrays (index = user_id) and the upgrade oracles."""

    from_plan: np.ndarray  # plan code at the campaign date
    eligible: np.ndarray  # active at the campaign date and not on premium
    base_logit: np.ndarray
    uplift_logit: np.ndarray
    p_premium: np.ndarray  # probability an upgrade goes to premium (else standard)

    def p_upgrade(self, user_ids, offered) -> np.ndarray:
        """True probability of upgrading within the horizon, offered (True) or not (False).

        Members already on premium get 0.
        """
        users = np.asarray(user_ids, dtype=np.int64)
        offer = np.broadcast_to(np.asarray(offered, dtype=bool), users.shape)
        p = expit(self.base_logit[users] + offer * self.uplift_logit[users])
        return np.where(self.from_plan[users] == PREMIUM, 0.0, p)

    def price_delta(self, user_ids) -> np.ndarray:
        """Expected monthly list-price increase (USD) given that the member upgrades."""
        users = np.asarray(user_ids, dtype=np.int64)
        frm = self.from_plan[users]
        to_standard = np.where(frm == STANDARD, 0.0, 1.0 - self.p_premium[users])
        delta = to_standard * PRICE_TABLE[STANDARD] + (1 - to_standard) * PRICE_TABLE[PREMIUM]
        return np.where(frm == PREMIUM, 0.0, delta - PRICE_TABLE[frm])

    def frame(self) -> pd.DataFrame:
        """Latent upgrade table: user_id, base and uplift logits, premium share of upgrades."""
        return pd.DataFrame(
            {
                "user_id": np.arange(self.base_logit.size, dtype=np.int32),
                "upgrade_base_logit": self.base_logit.astype(np.float32),
                "upgrade_uplift_logit": self.uplift_logit.astype(np.float32),
                "p_premium_given_upgrade": self.p_premium.astype(np.float32),
            }
        )


def _households(ctx) -> dict[str, np.ndarray]:
    cfg, n = ctx.config, ctx.n_users
    u = ctx.draw(Stream.SALES_HOUSEHOLDS, np.arange(n)[:, None], np.arange(4))
    taste = ctx.latent.genre_taste
    family = np.maximum(taste[:, schema.GENRES.index("Family")],
                        taste[:, schema.GENRES.index("Animation")])  # fmt: skip
    lam = cfg.profile_rate * np.exp(cfg.profile_family_weight * np.clip(family, -1.0, 3.0))
    profiles = 1 + np.minimum(poisson(lam, u[:, 0]), MAX_PROFILES - 1)
    devices = np.clip(profiles + poisson(np.full(n, 0.7), u[:, 1]) - (u[:, 2] < 0.3), 1, 12)
    screens = SCREEN_TABLE[ctx.plan_end]
    excess = np.maximum(profiles - screens, 0) + 0.25 * ((profiles >= screens) & (profiles > 1))
    lam_blocks = cfg.block_rate * ctx.engagement_rel * excess * ctx.active_end
    blocks = poisson(lam_blocks, u[:, 3])
    return {"profiles": profiles, "devices": devices, "blocks": blocks}


def _upgrade_truth(ctx, house: dict[str, np.ndarray]) -> UpgradeTruth:
    cfg, n = ctx.config, ctx.n_users
    z = normal(ctx.draw(Stream.SALES_UPGRADES, np.arange(n), 0))
    extra = house["profiles"] - 1
    log_blocks = np.log1p(house["blocks"])
    log_eng = np.log(ctx.engagement_rel)
    base = (
        cfg.upgrade_intercept
        + cfg.upgrade_profile_weight * extra
        + cfg.upgrade_block_weight * log_blocks
        + 0.2 * log_eng
        + PLAN_SHIFT[ctx.plan_end]
    )
    uplift = (
        cfg.uplift_intercept
        + cfg.uplift_profile_weight * extra
        + cfg.uplift_block_weight * log_blocks
        + cfg.uplift_engagement_weight * log_eng
        + cfg.uplift_sd * z
    )
    p_premium = expit(-1.5 + 0.7 * (house["profiles"] - 2))
    eligible = ctx.active_end & (ctx.plan_end != PREMIUM)
    return UpgradeTruth(ctx.plan_end.copy(), eligible, base, uplift, p_premium)


def simulate_households(ctx) -> tuple[dict[str, pd.DataFrame], UpgradeTruth]:
    """The ``households`` and ``upgrade_offers`` logs and the upgrade truth.

    ``households``: user_id, n_profiles, n_devices, concurrent_blocks_30d (refused streams in the
    30 days before the campaign date; 0 for lapsed members), plan (at the campaign date).
    ``upgrade_offers``: one row per eligible member (active and not on premium): user_id,
    offered (randomized with probability ``offer_share``), upgraded (within the horizon),
    from_plan, to_plan (null unless upgraded).
    """
    house = _households(ctx)
    truth = _upgrade_truth(ctx, house)
    plans = list(schema.PLANS)
    households = pd.DataFrame(
        {
            "user_id": np.arange(ctx.n_users, dtype=np.int32),
            "n_profiles": house["profiles"].astype(np.int8),
            "n_devices": house["devices"].astype(np.int8),
            "concurrent_blocks_30d": house["blocks"].astype(np.int16),
            "plan": pd.Categorical.from_codes(ctx.plan_end, categories=plans),
        }
    )
    users = np.flatnonzero(truth.eligible)
    u = ctx.draw(Stream.SALES_UPGRADES, users[:, None], 1, np.arange(3))
    offered = u[:, 0] < ctx.config.offer_share
    upgraded = u[:, 1] < truth.p_upgrade(users, offered)
    frm = ctx.plan_end[users]
    to = np.where((frm == STANDARD) | (u[:, 2] < truth.p_premium[users]), PREMIUM, STANDARD)
    offers = pd.DataFrame(
        {
            "user_id": users.astype(np.int32),
            "offered": offered,
            "upgraded": upgraded,
            "from_plan": pd.Categorical.from_codes(frm, categories=plans),
            "to_plan": pd.Categorical.from_codes(np.where(upgraded, to, -1), categories=plans),
        }
    )
    return {"households": households, "upgrade_offers": offers}, truth

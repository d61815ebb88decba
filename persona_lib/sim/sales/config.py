"""Knobs of the "sales" extension of the simulated world (`simulate_sales`), with their sources.

The sales world runs forward from the end of a finished world's log (the *campaign date*) and
simulates four levers a subscription business sells through: plan upgrades, win-back of lapsed
members, cross-sell of a games catalogue and the ads tier. Every default below is either a public
figure recalled from memory (marked "recalled public figure, not checked here") or an explicit
ASSUMPTION of this simulator; none is tuned to flatter a model.

Public figures behind the defaults (recalled public figures, not checked here):

- Netflix US help centre, "Plans and pricing" (2024-2025): concurrent screens per plan are
  Standard with ads 2, Standard 2, Premium 4; the legacy Basic plan allowed 1. An account holds
  up to 5 profiles.
- US Census Bureau, America's Families and Living Arrangements (2020-2023): about 2.5 people per
  US household; Netflix said in early 2022 that over 100 million households used a shared
  password (shareholder letter, Q1 2022).
- Antenna (2023-2024 reports on US SVOD "resubscription"): roughly a fifth to a quarter of
  cancelled premium SVOD subscriptions are resubscribed within three months and about a third
  within a year, which is a monthly win-back rate of the order of 5-8 % shortly after cancelling
  and lower later.
- Apptopia via CNBC (Aug 2022): Netflix games averaged about 1.7 million daily users, under 1 %
  of its roughly 220 million members; later Netflix statements put mobile-game engagement in the
  low single-digit percent of members.
- Connected-TV ad benchmarks (e.g. Innovid and Extreme Reach CTV benchmark reports, 2022-2024):
  "click" or response rates of CTV ads (remote clicks, QR scans) are a few tenths of a percent.
- Netflix's ad load at launch of "Basic with Ads" (Nov 2022): about 4 minutes per hour in 15 and
  30 second spots (also `persona_lib.revenue.plans.AD_MINUTES_PER_HOUR`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# Concurrent streams per plan (schema.PLANS order: ads, basic, standard, premium); Netflix US
# help centre (recalled public figure, not checked here).
SCREENS: dict[str, int] = {"ads": 2, "basic": 1, "standard": 2, "premium": 4}
MAX_PROFILES = 5  # profiles per account (Netflix help centre, recalled)
WINBACK_ARMS: tuple[str, ...] = ("none", "generic", "featured")
REFERENCE_AD_MINUTES = 4.0  # the launch ad load the members' habits were formed under


@dataclass(frozen=True)
class SalesConfig:
    """Size and behavioural knobs of the sales levers (see the module docstring for sources).

    Logits are of monthly (30-day) probabilities. ``random_state`` is mixed into every key
    besides the world's own seed, so one world can host several independent sales worlds.

    Examples
    --------
    >>> SalesConfig().replace(n_games=20).n_games
    20
    """

    random_state: int = 0
    horizon_days: int = 30  # outcome window of the upgrade offer and the win-back messages
    # households: profiles = 1 + Poisson(lam), lam = profile_rate * exp(w * family taste), capped
    # at 5; mean about 2 (US households average 2.5 people, not all of them on the account)
    profile_rate: float = 0.75
    profile_family_weight: float = 0.3
    block_rate: float = 2.0  # refused streams per month per profile over the screen limit
    # upgrades: organic rate about 0.5-1 % a month (ASSUMPTION: Netflix does not publish it;
    # consistent with the base world's plan_change_rate of 1 %/month, most of it upgrades)
    upgrade_intercept: float = -5.6
    upgrade_profile_weight: float = 0.3  # per profile beyond the first
    upgrade_block_weight: float = 0.45  # per log(1 + refused streams in 30 days)
    # offer (first month at a discount) uplift on the logit: ASSUMPTION, heterogeneous
    uplift_intercept: float = -0.2
    uplift_profile_weight: float = 0.35
    uplift_block_weight: float = 0.45
    uplift_engagement_weight: float = 0.25  # per log engagement relative to the median
    uplift_sd: float = 0.4  # personal term, invisible in the logs
    offer_share: float = 0.5
    # win-back: base about 5-7 % in 30 days for a recent canceller (Antenna, recalled)
    winback_intercept: float = -2.55
    winback_lapse_weight: float = 0.5  # logit lost per log(1 + months since churn)
    winback_engagement_weight: float = 0.35
    generic_message_effect: float = 0.25  # ASSUMPTION
    featured_message_effect: float = 0.15  # at a title of typical fit (ASSUMPTION)
    featured_fit_weight: float = 0.6  # logit per unit of true fit above ``fit_center``
    fit_center: float = -0.3  # about the mean true fit of a newest title to a lapsed member
    message_sd: float = 0.3  # personal responsiveness to messages, invisible in the logs
    n_featurable: int = 60  # newest titles (by release year) that a message may feature
    # games: about 10 % of members ever played one of ~40 games (Apptopia, recalled)
    n_games: int = 40
    game_intercept: float = -4.5
    game_taste_weight: float = 0.7
    game_quality_sd: float = 0.5
    gamer_sd: float = 0.8  # personal appetite for games, invisible in the logs
    game_exposure_rate: float = 0.06  # share of (member, game) pairs shown organically
    game_sessions_mean: float = 6.0  # sessions after adopting, besides the first
    # ads: CTR of a few tenths of a percent (CTV benchmarks, recalled)
    ctr_intercept: float = -6.4
    ctr_category_sd: float = 0.3
    ctr_taste_weight: float = 0.45
    clicker_sd: float = 0.5  # personal propensity to respond to ads, invisible in the logs
    ad_minutes_per_hour: float = 4.0  # Netflix launch ad load (recalled)
    ad_seconds: float = 30.0
    # ad-load experiment: arms in ad minutes per hour, followed for ``ad_months`` months
    ad_load_arms: tuple[float, ...] = (2.0, 4.0, 6.0)
    ad_months: int = 6
    churn_rr_per_ad_minute: float = 1.06  # ASSUMPTION: relative risk per extra ad minute/hour
    hours_change_per_ad_minute: float = -0.02  # ASSUMPTION: relative change of hours watched
    # realized hours per expected homepage session in the base world (measured on the default
    # preset: 1.63 h/day logged for a mean engagement of 1.30 sessions/day)
    hours_per_session: float = 1.25
    hours_shape: float = 3.0  # Gamma shape of a member's month-to-month hours

    def __post_init__(self) -> None:
        positive = ("horizon_days", "profile_rate", "block_rate", "n_featurable", "n_games",
                    "ad_seconds", "ad_months", "churn_rr_per_ad_minute", "hours_per_session",
                    "hours_shape", "game_sessions_mean")  # fmt: skip
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"SalesConfig.{name} must be > 0, got {getattr(self, name)}")
        sds = ("uplift_sd", "message_sd", "game_quality_sd", "gamer_sd", "ctr_category_sd",
               "clicker_sd", "ad_minutes_per_hour")  # fmt: skip
        for name in sds:
            if not getattr(self, name) >= 0:
                raise ValueError(f"SalesConfig.{name} must be >= 0, got {getattr(self, name)}")
        for name in ("offer_share", "game_exposure_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"SalesConfig.{name} must be in [0, 1], got {getattr(self, name)}")
        object.__setattr__(self, "ad_load_arms", tuple(float(x) for x in self.ad_load_arms))
        if not self.ad_load_arms or min(self.ad_load_arms) < 0:
            raise ValueError(f"SalesConfig.ad_load_arms must be >= 0, got {self.ad_load_arms}")
        if not 1 + self.hours_change_per_ad_minute * max(self.ad_load_arms) > 0:
            raise ValueError("SalesConfig.hours_change_per_ad_minute makes hours negative")

    @property
    def ads_per_hour(self) -> float:
        """Ad spots per hour watched at the default ad load (4 min of 30 s spots: 8)."""
        return self.ad_minutes_per_hour * 60.0 / self.ad_seconds

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        out = dataclasses.asdict(self)
        out["ad_load_arms"] = [float(x) for x in self.ad_load_arms]
        return out

    def replace(self, **changes: Any) -> SalesConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def codes_of(values, categories, name: str, size: int) -> np.ndarray:
    """Names from ``categories`` (or their integer codes) as int64 codes, broadcast to ``size``.

    Raises a ValueError naming ``name`` for an unknown name or an out-of-range code.
    """
    c = np.asarray(values)
    if c.dtype.kind not in "iu":
        names = pd.Index(list(categories))
        c = names.get_indexer(np.atleast_1d(c).ravel().astype(object))
        if np.any(c < 0):
            raise ValueError(f"{name} must be among {tuple(categories)}")
    if np.any((c < 0) | (c >= len(categories))):
        raise ValueError(f"{name} codes must be in 0..{len(categories) - 1}")
    c = c.astype(np.int64)
    return np.broadcast_to(c, (size,)) if c.size == 1 else c

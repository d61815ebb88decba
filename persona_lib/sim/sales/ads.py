"""The ads-tier lever: ad-category response rates and the ad-load experiment.

Response (click, QR scan) rate of member ``u`` to an ad of category ``c``:

    ctr(u, c) = sigmoid(a + base_c + w * taste_u . affinity_c + clicker_u)

``affinity_c`` are the category's loadings on the viewing genres (rows sum to 1, `AFFINITY`),
``clicker_u`` a personal propensity no log shows; rates are a few tenths of a percent (CTV
benchmarks, recalled public figure, not checked here). Historically ads were served with a
uniformly random category, ``ads_per_hour`` spots per hour of the member's logged viewing.

Ad-load experiment: ads-plan members active at the campaign date were randomized to an ad load
(``ad_load_arms`` minutes per hour) and followed for ``ad_months`` months. The monthly voluntary
churn hazard is the base world's renewal hazard for a typical month (`simulate_billing`:
intercept + churn propensity + new-member term + price term, watching as usual) times an ASSUMED
relative risk per extra ad minute (``churn_rr_per_ad_minute``, against the 4 min/hour reference);
hours watched fall by an ASSUMED ``hours_change_per_ad_minute`` per extra ad minute. Payment
failures are not simulated in the experiment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats
from scipy.special import expit

from persona_lib.data import schema
from persona_lib.data.constants import AD_CATEGORIES, DAYS_PER_MONTH, PRICES
from persona_lib.data.keyed_random import Stream, normal
from persona_lib.sim.sales.config import REFERENCE_AD_MINUTES, codes_of

_AFFINITY = {
    "auto": {"Action": 1, "Thriller": 0.6, "Crime": 0.5, "Sci-Fi": 0.3},
    "beauty": {"Reality": 1, "Romance": 0.8, "Drama": 0.4, "Music": 0.3},
    "fashion": {"Reality": 0.8, "Romance": 0.6, "Drama": 0.5, "Music": 0.5},
    "finance": {"Documentary": 1, "Crime": 0.5, "Drama": 0.5, "Thriller": 0.3},
    "food": {"Reality": 1, "Family": 0.6, "Comedy": 0.5, "Documentary": 0.3},
    "gaming": {"Anime": 1, "Sci-Fi": 0.7, "Fantasy": 0.7, "Action": 0.5, "Animation": 0.3},
    "health": {"Documentary": 0.8, "Drama": 0.6, "Family": 0.4, "Reality": 0.3},
    "retail": {"Comedy": 0.6, "Family": 0.6, "Romance": 0.4, "Reality": 0.4, "Drama": 0.3},
    "sports": {"Action": 0.7, "Documentary": 0.7, "Reality": 0.5, "Comedy": 0.2},
    "tech": {"Sci-Fi": 1, "Documentary": 0.6, "Thriller": 0.3, "Anime": 0.3},
    "toys": {"Family": 1, "Animation": 1, "Fantasy": 0.4, "Comedy": 0.3},
    "travel": {"Adventure": 1, "Documentary": 0.6, "Romance": 0.4, "Comedy": 0.3},
}
AFFINITY = np.array(
    [[_AFFINITY[c].get(g, 0.0) for g in schema.GENRES] for c in AD_CATEGORIES]
)  # ASSUMPTION: which viewers each category's ads speak to
AFFINITY = AFFINITY / AFFINITY.sum(1, keepdims=True)
ADS = schema.PLANS.index("ads")


def category_codes(categories, size: int) -> np.ndarray:
    """Category names or codes as int codes, broadcast to ``size``."""
    return codes_of(categories, AD_CATEGORIES, "categories", size)


@dataclass(frozen=True)
class AdsTruth:
    """Latent ad arrays (index = user_id or category code) and the ads oracles."""

    category_base: np.ndarray  # (C,) intercept + category effect
    clicker: np.ndarray  # (n_users,)
    genre_taste: np.ndarray  # (n_users, G)
    taste_weight: float
    base_churn_logit: np.ndarray  # (n_users,) typical-month logit at the campaign date
    tenure_months: np.ndarray  # (n_users,) at the campaign date
    monthly_hours: np.ndarray  # (n_users,) expected hours a month at the reference ad load
    rr_per_minute: float
    hours_change: float

    def ctr(self, user_ids, categories) -> np.ndarray:
        """True response rate of members to an ad of a category (names or codes, broadcast)."""
        users = np.asarray(user_ids, dtype=np.int64)
        cats = category_codes(categories, users.size)
        score = np.einsum("ij,ij->i", self.genre_taste[users], AFFINITY[cats])
        return expit(self.category_base[cats] + self.taste_weight * score + self.clicker[users])

    def monthly_churn(self, user_ids, ad_minutes_per_hour, month: int = 0) -> np.ndarray:
        """True voluntary churn hazard at the renewal ending month ``month`` (0 = first)."""
        users = np.asarray(user_ids, dtype=np.int64)
        ad = np.asarray(ad_minutes_per_hour, dtype=np.float64)
        # the new-member term of simulate_billing fades with tenure: remove it, add it back later
        tenure = self.tenure_months[users]
        logit = (
            self.base_churn_logit[users]
            - 0.9 * np.exp(-tenure / 3)
            + 0.9 * np.exp(-(tenure + month + 1) / 3)
        )
        rr = self.rr_per_minute ** (ad - REFERENCE_AD_MINUTES)
        return np.minimum(expit(logit) * rr, 1.0)

    def p_churn_within(self, user_ids, ad_minutes_per_hour, months: int) -> np.ndarray:
        """True probability of churning at one of the first ``months`` renewals."""
        survive = np.ones(np.shape(user_ids), dtype=np.float64)
        for m in range(months):
            survive = survive * (1 - self.monthly_churn(user_ids, ad_minutes_per_hour, m))
        return 1 - survive

    def expected_hours(self, user_ids, ad_minutes_per_hour) -> np.ndarray:
        """Expected hours watched per active month under an ad load (minutes per hour)."""
        users = np.asarray(user_ids, dtype=np.int64)
        ad = np.asarray(ad_minutes_per_hour, dtype=np.float64)
        return self.monthly_hours[users] * (1 + self.hours_change * (ad - REFERENCE_AD_MINUTES))

    def expected_total_hours(self, user_ids, ad_minutes_per_hour, months: int) -> np.ndarray:
        """Expected hours over ``months`` months, counting only months the member is active."""
        survive = np.ones(np.shape(user_ids), dtype=np.float64)
        total = np.zeros_like(survive)
        for m in range(months):
            total = total + survive * self.expected_hours(user_ids, ad_minutes_per_hour)
            survive = survive * (1 - self.monthly_churn(user_ids, ad_minutes_per_hour, m))
        return total

    def frames(self) -> dict[str, pd.DataFrame]:
        """Latent tables ``ad_categories`` (base logit, genre affinities) and ``ad_users``."""
        cats = pd.DataFrame(
            {
                "category": pd.Categorical(list(AD_CATEGORIES), categories=list(AD_CATEGORIES)),
                "ctr_base_logit": self.category_base,
            }
        )
        for j, g in enumerate(schema.GENRES):
            cats[f"affinity_{g}"] = AFFINITY[:, j]
        users = pd.DataFrame(
            {
                "user_id": np.arange(self.clicker.size, dtype=np.int32),
                "clicker": self.clicker.astype(np.float32),
                "base_churn_logit": self.base_churn_logit.astype(np.float32),
                "monthly_hours": self.monthly_hours.astype(np.float32),
            }
        )
        return {"ad_categories": cats, "ad_users": users}


def _ads_truth(ctx) -> AdsTruth:
    cfg, wc, n = ctx.config, ctx.world.config, ctx.n_users
    c = len(AD_CATEGORIES)
    base = cfg.ctr_intercept + cfg.ctr_category_sd * normal(
        ctx.draw(Stream.SALES_ADS, np.arange(c), 0)
    )
    clicker = cfg.clicker_sd * normal(ctx.draw(Stream.SALES_ADS, np.arange(n), 1))
    users = ctx.world.truth.tables["users"]
    tenure = (ctx.n_days - users["signup_day"].to_numpy()) / DAYS_PER_MONTH
    # simulate_billing.Subscriptions.hazard for a typical month on the ads plan: satisfaction 0
    # (the member watches their norm), no completed-good-match credit
    logit = (
        wc.churn_intercept
        + users["churn_propensity"].to_numpy()
        + 0.9 * np.exp(-tenure / 3)
        + 0.05 * (PRICES["ads"] - 15)
    )
    hours = users["engagement"].to_numpy() * cfg.hours_per_session * DAYS_PER_MONTH
    return AdsTruth(
        base, clicker, ctx.latent.genre_taste, cfg.ctr_taste_weight, logit, tenure, hours,
        cfg.churn_rr_per_ad_minute, cfg.hours_change_per_ad_minute,
    )  # fmt: skip


def _binomial(n: np.ndarray, p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Binomial(n, p) draws from uniforms (inverse CDF); 0 where n is 0."""
    out = stats.binom.ppf(u, np.maximum(n, 1), p)
    return np.where(n > 0, out, 0).astype(np.int64)


def _impressions(ctx, truth: AdsTruth) -> pd.DataFrame:
    cfg, c = ctx.config, len(AD_CATEGORIES)
    users = np.flatnonzero(ctx.plan_end == ADS)
    u = ctx.draw(Stream.SALES_ADS, users[:, None], 2, np.arange(2 * c + 1))
    left = np.floor(ctx.hours_logged[users] * cfg.ads_per_hour + u[:, -1]).astype(np.int64)
    imps = np.zeros((users.size, c), dtype=np.int64)
    for k in range(c - 1):  # uniform serving: multinomial as a chain of binomials
        imps[:, k] = _binomial(left, np.full(users.size, 1.0 / (c - k)), u[:, k])
        left = left - imps[:, k]
    imps[:, -1] = left
    rows, cats = np.nonzero(imps)
    n_imp = imps[rows, cats]
    clicks = _binomial(n_imp, truth.ctr(users[rows], cats), u[rows, c + cats])
    return pd.DataFrame(
        {
            "user_id": users[rows].astype(np.int32),
            "category": pd.Categorical.from_codes(cats, categories=list(AD_CATEGORIES)),
            "impressions": n_imp.astype(np.int32),
            "clicks": clicks.astype(np.int32),
        }
    )


def _ad_load(ctx, truth: AdsTruth) -> pd.DataFrame:
    cfg = ctx.config
    users = np.flatnonzero(ctx.active_end & (ctx.plan_end == ADS))
    arms = np.asarray(cfg.ad_load_arms, dtype=np.float64)
    m_total = cfg.ad_months
    u = ctx.draw(Stream.SALES_AD_LOAD, users[:, None], np.arange(1 + 2 * m_total))
    ad = arms[np.minimum((u[:, 0] * arms.size).astype(np.int64), arms.size - 1)]
    active = np.ones(users.size, dtype=bool)
    months = np.zeros(users.size, dtype=np.int64)
    hours = np.zeros(users.size)
    impressions = np.zeros(users.size, dtype=np.int64)
    mean_hours = truth.expected_hours(users, ad)
    for m in range(m_total):
        h = mean_hours * special.gammaincinv(cfg.hours_shape, u[:, 1 + m]) / cfg.hours_shape
        h = np.where(active, h, 0.0)
        hours += h
        impressions += np.round(h * ad * 60.0 / cfg.ad_seconds).astype(np.int64)
        months += active
        active &= u[:, 1 + m_total + m] >= truth.monthly_churn(users, ad, m)
    return pd.DataFrame(
        {
            "user_id": users.astype(np.int32),
            "ad_minutes_per_hour": ad.astype(np.float32),
            "months_active": months.astype(np.int8),
            "churned": ~active,
            "hours": hours.astype(np.float32),
            "ad_impressions": impressions.astype(np.int32),
        }
    )


def simulate_ads(ctx) -> tuple[dict[str, pd.DataFrame], AdsTruth]:
    """The ``ad_impressions`` and ``ad_load_experiment`` logs and the ads truth.

    ``ad_impressions``: user_id, category, impressions, clicks for members on the ads plan at the
    campaign date (viewing logged in the world's window, uniformly random categories).
    ``ad_load_experiment``: user_id, ad_minutes_per_hour (randomized arm), months_active, churned
    (within ``ad_months``), hours and ad_impressions over the months active.
    """
    truth = _ads_truth(ctx)
    return {
        "ad_impressions": _impressions(ctx, truth),
        "ad_load_experiment": _ad_load(ctx, truth),
    }, truth

"""The win-back lever: messages to lapsed members, some featuring a new title.

A member is *lapsed* when their last billing status in the log is ``churned`` (a voluntary
cancellation not followed by a reactivation). At the campaign date each lapsed member is randomized
(a third each) to no message, a generic message, or a message featuring one title drawn uniformly
from the *featurable* set: the catalogue's ``n_featurable`` newest titles by release year (ties by
title_id), which stand for new titles and new seasons; the set is public (`featurable_titles`).

Truth, on the logit of reactivating within the horizon (30 days):

    base_u = a - w_l log(1 + days_lapsed / 30) + w_e log(engagement_rel)
    generic:  + g + r_u
    featured: + f + w_f (fit(u, title) - fit_center) + r_u

``fit`` is the world's true fit (`Truth.fit`: genre match, quality, language) and ``r_u`` a
personal responsiveness no log shows. A random featured title is about as good as a generic
message; a title that fits the member well is much better, which is what personalization exploits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from persona_lib.data.keyed_random import Stream, normal
from persona_lib.sim.sales.config import WINBACK_ARMS, codes_of


def featurable_titles(titles: pd.DataFrame, k: int) -> np.ndarray:
    """The ``k`` newest title ids by release year (ties: lower title_id first)."""
    order = np.lexsort((titles["title_id"].to_numpy(), -titles["release_year"].to_numpy(int)))
    return np.sort(titles["title_id"].to_numpy()[order[:k]]).astype(np.int32)


def arm_codes(arm, size: int) -> np.ndarray:
    """Arm names (``none``, ``generic``, ``featured``) or codes 0-2 as codes, broadcast."""
    return codes_of(arm, WINBACK_ARMS, "arm", size)


def _title_array(title_ids, size: int) -> np.ndarray:
    """Title ids as float64 with NaN for missing (None, pd.NA, nullable Int32), broadcast."""
    if np.ndim(title_ids) == 0:
        value = np.nan if title_ids is None or title_ids is pd.NA else float(title_ids)
        return np.full(size, value)
    return pd.array(title_ids, dtype="Float64").to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass(frozen=True)
class WinbackTruth:
    """Latent win-back arrays (index = user_id, NaN base for members who are not lapsed)."""

    base_logit: np.ndarray
    responsiveness: np.ndarray
    featurable: np.ndarray
    fit: object  # callable (user_ids, title_ids) -> true fit: the world's `Truth.fit`
    generic_effect: float
    featured_effect: float
    fit_weight: float
    fit_center: float

    def message_effect(self, user_ids, featured_title_ids, arm) -> np.ndarray:
        """Logit effect of the arm (0 for ``none``); titles are read only for ``featured``."""
        users = np.asarray(user_ids, dtype=np.int64)
        codes = arm_codes(arm, users.size)
        titles = _title_array(featured_title_ids, users.size)
        featured = codes == 2
        if np.any(featured & ~np.isin(titles, self.featurable)):
            raise ValueError("featured_title_ids must be featurable titles for arm 'featured'")
        safe = np.where(featured, titles, self.featurable[0]).astype(np.int64)
        fit = self.fit(users, safe)
        effect = np.where(
            featured,
            self.featured_effect + self.fit_weight * (fit - self.fit_center),
            self.generic_effect,
        )
        return np.where(codes == 0, 0.0, effect + self.responsiveness[users])

    def p_reactivate(self, user_ids, featured_title_ids, arm) -> np.ndarray:
        """True probability that a lapsed member reactivates within the horizon under ``arm``.

        ``featured_title_ids`` (any value, e.g. -1, where the arm is not ``featured``) and
        ``arm`` (names or codes) broadcast against ``user_ids``.
        """
        users = np.asarray(user_ids, dtype=np.int64)
        base = self.base_logit[users]
        if np.any(np.isnan(base)):
            raise ValueError("p_reactivate: some user_ids are not lapsed members")
        return expit(base + self.message_effect(users, featured_title_ids, arm))

    def frame(self) -> pd.DataFrame:
        """Latent win-back table of lapsed members: user_id, base logit, responsiveness."""
        users = np.flatnonzero(~np.isnan(self.base_logit))
        return pd.DataFrame(
            {
                "user_id": users.astype(np.int32),
                "winback_base_logit": self.base_logit[users].astype(np.float32),
                "message_responsiveness": self.responsiveness[users].astype(np.float32),
            }
        )


def simulate_winback(ctx) -> tuple[dict[str, pd.DataFrame], WinbackTruth]:
    """The ``winback_messages`` and ``featurable_titles`` logs and the win-back truth.

    ``winback_messages``: one row per lapsed member: user_id, days_lapsed (campaign date minus
    the churn date), arm (category none / generic / featured), featured_title_id (nullable
    Int32), reactivated (within the horizon).
    """
    cfg, n = ctx.config, ctx.n_users
    featurable = featurable_titles(ctx.world.titles, cfg.n_featurable)
    days_lapsed = np.where(ctx.lapsed, ctx.n_days - ctx.churn_day, 0)
    base = (
        cfg.winback_intercept
        - cfg.winback_lapse_weight * np.log1p(days_lapsed / 30.0)
        + cfg.winback_engagement_weight * np.log(ctx.engagement_rel)
    )
    base = np.where(ctx.lapsed, base, np.nan)
    resp = cfg.message_sd * normal(ctx.draw(Stream.SALES_WINBACK, np.arange(n), 0))
    truth = WinbackTruth(
        base, resp, featurable, ctx.world.truth.fit, cfg.generic_message_effect,
        cfg.featured_message_effect, cfg.featured_fit_weight, cfg.fit_center,
    )  # fmt: skip
    users = np.flatnonzero(ctx.lapsed)
    u = ctx.draw(Stream.SALES_WINBACK, users[:, None], 1, np.arange(3))
    arm = np.minimum((u[:, 0] * len(WINBACK_ARMS)).astype(np.int64), len(WINBACK_ARMS) - 1)
    pick = featurable[np.minimum((u[:, 1] * featurable.size).astype(np.int64), featurable.size - 1)]
    title = np.where(arm == 2, pick, -1)
    reactivated = u[:, 2] < truth.p_reactivate(users, title, arm)
    logs = pd.DataFrame(
        {
            "user_id": users.astype(np.int32),
            "days_lapsed": days_lapsed[users].astype(np.int16),
            "arm": pd.Categorical.from_codes(arm, categories=list(WINBACK_ARMS)),
            "featured_title_id": pd.array(np.where(arm == 2, pick, 0), dtype="Int32"),
            "reactivated": reactivated,
        }
    )
    logs.loc[arm != 2, "featured_title_id"] = pd.NA
    titles = ctx.world.titles.set_index("title_id").loc[featurable, ["release_year"]]
    return {
        "winback_messages": logs,
        "featurable_titles": titles.reset_index().astype({"title_id": np.int32}),
    }, truth

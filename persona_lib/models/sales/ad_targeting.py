"""Ads tier: which ad category to serve each member, and the ad-load experiment read from logs.

`AdCategoryModel` estimates the response rate (CTR) of member ``u`` to category ``c`` from the
``ad_impressions`` log, where categories were served uniformly at random. It is a binomial L2
logistic regression (each row weighted by its clicks and non-clicks) with a per-category intercept
and a category-specific map of the member's viewing genre shares ``s_u``:

    logit CTR(u, c) = b_c + s_u . w_c        (w_c: one weight per genre and category)

Serving each member ``argmax_c`` of the estimate (`AdCategoryModel.best_category`) is the
targeted policy; the untargeted one serves categories uniformly. With a few hundred clicks in
the log most of the gain comes from the intercepts (the best category for everyone); on the
smoke and default worlds the targeted choice beat uniform serving clearly but did not reliably
beat the best single category (it depends on the folds' seed).

`estimate_ad_load_arms` reads the randomized ``ad_load_experiment``: per arm (ad minutes per
hour) the monthly churn hazard ``churns / renewals faced`` (each active month ends in a renewal,
so renewals faced = ``months_active``) and the hours watched per active month, both with
normal-approximation 95 % intervals (binomial for the hazard, delta-method ratio for hours, with
members as the sampling unit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.constants import AD_CATEGORIES, Z95
from persona_lib.data.schema import GENRES

SHARE_COLUMNS = [f"share_{g}" for g in GENRES]


def _shares(members: pd.DataFrame) -> np.ndarray:
    missing = [c for c in ["user_id", *SHARE_COLUMNS] if c not in members.columns]
    if missing:
        raise ValueError(f"members lacks columns {missing}")
    return members[SHARE_COLUMNS].fillna(0).to_numpy(np.float64)


class AdCategoryModel:
    """Per-member category CTR from viewing genre shares (module docstring).

    Parameters
    ----------
    C : inverse L2 strength of scikit-learn's ``LogisticRegression`` (> 0), with the binomial
        row weights rescaled to mean 1; clicks are rare (a few tenths of a percent), so the
        genre weights need firm shrinkage.
    """

    def __init__(self, C: float = 0.03):
        self.C = C

    def _design(self, shares: np.ndarray, cats: np.ndarray) -> np.ndarray:
        k = len(AD_CATEGORIES)
        onehot = np.eye(k)[cats]
        inter = np.einsum("ij,ik->ijk", onehot, shares).reshape(len(cats), -1)
        return np.hstack([onehot, 4.0 * inter])

    def fit(self, impressions: pd.DataFrame, members: pd.DataFrame) -> AdCategoryModel:
        """Fit on ``impressions`` (user_id, category, impressions, clicks) and member features."""
        from sklearn.linear_model import LogisticRegression

        if not self.C > 0:
            raise ValueError(f"C must be > 0, got {self.C}")
        missing = {"user_id", "category", "impressions", "clicks"} - set(impressions.columns)
        if missing:
            raise ValueError(f"impressions lacks columns {sorted(missing)}")
        shares = _shares(members)
        row = pd.Index(members["user_id"].to_numpy(np.int64)).get_indexer(
            impressions["user_id"].to_numpy(np.int64)
        )
        if np.any(row < 0):
            raise ValueError("impressions has user_ids missing from members")
        cats = pd.Categorical(impressions["category"], categories=list(AD_CATEGORIES)).codes
        clicks = impressions["clicks"].to_numpy(np.float64)
        misses = impressions["impressions"].to_numpy(np.float64) - clicks
        if clicks.sum() == 0 or np.any(misses < 0):
            raise ValueError("impressions needs some clicks and clicks <= impressions")
        Z = self._design(shares[row], cats.astype(np.int64))
        X = np.vstack([Z, Z])
        y = np.r_[np.ones(len(Z)), np.zeros(len(Z))]
        weight = np.r_[clicks, misses]
        keep = weight > 0
        weight = weight / weight[keep].mean()  # so that C means what it means unweighted
        model = LogisticRegression(C=self.C, max_iter=3000)
        self.model_ = model.fit(X[keep], y[keep], sample_weight=weight[keep])
        return self

    def predict_ctr(self, members: pd.DataFrame) -> np.ndarray:
        """Estimated CTR of each category for each member, shape (n_members, n_categories)."""
        if not hasattr(self, "model_"):
            raise RuntimeError("AdCategoryModel is not fitted: call fit() first")
        shares = _shares(members)
        k = len(AD_CATEGORIES)
        Z = self._design(np.repeat(shares, k, 0), np.tile(np.arange(k), len(shares)))
        return self.model_.predict_proba(Z)[:, 1].reshape(len(shares), k)

    def best_category(self, members: pd.DataFrame) -> np.ndarray:
        """Code (index into `AD_CATEGORIES`) of the highest estimated CTR per member."""
        return np.argmax(self.predict_ctr(members), axis=1)


def estimate_ad_load_arms(experiment: pd.DataFrame) -> pd.DataFrame:
    """Monthly churn hazard and hours per active month of each ad-load arm, with 95 % CIs.

    ``churn = sum(churned) / sum(months_active)``, CI ``churn +- 1.96 sqrt(churn (1 - churn) /
    renewals)``; ``hours = sum(hours) / sum(months_active)``, CI by the delta method for a ratio
    of member sums, ``se^2 = sum((h_i - hours m_i)^2) / (sum m_i)^2``.

    Returns
    -------
    DataFrame, one row per arm (ascending): ad_minutes_per_hour, members, renewals,
    churn, churn_ci_low, churn_ci_high, churn_within (share churned in the experiment, with
    ``churn_within_ci_low/high``), hours, hours_ci_low, hours_ci_high.
    """
    need = {"ad_minutes_per_hour", "months_active", "churned", "hours"}
    missing = need - set(experiment.columns)
    if missing:
        raise ValueError(f"experiment lacks columns {sorted(missing)}")
    rows = []
    for arm, g in experiment.groupby("ad_minutes_per_hour", sort=True):
        m = g["months_active"].to_numpy(np.float64)
        churned = g["churned"].to_numpy().astype(np.float64)
        h = g["hours"].to_numpy(np.float64)
        renewals = m.sum()
        churn = churned.sum() / renewals
        se_c = np.sqrt(churn * (1 - churn) / renewals)
        share = churned.mean()
        se_s = np.sqrt(share * (1 - share) / len(g))
        hours = h.sum() / renewals
        se_h = np.sqrt(np.sum((h - hours * m) ** 2)) / renewals
        rows.append((float(arm), len(g), renewals, churn, churn - Z95 * se_c, churn + Z95 * se_c,
                     share, share - Z95 * se_s, share + Z95 * se_s,
                     hours, hours - Z95 * se_h, hours + Z95 * se_h))  # fmt: skip
    cols = ["ad_minutes_per_hour", "members", "renewals", "churn", "churn_ci_low",
            "churn_ci_high", "churn_within", "churn_within_ci_low", "churn_within_ci_high",
            "hours", "hours_ci_low", "hours_ci_high"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)

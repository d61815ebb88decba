"""Policy evaluation of the sales levers against the simulator's truth (`SalesTruth`).

A *policy* assigns each member of an evaluation set a decision (offer or not, which message,
which games, which ad category). Its value is exact given the members: each member's expected
outcome comes from the oracles (e.g. ``truth.p_upgrade(u, offered)``), and the policy value is
their mean. The 95 % confidence intervals describe which members happened to be in the set:
a percentile bootstrap over members (`bootstrap_means`, seeded), paired across policies so a
difference between two policies has its own interval. Revenue per member comes from
`persona_lib.revenue.sales` and is incremental against doing nothing.

Each ``*_study`` function fits the lever's model on the logs only, applies the decision, and
returns a tidy frame (`STUDY_COLUMNS`): the metric per 1,000 members under each policy from the
truth (``truth``, ``ci_low``, ``ci_high``) and, where the logs allow, estimated from the logs
alone (``estimate`` and its CI); the difference to a comparison policy (``compare_to``,
``diff``, ``diff_ci_*``); incremental revenue per 1,000 members (``revenue_per_1000``, CI).
The ads-tier studies (ad categories, ad load, ARPU against basic) are in
`persona_lib.evaluation.sales_ads`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.constants import Z95
from persona_lib.evaluation.uplift import targeting_value
from persona_lib.models.sales.cross_sell import GameAffinityModel, GamePopularity
from persona_lib.models.sales.upsell import (
    UPSELL_FEATURES,
    cross_fit_uplift,
    random_share,
    top_share,
)
from persona_lib.models.sales.winback import (
    FeaturedTitleChooser,
    ReactivationModel,
    popular_title,
    random_titles,
)
from persona_lib.revenue import sales as rev
from persona_lib.signals.sales_features import sales_features
from persona_lib.signals.subscriptions import monthly_churn

STUDY_COLUMNS = [
    "lever", "policy", "metric", "n_members", "estimate", "estimate_ci_low", "estimate_ci_high",
    "truth", "ci_low", "ci_high", "compare_to", "diff", "diff_ci_low", "diff_ci_high",
    "revenue_per_1000", "revenue_ci_low", "revenue_ci_high",
]  # fmt: skip


def bootstrap_means(values, n_boot: int = 500, random_state: int = 0, alpha: float = 0.05):
    """Column means of ``values`` (n members x p) and percentile bootstrap intervals.

    Members (rows) are resampled with replacement ``n_boot`` times with one seeded generator,
    the same resamples for every column, so intervals of columns that are differences of paired
    policies are right.

    Returns
    -------
    (mean, low, high): arrays of shape (p,).

    Examples
    --------
    >>> m, lo, hi = bootstrap_means(np.arange(10.0)[:, None], n_boot=200)
    >>> float(m[0]), bool(lo[0] < 4.5 < hi[0])
    (4.5, True)
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[:, None] if v.ndim == 1 else v
    if v.ndim != 2 or v.shape[0] < 2:
        raise ValueError(f"values must have at least 2 rows (members), got shape {v.shape}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    rng = np.random.default_rng(random_state)
    n = v.shape[0]
    boots = np.empty((n_boot, v.shape[1]))
    for start in range(0, n_boot, 50):  # batches keep the count matrix small
        b = min(50, n_boot - start)
        counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(b)])
        boots[start : start + b] = counts @ np.nan_to_num(v) / n
    low, high = np.quantile(boots, [alpha / 2, 1 - alpha / 2], axis=0)
    return v.mean(axis=0), low, high


def policy_table(
    lever: str,
    metric: str,
    outcomes: dict[str, np.ndarray],
    revenue: dict[str, np.ndarray] | None = None,
    compare_to: dict[str, str] | None = None,
    estimates: dict[str, tuple[float, float, float]] | None = None,
    scale: float = 1000.0,
    n_boot: int = 500,
    random_state: int = 0,
) -> pd.DataFrame:
    """Tidy frame of policies evaluated on the same members (`STUDY_COLUMNS`).

    Parameters
    ----------
    outcomes : policy -> (n,) true expected outcome per member; ``truth = scale * mean``.
    revenue : policy -> (n,) incremental revenue per member (USD); reported per 1,000 members
        whatever ``scale`` is.
    compare_to : policy -> the policy its ``diff`` is against (paired, per member).
    estimates : policy -> (estimate, low, high) from the logs, already in ``scale`` units.
    """
    names = list(outcomes)
    n = len(next(iter(outcomes.values())))
    if any(len(v) != n for v in outcomes.values()):
        raise ValueError("outcomes: every policy must cover the same members")
    compare_to, revenue, estimates = compare_to or {}, revenue or {}, estimates or {}
    bad = [p for p, c in compare_to.items() if p not in outcomes or c not in outcomes]
    if bad:
        raise ValueError(f"compare_to: unknown policies {bad}")
    cols = [outcomes[p] for p in names]
    cols += [outcomes[p] - outcomes[compare_to[p]] for p in names if p in compare_to]
    cols += [revenue[p] for p in names if p in revenue]
    mean, low, high = bootstrap_means(np.column_stack(cols), n_boot, random_state)
    n_revenue = sum(p in revenue for p in names)
    factor = np.r_[np.full(len(cols) - n_revenue, scale), np.full(n_revenue, 1000.0)]
    mean, low, high = factor * mean, factor * low, factor * high
    diff_at = {p: len(names) + i for i, p in enumerate([p for p in names if p in compare_to])}
    rev_at = {
        p: len(names) + len(diff_at) + i for i, p in enumerate(q for q in names if q in revenue)
    }
    rows = []
    for i, p in enumerate(names):
        est = estimates.get(p, (np.nan, np.nan, np.nan))
        d = diff_at.get(p)
        r = rev_at.get(p)
        pick = lambda j: (mean[j], low[j], high[j]) if j is not None else (np.nan,) * 3  # noqa: E731
        rows.append((lever, p, metric, n, *est, mean[i], low[i], high[i], compare_to.get(p, ""),
                     *pick(d), *pick(r)))  # fmt: skip
    return pd.DataFrame(rows, columns=STUDY_COLUMNS)


def study_row(lever, policy, metric, n, estimate=None, truth=None, compare_to="", diff=None):
    """One `STUDY_COLUMNS` row; triples are (value, low, high), missing ones NaN."""
    nan3 = (np.nan, np.nan, np.nan)
    return (lever, policy, metric, n, *(estimate or nan3), *(truth or nan3), compare_to,
            *(diff or nan3), *nan3)  # fmt: skip


def features_or_compute(world, sales, features):
    if features is not None:
        return features
    return sales_features(world.tables, sales.tables, sales.campaign_date)


def _churn(world) -> float:
    """Pooled monthly churn of the world's billing log (renewals lost / renewals due)."""
    return float(monthly_churn(world.billing)["churn_rate"].iloc[-1])


def _check_share(q: float, name: str = "q") -> None:
    if not 0 < q <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {q}")


def upsell_study(
    world, sales, q: float = 0.3, n_folds: int = 2, learner: str = "x",
    horizon_months: int = rev.HORIZON_MONTHS, discount_months: float = rev.OFFER_DISCOUNT_MONTHS,
    n_boot: int = 500, random_state: int = 0, features: pd.DataFrame | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Upgrade offers: top ``q`` by cross-fitted uplift vs random ``q``, everyone and no one.

    Every eligible member in ``upgrade_offers`` is scored out-of-fold (`cross_fit_uplift`);
    truth: upgrades per 1,000 eligible members, ``mean(p_upgrade(u, offered(u)))``; estimate
    from the held-out logged outcomes (`targeting_value`: control rate plus the targeted
    group's treated-minus-control difference, normal CI). Revenue: `upgrade_revenue` (price
    delta from the truth, offer cost ``discount_months`` of it per offered upgrader), minus the
    no-offer revenue, over ``horizon_months`` at the billing log's churn.
    """
    _check_share(q)
    offers = sales.tables["upgrade_offers"]
    X = features_or_compute(world, sales, features).set_index("user_id")
    users = offers["user_id"].to_numpy(np.int64)
    w, y = offers["offered"].to_numpy(bool), offers["upgraded"].to_numpy(np.float64)
    Xo = X.loc[users, UPSELL_FEATURES].reset_index(drop=True)
    score, _ = cross_fit_uplift(Xo, w, y, n_folds, learner, random_state=random_state)
    decisions = {
        "none": np.zeros(users.size, bool),
        f"random_{q:g}": random_share(users.size, q, random_state),
        f"uplift_top_{q:g}": top_share(score, q),
        "everyone": np.ones(users.size, bool),
    }
    truth, churn = sales.truth, _churn(world)
    delta = truth.upgrade_price_delta(users)
    outcomes, revenue = {}, {}
    base = rev.upgrade_revenue(truth.p_upgrade(users, False), delta, False, churn, horizon_months)
    for name, offer in decisions.items():
        p = truth.p_upgrade(users, offer)
        outcomes[name] = p
        revenue[name] = (
            rev.upgrade_revenue(p, delta, offer, churn, horizon_months, discount_months) - base
        )
    tv = targeting_value(y, w, score, fractions=(q, 1.0))
    p_c = y[~w].mean()
    var_c = p_c * (1 - p_c) / (~w).sum()
    n = users.size
    estimates = {"none": (p_c, p_c - Z95 * np.sqrt(var_c), p_c + Z95 * np.sqrt(var_c))}
    share = tv["n_targeted"].iloc[0] / n  # random q: q times everyone's increment and its se
    increments = {
        f"uplift_top_{q:g}": (tv["incremental_model"].iloc[0], tv["incremental_model_se"].iloc[0]),
        "everyone": (tv["incremental_model"].iloc[1], tv["incremental_model_se"].iloc[1]),
        f"random_{q:g}": (share * tv["incremental_model"].iloc[1],
                          share * tv["incremental_model_se"].iloc[1]),
    }  # fmt: skip
    for name, (incremental, se_incremental) in increments.items():
        est = p_c + incremental / n
        se = np.sqrt(var_c + (se_incremental / n) ** 2)
        estimates[name] = (est, est - Z95 * se, est + Z95 * se)
    estimates = {k: tuple(1000 * np.asarray(v)) for k, v in estimates.items()}
    compare = {f"random_{q:g}": "none", f"uplift_top_{q:g}": f"random_{q:g}", "everyone": "none"}
    return policy_table("upsell", "upgrades_per_1000", outcomes, revenue, compare, estimates,
                        n_boot=n_boot, random_state=random_state)  # fmt: skip


def _last_price(world, users: np.ndarray) -> np.ndarray:
    """Each member's price on their last billing row (users-table price without one)."""
    b = world.billing.sort_values(["user_id", "period_start"]).drop_duplicates(
        "user_id", keep="last"
    )
    price = b.set_index("user_id")["price"].astype(float)
    fallback = world.users.set_index("user_id")["price"].astype(float)
    return price.reindex(users).fillna(fallback.reindex(users)).to_numpy()


def winback_study(
    world, sales, method: str = "profile", q: float = 0.5,
    horizon_months: int = rev.HORIZON_MONTHS, n_boot: int = 500, random_state: int = 0,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Win-back messages to every lapsed member: which title to feature, and whom to message.

    Policies: no message, generic, featured random title, featured most-played title for all,
    featured title chosen per member (`FeaturedTitleChooser` ``method``), and the personalized
    message sent only to the top ``q`` by `ReactivationModel` (fitted on the log, in sample) vs
    a random ``q``. Truth: reactivations per 1,000 lapsed (`p_reactivate`); estimate: the
    logged arms' rates (binomial CI) where the log ran that policy. Revenue: a reactivated
    member pays their last price for `paid_months` at the billing log's churn.
    """
    _check_share(q)
    log = sales.tables["winback_messages"]
    users = log["user_id"].to_numpy(np.int64)
    cand = sales.tables["featurable_titles"]["title_id"].to_numpy(np.int64)
    X = features_or_compute(world, sales, features)
    chooser = FeaturedTitleChooser(method, random_state=random_state)
    chooser.fit(world.events, world.titles, world.config.n_users, sales.campaign_date)
    personal = chooser.choose(users, cand)
    popular = popular_title(world.events, cand, sales.campaign_date)
    Xw = log.merge(X, on="user_id", how="left")
    propensity = ReactivationModel().fit(Xw, log["reactivated"]).predict_proba(Xw)
    top, rand = top_share(propensity, q), random_share(users.size, q, random_state)
    p = sales.truth.p_reactivate
    outcomes = {
        "none": p(users, -1, "none"),
        "generic": p(users, -1, "generic"),
        "featured_random": p(users, random_titles(users.size, cand, random_state), "featured"),
        "featured_popular": p(users, popular, "featured"),
        "featured_personalized": p(users, personal, "featured"),
    }
    outcomes[f"personalized_random_{q:g}"] = np.where(rand, outcomes["featured_personalized"],
                                                      outcomes["none"])  # fmt: skip
    outcomes[f"personalized_top_{q:g}"] = np.where(top, outcomes["featured_personalized"],
                                                   outcomes["none"])  # fmt: skip
    price, churn = _last_price(world, users), _churn(world)
    revenue = {
        k: rev.reactivation_revenue(v, price, churn, horizon_months)
        - rev.reactivation_revenue(outcomes["none"], price, churn, horizon_months)
        for k, v in outcomes.items()
    }
    estimates = {}
    for arm, name in (("none", "none"), ("generic", "generic"), ("featured", "featured_random")):
        r = log.loc[log["arm"] == arm, "reactivated"].to_numpy(np.float64)
        se = np.sqrt(r.mean() * (1 - r.mean()) / max(r.size, 1))
        estimates[name] = tuple(
            1000 * np.array([r.mean(), r.mean() - Z95 * se, r.mean() + Z95 * se])
        )
    compare = {"generic": "none", "featured_random": "none", "featured_popular": "none",
               "featured_personalized": "featured_popular",
               f"personalized_top_{q:g}": f"personalized_random_{q:g}",
               f"personalized_random_{q:g}": "none"}  # fmt: skip
    return policy_table("winback", "reactivations_per_1000", outcomes, revenue, compare,
                        estimates, n_boot=n_boot, random_state=random_state)  # fmt: skip


def cross_sell_study(
    world, sales, k: int = 3, churn_relative_risk: float = rev.ADOPTER_CHURN_RR,
    horizon_months: int = rev.HORIZON_MONTHS, n_boot: int = 500, random_state: int = 0,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Top-k games for active members who never played one: taste model vs popularity vs random.

    Games a member was already shown are never recommended. Truth: expected adoptions per
    1,000 members, the sum of `p_adopt` over the k games; estimate: the model's own predicted
    adoptions (popularity: the games' smoothed logged adoption rates), no CI. Revenue:
    `adoption_revenue` (ASSUMPTION ``churn_relative_risk`` for an adopter, ARPU = the member's
    price).
    """
    X = features_or_compute(world, sales, features)
    exposures, games = sales.tables["game_exposures"], sales.tables["games"]
    played = sales.tables["game_plays"]["user_id"].unique()
    targets = X[X["price"].notna() & ~X["user_id"].isin(played)].reset_index(drop=True)
    users = targets["user_id"].to_numpy(np.int64)
    model = GameAffinityModel().fit(exposures, X, games)
    pop = GamePopularity().fit(exposures, len(games))
    rng = np.random.default_rng(random_state)
    recs = {
        "popularity": pop.recommend(users, k, seen=exposures),
        "taste_model": model.recommend(targets, k, seen=exposures),
    }
    random_scores = pd.DataFrame({"user_id": np.repeat(users, len(games)),
                                  "game_id": np.tile(np.arange(len(games)), users.size),
                                  "r": rng.random(users.size * len(games))})  # fmt: skip
    recs["random"] = _random_games(random_scores, exposures, k)
    outcomes, estimates = {"none": np.zeros(users.size)}, {}
    row = pd.Index(users)
    for name, r in recs.items():
        p = sales.truth.p_adopt(r["user_id"], r["game_id"])
        outcomes[name] = np.bincount(row.get_indexer(r["user_id"]), p, minlength=users.size)
        if name != "random":
            est = 1000 * r["score"].sum() / users.size
            estimates[name] = (est, np.nan, np.nan)
    price, churn = targets["price"].to_numpy(np.float64), _churn(world)
    revenue = {
        n: rev.adoption_revenue(v, price, churn, churn_relative_risk, horizon_months)
        for n, v in outcomes.items()
    }
    compare = {"random": "none", "popularity": "none", "taste_model": "popularity"}
    return policy_table("cross_sell", f"adoptions_per_1000_top_{k}", outcomes, revenue, compare,
                        estimates, n_boot=n_boot, random_state=random_state)  # fmt: skip


def _random_games(scores: pd.DataFrame, seen: pd.DataFrame, k: int) -> pd.DataFrame:
    s = scores.merge(seen[["user_id", "game_id"]].assign(seen=True), how="left",
                     on=["user_id", "game_id"])  # fmt: skip
    s = s[s["seen"].isna()].sort_values(["user_id", "r"])
    return (
        s.groupby("user_id").head(k).rename(columns={"r": "score"})[["user_id", "game_id", "score"]]
    )

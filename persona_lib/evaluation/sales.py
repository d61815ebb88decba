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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.sales_config import AD_CATEGORIES
from persona_lib.evaluation.uplift import targeting_value
from persona_lib.models.ad_targeting import AdCategoryModel
from persona_lib.models.cross_sell import GameAffinityModel, GamePopularity
from persona_lib.models.upsell import UPSELL_FEATURES, cross_fit_uplift, random_share, top_share
from persona_lib.models.winback import (
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
Z95 = 1.959963984540054


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


def _row(lever, policy, metric, n, estimate=None, truth=None, compare_to="", diff=None):
    """One `STUDY_COLUMNS` row; triples are (value, low, high), missing ones NaN."""
    nan3 = (np.nan, np.nan, np.nan)
    return (lever, policy, metric, n, *(estimate or nan3), *(truth or nan3), compare_to,
            *(diff or nan3), *nan3)  # fmt: skip


def _features(world, sales, features):
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
    X = _features(world, sales, features).set_index("user_id")
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
    X = _features(world, sales, features)
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
    X = _features(world, sales, features)
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


def _cross_fit_categories(imp, X, n_folds: int, random_state: int):
    """Out-of-fold best category (model and best single category) of each ads-log member."""
    members = np.unique(imp["user_id"].to_numpy(np.int64))
    fold = np.random.default_rng(random_state).permutation(np.arange(members.size) % n_folds)
    Xm = X.set_index("user_id").loc[members].reset_index()
    best, single = np.zeros(members.size, np.int64), np.zeros(members.size, np.int64)
    pred = np.zeros(members.size)
    for k in range(n_folds):
        test = fold == k
        train = imp[~imp["user_id"].isin(members[test])]
        ctr = AdCategoryModel().fit(train, X).predict_ctr(Xm[test])
        best[test], pred[test] = ctr.argmax(1), ctr.max(1)
        sums = train.groupby("category", observed=False)[["clicks", "impressions"]].sum()
        single[test] = int(np.argmax((sums["clicks"] / sums["impressions"]).to_numpy()))
    return members, best, single, pred


def ad_targeting_study(
    world, sales, n_folds: int = 2, n_boot: int = 500, random_state: int = 0,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Ad category per ads-plan member: predicted best vs uniform vs the best single category.

    Cross-fitted like `upsell_study`: members of the ``ad_impressions`` log are split into
    ``n_folds`` folds; each fold gets the category `AdCategoryModel` (fitted on the other
    folds) predicts best, or the other folds' best logged category for everyone. Truth:
    responses per 1,000 ads, `ctr`; estimate: the logged CTR (uniform policy) or the model's
    predicted CTR of its choice. No revenue: CPM-priced ads earn per impression, and what a
    response is worth to the advertiser is not known here.
    """
    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or n_folds < 2:
        raise ValueError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    X = _features(world, sales, features)
    imp = sales.tables["ad_impressions"]
    users, best, single, pred = _cross_fit_categories(imp, X, n_folds, random_state)
    ctr = sales.truth.ctr
    every = np.column_stack([ctr(users, c) for c in range(len(AD_CATEGORIES))])
    rows = np.arange(users.size)
    outcomes = {"uniform": every.mean(1), "best_single_category": every[rows, single],
                "targeted": every[rows, best]}  # fmt: skip
    c, n = imp["clicks"].sum(), imp["impressions"].sum()
    se = np.sqrt(c / n * (1 - c / n) / n)
    estimates = {"uniform": tuple(1000 * np.array([c / n, c / n - Z95 * se, c / n + Z95 * se])),
                 "targeted": (1000 * pred.mean(), np.nan, np.nan)}  # fmt: skip
    compare = {"targeted": "uniform", "best_single_category": "uniform"}
    return policy_table("ads_category", "responses_per_1000_ads", outcomes, None, compare,
                        estimates, n_boot=n_boot, random_state=random_state)  # fmt: skip


def _ad_load_truth(sales, users: np.ndarray, arm: float, months=None) -> dict[str, np.ndarray]:
    """Per member under ``arm``: expected churns, months active and hours over ``months``
    (default: the experiment's ``ad_months``)."""
    t, months = sales.truth, months or sales.config.ad_months
    survive, active = np.ones(users.size), np.zeros(users.size)
    for m in range(months):
        active += survive
        survive = survive * (1 - t.monthly_churn(users, arm, m))
    return {"churned": 1 - survive, "months": active,
            "hours": t.expected_total_hours(users, arm, months)}  # fmt: skip


def ad_load_study(
    world, sales, cpm_usd: float = rev.AD_CPM_USD, n_boot: int = 500, random_state: int = 0,
    horizon_months: int = rev.HORIZON_MONTHS,
) -> pd.DataFrame:  # fmt: skip
    """The ad-load experiment: churn, hours and revenue per arm from the log vs the truth.

    Truth of an arm: every experiment member under that ad load (exact oracles). Metrics:
    ``churned_within_<M>m_per_1000``; ``hours_per_member_<M>m`` and ``revenue_per_member_<M>m``
    (USD: ads-plan price per month active plus ad revenue at ``cpm_usd``), estimates from the
    arm's members (normal CIs; ``revenue_per_1000`` there is the difference to the 4 min/hour
    reference arm); pooled ``monthly_churn`` (churns / renewals faced), ``hours_per_month`` and
    ``lifetime_revenue_per_member`` (USD, (price + ad revenue per month) x 1 / monthly churn),
    estimated by `estimate_ad_load_arms` (truth without CI); and ``revenue_per_member_<H>m``
    over ``horizon_months`` (the horizon of the other levers' revenue): truth from the oracles
    month by month, estimate extrapolated from the arm's pooled churn and hours as
    ``(price + ad revenue per month) x paid_months(churn, H)`` (CI from the churn and hours
    interval ends), ``revenue_per_1000`` against the reference arm.
    """
    from persona_lib.data.simulate_population import PRICES
    from persona_lib.models.ad_targeting import estimate_ad_load_arms

    exp = sales.tables["ad_load_experiment"]
    users = exp["user_id"].to_numpy(np.int64)
    arms = sorted(exp["ad_minutes_per_hour"].astype(float).unique())
    price, months = PRICES["ads"], sales.config.ad_months
    rate = {a: rev.ad_revenue_per_member_month(1.0, a, sales.config.ad_seconds, cpm_usd)
            for a in arms}  # fmt: skip
    truth = {a: _ad_load_truth(sales, users, a) for a in arms}
    ref = min(arms, key=lambda a: abs(a - 4.0))
    frames = []
    metrics = (
        (f"churned_within_{months}m_per_1000", 1000.0, lambda a, d: d["churned"], "churned"),
        (f"hours_per_member_{months}m", 1.0, lambda a, d: d["hours"], "hours"),
        (f"revenue_per_member_{months}m", 1.0,
         lambda a, d: price * d["months"] + rate[a] * d["hours"], "revenue"),
    )  # fmt: skip
    logged = exp.assign(
        revenue=price * exp["months_active"]
        + exp["hours"] * exp["ad_minutes_per_hour"].astype(float).map(rate),
        churned=exp["churned"].astype(float),
    )
    for metric, scale, value, column in metrics:
        outcomes = {f"ad_load_{a:g}": value(a, truth[a]) for a in arms}
        estimates = {}
        for a in arms:
            x = logged.loc[exp["ad_minutes_per_hour"].astype(float) == a, column].to_numpy(float)
            se = x.std(ddof=1) / np.sqrt(x.size)
            triple = np.array([x.mean(), x.mean() - Z95 * se, x.mean() + Z95 * se])
            estimates[f"ad_load_{a:g}"] = tuple(scale * triple)
        revenue = None
        if column == "revenue":
            revenue = {k: v - outcomes[f"ad_load_{ref:g}"] for k, v in outcomes.items()}
        table = policy_table("ads_load", metric, outcomes, revenue,
                             {k: f"ad_load_{ref:g}" for k in outcomes}, estimates, scale,
                             n_boot, random_state)  # fmt: skip
        frames.append(table)
    pooled = estimate_ad_load_arms(exp)
    frames.append(_pooled_ad_load(pooled, truth, rate, price))
    frames.append(_horizon_revenue(sales, users, pooled, rate, price, ref, horizon_months,
                                   n_boot, random_state))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _horizon_revenue(sales, users, pooled, rate, price, ref, horizon, n_boot, random_state):
    """``revenue_per_member_<H>m`` of each ad-load arm: oracle truth, pooled extrapolation."""
    outcomes, estimates = {}, {}
    for _, e in pooled.iterrows():
        a, name = float(e["ad_minutes_per_hour"]), f"ad_load_{float(e['ad_minutes_per_hour']):g}"
        d = _ad_load_truth(sales, users, a, horizon)
        outcomes[name] = price * d["months"] + rate[a] * d["hours"]
        value = lambda c, h, r=rate[a]: float((price + r * h) * rev.paid_months(c, horizon))  # noqa: E731
        estimates[name] = (
            value(e["churn"], e["hours"]),
            value(e["churn_ci_high"], e["hours_ci_low"]),  # more churn, fewer hours: lowest
            value(e["churn_ci_low"], e["hours_ci_high"]),
        )
    ref_name = f"ad_load_{ref:g}"
    revenue = {k: v - outcomes[ref_name] for k, v in outcomes.items()}
    return policy_table("ads_load", f"revenue_per_member_{horizon}m", outcomes, revenue,
                        {k: ref_name for k in outcomes}, estimates, 1.0, n_boot,
                        random_state)  # fmt: skip


def _pooled_ad_load(est: pd.DataFrame, truth: dict, rate: dict, price: float) -> pd.DataFrame:
    rows = []
    for _, e in est.iterrows():
        a = float(e["ad_minutes_per_hour"])
        d = truth[a]
        churn_t = d["churned"].sum() / d["months"].sum()
        hours_t = d["hours"].sum() / d["months"].sum()
        life = lambda c, h, r=rate[a]: float(rev.lifetime_revenue(price + r * h, c))  # noqa: E731
        values = (
            ("monthly_churn", (e["churn"], e["churn_ci_low"], e["churn_ci_high"]), churn_t),
            ("hours_per_month", (e["hours"], e["hours_ci_low"], e["hours_ci_high"]), hours_t),
            ("lifetime_revenue_per_member",
             (life(e["churn"], e["hours"]), life(e["churn_ci_high"], e["hours_ci_low"]),
              life(e["churn_ci_low"], e["hours_ci_high"])), life(churn_t, hours_t)),
        )  # fmt: skip
        for metric, estimate, t in values:
            n = int(e["members"])
            rows.append(
                _row("ads_load", f"ad_load_{a:g}", metric, n, estimate, (t, np.nan, np.nan))
            )
    return pd.DataFrame(rows, columns=STUDY_COLUMNS)


def ads_tier_arpu_study(world, sales, cpm_usd: float = rev.AD_CPM_USD) -> pd.DataFrame:
    """ARPU of the ads tier (price + ad revenue per member month) per ad load vs the basic plan.

    Tests the claim (Netflix 2024 reporting) that an ads-tier member earns more than a basic
    member. Rows per arm: ``arpu_usd_per_member_month`` at ``cpm_usd`` (``diff`` against the
    basic price) and ``break_even_cpm_usd`` (the CPM at which the ads tier matches basic), both
    from the experiment log's hours per active month (estimate, CI from `estimate_ad_load_arms`)
    and the truth's; one row ``basic_plan`` with the basic price. Churn differences between
    the plans are left out (per member month, not per member lifetime).
    """
    from persona_lib.data.simulate_population import PRICES
    from persona_lib.models.ad_targeting import estimate_ad_load_arms

    exp = sales.tables["ad_load_experiment"]
    users = exp["user_id"].to_numpy(np.int64)
    est = estimate_ad_load_arms(exp)
    price, basic, sec = PRICES["ads"], PRICES["basic"], sales.config.ad_seconds
    fixed = (basic, basic, basic)
    rows = [_row("ads_tier", "basic_plan", "arpu_usd_per_member_month", 0, fixed, fixed)]
    for _, e in est.iterrows():
        a = float(e["ad_minutes_per_hour"])
        d = _ad_load_truth(sales, users, a)
        hours_t = d["hours"].sum() / d["months"].sum()
        hrs = (e["hours"], e["hours_ci_low"], e["hours_ci_high"])
        arpu = [float(rev.ads_tier_arpu(price, h, a, sec, cpm_usd)) for h in hrs]
        arpu_t = float(rev.ads_tier_arpu(price, hours_t, a, sec, cpm_usd))
        cpm = [float(rev.break_even_cpm(basic - price, h, a, sec)) for h in hrs]
        cpm_t = float(rev.break_even_cpm(basic - price, hours_t, a, sec))
        name, n = f"ad_load_{a:g}", int(e["members"])
        truth = (arpu_t, np.nan, np.nan)
        gap = (arpu_t - basic, np.nan, np.nan)
        rows.append(_row("ads_tier", name, "arpu_usd_per_member_month", n, tuple(arpu), truth,
                         "basic_plan", gap))  # fmt: skip
        low_high = (cpm[0], cpm[2], cpm[1])  # more hours, a lower break-even CPM
        rows.append(
            _row("ads_tier", name, "break_even_cpm_usd", n, low_high, (cpm_t, np.nan, np.nan))
        )
    return pd.DataFrame(rows, columns=STUDY_COLUMNS)

"""Policy evaluation of the ads-tier levers against the simulator's truth (`SalesTruth`).

The ads-tier half of the sales studies (the other levers are in `persona_lib.evaluation.sales`,
whose tidy `STUDY_COLUMNS` frames, bootstrap and revenue conventions these share):
ad-category targeting from viewing signals, the randomized ad-load experiment (churn, hours and
revenue per arm over the experiment, a year and a lifetime) and the ads tier's revenue per
member month against the basic plan's price.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.constants import AD_CATEGORIES, Z95
from persona_lib.evaluation.sales import (
    STUDY_COLUMNS,
    features_or_compute,
    policy_table,
    study_row,
)
from persona_lib.models.sales.ad_targeting import AdCategoryModel
from persona_lib.revenue import sales as rev


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
    X = features_or_compute(world, sales, features)
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
    # hours per active month do not change with the month: total hours = months active x rate
    hours = active * t.expected_hours(users, arm)
    return {"churned": 1 - survive, "months": active, "hours": hours}


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
    from persona_lib.data.constants import PRICES
    from persona_lib.models.sales.ad_targeting import estimate_ad_load_arms

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
                study_row("ads_load", f"ad_load_{a:g}", metric, n, estimate, (t, np.nan, np.nan))
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
    from persona_lib.data.constants import PRICES
    from persona_lib.models.sales.ad_targeting import estimate_ad_load_arms

    exp = sales.tables["ad_load_experiment"]
    users = exp["user_id"].to_numpy(np.int64)
    est = estimate_ad_load_arms(exp)
    price, basic, sec = PRICES["ads"], PRICES["basic"], sales.config.ad_seconds
    fixed = (basic, basic, basic)
    rows = [study_row("ads_tier", "basic_plan", "arpu_usd_per_member_month", 0, fixed, fixed)]
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
        rows.append(study_row("ads_tier", name, "arpu_usd_per_member_month", n, tuple(arpu), truth,
                         "basic_plan", gap))  # fmt: skip
        low_high = (cpm[0], cpm[2], cpm[1])  # more hours, a lower break-even CPM
        rows.append(
            study_row("ads_tier", name, "break_even_cpm_usd", n, low_high, (cpm_t, np.nan, np.nan))
        )
    return pd.DataFrame(rows, columns=STUDY_COLUMNS)

"""A logged randomized offer campaign: whom to target, and what targeting the top share is worth.

Input is the ``campaigns`` table (`persona_lib.data.schema`: ``user_id, campaign, arm, ts,
converted, revenue``), one row per member of a campaign whose arm was drawn at random: a control
arm (``"control"`` by default) and one offer arm. Nothing here reads a simulator's truth, so the
same figures come out of a team's own logs and of a simulated world's exported offers
(`offer_campaign` turns the sales simulator's ``upgrade_offers`` log into this table).

1. `select_campaign` picks one campaign (the only one, or one by name).
2. `campaign_features` describes every member from the logs strictly before the campaign's first
   ``ts``: `member_features` (engagement, plan, price, tenure, ...) and the viewing profile
   (hours and genre shares, `viewing_profile`). `CAMPAIGN_FEATURES` are the columns the uplift
   model sees: plan and price (the plan's screens set how often a household is refused a
   stream), engagement and the share of family and animation viewing (households with children
   have more profiles).
3. `analyze_campaign` scores each member's uplift out of fold (`cross_fit_uplift`: no member is
   scored by a model that saw their outcome) and estimates, from the randomized outcomes alone,
   the conversions (and logged revenue) per 1,000 members of four policies, with ``n`` members,
   ``k = ceil(q n)`` targeted, control mean ``ybar_c`` and the targeted group's ``G`` treated-minus-
   control difference (`targeting_value`):

   - ``none``: ``ybar_c``, standard error ``sqrt(var_c / n_c)``;
   - ``uplift_top_<q>``: ``ybar_c + k (ybar_t(G) - ybar_c(G)) / n``;
   - ``random_<q>``: ``ybar_c + (k / n) ATE``; ``everyone``: ``ybar_c + ATE``;

   the three increments' standard errors added to the control's as if independent (normal 95 %
   intervals). The gain of targeting over a random share of the same size,
   ``(k / n) (ybar_t(G) - ybar_c(G) - ATE)``, gets a percentile bootstrap interval over members
   (scores fixed, members resampled).

`offer_truth_table` scores the same four decisions against a simulator's truth (simulated worlds
only), in the frame of `persona_lib.evaluation.sales` (`STUDY_COLUMNS`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from persona_lib.data.constants import PRICES, Z95
from persona_lib.data.schema import ALL_TABLES
from persona_lib.data.validation import validate
from persona_lib.evaluation.sales import policy_table
from persona_lib.evaluation.uplift import targeting_value
from persona_lib.models.sales.upsell import cross_fit_uplift, random_share, top_share
from persona_lib.revenue import sales as rev
from persona_lib.signals.features import member_features
from persona_lib.signals.sales_features import viewing_profile

__all__ = [
    "CAMPAIGN_FEATURES",
    "CONTROL_ARM",
    "CampaignAnalysis",
    "analyze_campaign",
    "campaign_features",
    "offer_campaign",
    "offer_truth_table",
    "select_campaign",
]

CONTROL_ARM = "control"
OFFER_ARM = "offer"
UPGRADE_CAMPAIGN = "upgrade_offer"
# few columns: conversions are a few percent, and noise columns dilute the uplift learner
CAMPAIGN_FEATURES = [
    "plan", "price", "sessions_per_week", "hours_28d", "tenure_days", "viewing_hours",
    "share_Family", "share_Animation",
]  # fmt: skip
LOG_FEATURE_TABLES = ("events", "users", "billing", "titles")
ESTIMATE_COLUMNS = [
    "policy", "n_members", "n_targeted", "estimate", "estimate_ci_low", "estimate_ci_high",
    "logged_revenue_per_1000", "logged_revenue_ci_low", "logged_revenue_ci_high",
]  # fmt: skip


def offer_campaign(
    offers: pd.DataFrame, campaign_date, campaign: str = UPGRADE_CAMPAIGN
) -> pd.DataFrame:
    """The sales simulator's ``upgrade_offers`` log as a ``campaigns`` table.

    Parameters
    ----------
    offers : user_id, offered, upgraded, from_plan, to_plan (one row per eligible member).
    campaign_date : when the offers went out (``SalesWorld.campaign_date``); every row's ``ts``.
    campaign : the campaign's name.

    Returns
    -------
    DataFrame validated as ``campaigns``: arm ``"offer"`` or ``"control"``, ``converted`` =
    upgraded, ``revenue`` = the upgrade's monthly list-price increase in USD (0 without one).

    Examples
    --------
    >>> offers = pd.DataFrame({"user_id": [0, 1], "offered": [True, False],
    ...                        "upgraded": [True, False], "from_plan": ["basic", "ads"],
    ...                        "to_plan": ["premium", None]})
    >>> offer_campaign(offers, "2025-04-01")["revenue"].round(2).tolist()
    [13.0, 0.0]
    """
    to_price = offers["to_plan"].astype(object).map(PRICES).astype(float)
    from_price = offers["from_plan"].astype(object).map(PRICES).astype(float)
    upgraded = offers["upgraded"].to_numpy(bool)
    frame = pd.DataFrame(
        {
            "user_id": offers["user_id"].to_numpy(),
            "campaign": campaign,
            "arm": np.where(offers["offered"].to_numpy(bool), OFFER_ARM, CONTROL_ARM),
            "ts": pd.Timestamp(campaign_date),
            "converted": upgraded,
            "revenue": np.where(upgraded, (to_price - from_price).fillna(0).to_numpy(), 0.0),
        }
    )
    return validate(frame, "campaigns", source=f"campaign {campaign!r}")


def select_campaign(campaigns: pd.DataFrame | None, campaign: str = "") -> pd.DataFrame:
    """The rows of one campaign: the only one when ``campaign`` is empty, else the one named.

    Raises
    ------
    ValueError
        No campaigns table or no rows; several campaigns and none named; an unknown name. The
        message lists the campaigns there are.

    Examples
    --------
    >>> rows = pd.DataFrame({"campaign": ["a", "a", "b"]})
    >>> select_campaign(rows, "b").index.tolist()
    [2]
    """
    if campaigns is None or len(campaigns) == 0:
        raise ValueError("no campaigns: the logs hold no campaigns table or it is empty")
    names = sorted(campaigns["campaign"].astype(str).unique())
    listed = ", ".join(repr(n) for n in names)
    if not campaign:
        if len(names) > 1:
            raise ValueError(
                f"the logs hold {len(names)} campaigns ({listed}); name one (CAMPAIGN)"
            )
        campaign = names[0]
    if campaign not in names:
        raise ValueError(f"no campaign {campaign!r} in the logs; campaigns: {listed}")
    return campaigns[campaigns["campaign"].astype(str).eq(campaign).to_numpy()]


def _empty(table: str) -> pd.DataFrame:
    columns = [c.name for c in ALL_TABLES[table].columns]
    return validate(pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}), table)


def campaign_features(tables: Mapping[str, pd.DataFrame], members, cutoff) -> pd.DataFrame:
    """One row per member of ``members``: `member_features` and the viewing profile at ``cutoff``.

    Parameters
    ----------
    tables : the logs by name; ``events``, ``users``, ``billing`` and ``titles`` are read
        (``notifications`` when present). Only rows strictly before ``cutoff`` count.
    members : user ids, in the order of the rows returned.
    cutoff : timestamp-like, the campaign's first ``ts``.

    Returns
    -------
    DataFrame: ``user_id``, the `member_features` columns (NaN for members not active at
    ``cutoff``) and ``viewing_hours``, ``titles_played``, ``days_since_play``,
    ``hours_per_day`` and ``share_<genre>``.

    Examples
    --------
    >>> X = campaign_features(world.tables, rows["user_id"], rows["ts"].min())  # doctest: +SKIP
    """
    missing = [t for t in LOG_FEATURE_TABLES if tables.get(t) is None]
    if missing:
        raise ValueError(f"campaign features need the tables {missing}")
    cutoff = pd.Timestamp(cutoff)
    users = pd.Index(np.asarray(members, dtype=np.int64))
    if users.has_duplicates:
        raise ValueError("members: a member appears twice")
    events = tables["events"]
    notes = tables.get("notifications")
    snap = member_features(events, tables["billing"], tables["users"], tables["titles"],
                           _empty("notifications") if notes is None else notes, cutoff)  # fmt: skip
    snap = snap.drop(columns=["cutoff"]).set_index("user_id")
    # the viewing profile on dense member positions: user ids need not be 0..n-1
    code = users.get_indexer(events["user_id"].to_numpy(np.int64))
    ev = events[code >= 0].assign(user_id=code[code >= 0])
    view = viewing_profile(ev, tables["titles"], max(users.size, 1), cutoff).iloc[: users.size]
    view = view.drop(columns="user_id").set_axis(users)
    out = snap.reindex(users).join(view)
    return out.rename_axis("user_id").reset_index()


@dataclass(frozen=True)
class CampaignAnalysis:
    """What `analyze_campaign` found.

    Attributes
    ----------
    campaign : the campaign's name.
    q : share of members targeted.
    members : one row per member, by ``user_id``: ``treated``, ``converted``, ``revenue``,
        ``score`` (out-of-fold uplift), ``fold``, ``targeted`` (top ``q`` by score).
    estimates : one row per policy (``none``, ``random_<q>``, ``uplift_top_<q>``,
        ``everyone``): conversions and logged revenue per 1,000 members with 95 % intervals.
    gain : targeting minus a random share of the same size, per 1,000 members:
        ``{"estimate", "ci_low", "ci_high"}`` (conversions).
    """

    campaign: str
    q: float
    members: pd.DataFrame
    estimates: pd.DataFrame
    gain: dict[str, float]

    def decisions(self, random_state: int = 0) -> dict[str, np.ndarray]:
        """Each policy's offer mask over `members` (random share drawn with ``random_state``)."""
        n = len(self.members)
        return {
            "none": np.zeros(n, bool),
            f"random_{self.q:g}": random_share(n, self.q, random_state),
            f"uplift_top_{self.q:g}": self.members["targeted"].to_numpy(bool),
            "everyone": np.ones(n, bool),
        }

    def to_dict(self) -> dict[str, object]:
        """Campaign, q, members and gain (JSON-safe); the estimates as records."""
        return {
            "campaign": self.campaign,
            "q": self.q,
            "n_members": len(self.members),
            "gain": dict(self.gain),
            "estimates": json.loads(self.estimates.to_json(orient="records")),
        }


def _policy_estimates(y, w, score, q: float) -> dict[str, tuple[float, float, float]]:
    """(estimate, low, high) per member of each policy, as in the module docstring."""
    n = y.size
    yc = y[~w]
    mean_c, var_c = yc.mean(), yc.var() / yc.size
    tv = targeting_value(y, w, score, fractions=(q, 1.0))
    k = tv["n_targeted"].iloc[0]
    increments = {
        f"random_{q:g}": (k / n * tv["incremental_model"].iloc[1],
                          k / n * tv["incremental_model_se"].iloc[1]),
        f"uplift_top_{q:g}": (tv["incremental_model"].iloc[0], tv["incremental_model_se"].iloc[0]),
        "everyone": (tv["incremental_model"].iloc[1], tv["incremental_model_se"].iloc[1]),
    }  # fmt: skip
    out = {"none": (mean_c, np.sqrt(var_c))}
    for name, (incremental, se) in increments.items():
        out[name] = (mean_c + incremental / n, np.sqrt(var_c + (se / n) ** 2))
    return {k: (m, m - Z95 * s, m + Z95 * s) for k, (m, s) in out.items()}


def _gain_draws(y, w, g, n_boot: int, random_state: int) -> np.ndarray:
    """Bootstrap draws of ``(k / n) (uplift in G - ATE)`` per member, members resampled."""
    rng = np.random.default_rng(random_state)
    n = y.size
    cols = np.column_stack([w, ~w, y * w, y * ~w]).astype(np.float64)
    draws = np.empty(n_boot)
    for start in range(0, n_boot, 50):  # batches keep the count matrix small
        b = min(50, n_boot - start)
        counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(b)])
        every, top = counts @ cols, (counts * g) @ cols
        with np.errstate(invalid="ignore", divide="ignore"):
            ate = every[:, 2] / every[:, 0] - every[:, 3] / every[:, 1]
            lift = top[:, 2] / top[:, 0] - top[:, 3] / top[:, 1]
        draws[start : start + b] = (top[:, 0] + top[:, 1]) / n * (lift - ate)
    return draws


def analyze_campaign(
    rows: pd.DataFrame,
    features: pd.DataFrame,
    q: float = 0.3,
    feature_columns: list[str] | None = None,
    control_arm: str = CONTROL_ARM,
    n_folds: int = 2,
    learner: str = "x",
    n_boot: int = 500,
    random_state: int = 0,
) -> CampaignAnalysis:
    """Cross-fitted uplift targeting of one randomized campaign, valued from its logged outcomes.

    Parameters
    ----------
    rows : one campaign's rows of the ``campaigns`` table (`select_campaign`), one per member.
    features : ``user_id`` and ``feature_columns`` for every member of ``rows``
        (`campaign_features`).
    q : share of members to target, in (0, 1].
    feature_columns : the uplift model's inputs; default `CAMPAIGN_FEATURES`.
    control_arm : the arm that got no offer; the campaign must have exactly one other arm.
    n_folds, learner : `cross_fit_uplift`.
    n_boot, random_state : bootstrap of the targeting gain; seed of folds, model and bootstrap.

    Returns
    -------
    CampaignAnalysis

    Raises
    ------
    ValueError
        Several campaigns, a member twice, arms other than ``control_arm`` and one offer arm,
        an arm without members, members without features, ``q`` outside (0, 1].

    Examples
    --------
    >>> result = analyze_campaign(select_campaign(logs.campaigns), X, q=0.3)  # doctest: +SKIP
    >>> result.estimates.set_index("policy").loc["uplift_top_0.3", "estimate"]  # doctest: +SKIP
    """
    if not 0 < q <= 1:
        raise ValueError(f"q must be in (0, 1], got {q}")
    names = rows["campaign"].astype(str).unique()
    if len(names) != 1:
        raise ValueError(f"rows must hold one campaign, got {len(names)}: {sorted(names)}")
    if rows["user_id"].duplicated().any():
        raise ValueError(f"campaign {names[0]!r}: a member appears in more than one row")
    arms = sorted(rows["arm"].astype(str).unique())
    others = [a for a in arms if a != control_arm]
    if control_arm not in arms or len(others) != 1:
        raise ValueError(
            f"campaign {names[0]!r} must have the arm {control_arm!r} and one offer arm; "
            f"arms: {arms}"
        )
    rows = rows.sort_values("user_id", kind="stable", ignore_index=True)
    users = rows["user_id"].to_numpy(np.int64)
    columns = list(CAMPAIGN_FEATURES if feature_columns is None else feature_columns)
    X = features.set_index("user_id")
    absent = np.setdiff1d(users, X.index.to_numpy())
    if absent.size:
        raise ValueError(
            f"features lack {absent.size} campaign members, e.g. {absent[:5].tolist()}"
        )
    X = X.loc[users, columns].reset_index(drop=True)
    w = rows["arm"].astype(str).ne(control_arm).to_numpy()
    y = rows["converted"].to_numpy(np.float64)
    revenue = rows["revenue"].to_numpy(np.float64)
    score, fold = cross_fit_uplift(X, w, y, n_folds, learner, random_state=random_state)
    g = top_share(score, q)
    conv, money = _policy_estimates(y, w, score, q), _policy_estimates(revenue, w, score, q)
    n, k = users.size, int(g.sum())
    estimates = pd.DataFrame(
        [(p, n, {"none": 0, "everyone": n}.get(p, k), *(1000 * np.asarray(conv[p])),
          *(1000 * np.asarray(money[p]))) for p in conv],
        columns=ESTIMATE_COLUMNS,
    )  # fmt: skip
    draws = _gain_draws(y, w, g, n_boot, random_state)
    point = k / n * ((y[g & w].mean() - y[g & ~w].mean()) - (y[w].mean() - y[~w].mean()))
    low, high = np.nanquantile(draws, [0.025, 0.975])
    members = pd.DataFrame(
        {"user_id": users, "treated": w, "converted": y.astype(bool), "revenue": revenue,
         "score": score, "fold": fold, "targeted": g}
    )  # fmt: skip
    gain = {
        "estimate": 1000 * float(point),
        "ci_low": 1000 * float(low),
        "ci_high": 1000 * float(high),
    }
    return CampaignAnalysis(str(names[0]), float(q), members, estimates, gain)


def offer_truth_table(
    analysis: CampaignAnalysis,
    truth,
    monthly_churn: float,
    horizon_months: int = rev.HORIZON_MONTHS,
    discount_months: float = rev.OFFER_DISCOUNT_MONTHS,
    n_boot: int = 500,
    random_state: int = 0,
) -> pd.DataFrame:
    """The analysis's decisions scored against a simulator's upgrade truth (simulated worlds only).

    Parameters
    ----------
    analysis : `analyze_campaign` of an upgrade-offer campaign.
    truth : has ``p_upgrade(user_ids, offered)`` and ``upgrade_price_delta(user_ids)``
        (`persona_lib.sim.sales.SalesTruth`).
    monthly_churn, horizon_months, discount_months : revenue as `upgrade_revenue`, incremental
        against no offer.
    n_boot, random_state : bootstrap over members (`policy_table`); ``random_state`` also draws
        the random share, as in `CampaignAnalysis.decisions`.

    Returns
    -------
    DataFrame in `persona_lib.evaluation.sales.STUDY_COLUMNS`: lever ``upsell``, metric
    ``upgrades_per_1000``; ``estimate`` columns are the analysis's, ``truth`` and ``diff``
    (``uplift_top`` against ``random``, the others against ``none``) the simulator's.
    """
    users = analysis.members["user_id"].to_numpy(np.int64)
    delta = truth.upgrade_price_delta(users)
    base = rev.upgrade_revenue(truth.p_upgrade(users, False), delta, False, monthly_churn,
                               horizon_months)  # fmt: skip
    outcomes, revenue = {}, {}
    for name, offer in analysis.decisions(random_state).items():
        outcomes[name] = truth.p_upgrade(users, offer)
        revenue[name] = rev.upgrade_revenue(outcomes[name], delta, offer, monthly_churn,
                                            horizon_months, discount_months) - base  # fmt: skip
    est = analysis.estimates.set_index("policy")
    estimates = {p: tuple(est.loc[p, ["estimate", "estimate_ci_low", "estimate_ci_high"]])
                 for p in outcomes}  # fmt: skip
    q = analysis.q
    compare = {f"random_{q:g}": "none", f"uplift_top_{q:g}": f"random_{q:g}", "everyone": "none"}
    return policy_table("upsell", "upgrades_per_1000", outcomes, revenue, compare, estimates,
                        n_boot=n_boot, random_state=random_state)  # fmt: skip

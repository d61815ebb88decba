"""A logged randomized offer campaign: selection, features, targeting estimates, truth table.

Hand-made tables: a campaign whose offer works only for members with a feature ``x = 1``, so
the estimates can be computed by hand from the rows.
"""

import json

import numpy as np
import pandas as pd
import pytest

from persona_lib.data import validate
from persona_lib.evaluation.campaigns import (
    CampaignAnalysis,
    analyze_campaign,
    campaign_features,
    offer_campaign,
    offer_truth_table,
    select_campaign,
)
from persona_lib.evaluation.sales import STUDY_COLUMNS
from persona_lib.sim import load_preset, simulate


def campaign_rows(n_per_cell: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members in four equal cells (x in {0, 1}) x (offer, control); converted: offer & x = 1
    converts 40 %, everyone else 10 %."""
    cells = []
    uid = 0
    for x in (0, 1):
        for arm in ("offer", "control"):
            rate = 0.4 if (x == 1 and arm == "offer") else 0.1
            k = int(rate * n_per_cell)
            for i in range(n_per_cell):
                cells.append((uid, "spring", arm, "2025-04-01", i < k, 9.0 if i < k else 0.0, x))
                uid += 1
    frame = pd.DataFrame(cells, columns=["user_id", "campaign", "arm", "ts", "converted",
                                         "revenue", "x"])  # fmt: skip
    features = frame[["user_id", "x"]].assign(x=lambda f: f["x"].astype(float))
    return validate(frame.drop(columns="x"), "campaigns"), features


def test_offer_campaign_maps_the_offer_log():
    offers = pd.DataFrame({
        "user_id": [0, 1, 2], "offered": [True, False, True], "upgraded": [True, True, False],
        "from_plan": pd.Categorical(["basic", "standard", "ads"]),
        "to_plan": pd.Categorical(["standard", "premium", None]),
    })  # fmt: skip
    out = offer_campaign(offers, "2025-04-01")
    assert out["arm"].tolist() == ["offer", "control", "offer"]
    assert out["converted"].tolist() == [True, True, False]
    assert out["campaign"].eq("upgrade_offer").all()
    assert (out["ts"] == pd.Timestamp("2025-04-01")).all()
    # monthly list-price increase of the upgrade, 0 without one
    assert out["revenue"].round(2).tolist() == [6.0, 7.0, 0.0]  # 17.99 - 11.99, 24.99 - 17.99


def test_select_campaign_picks_the_only_one_or_the_named_one():
    rows = pd.DataFrame({"campaign": ["a", "a", "b"], "user_id": [0, 1, 0]})
    assert select_campaign(rows.iloc[:2]).index.tolist() == [0, 1]
    assert select_campaign(rows, "b").index.tolist() == [2]
    with pytest.raises(ValueError, match=r"the logs hold 2 campaigns \('a', 'b'\); name one"):
        select_campaign(rows)
    with pytest.raises(ValueError, match=r"no campaign 'c' in the logs; campaigns: 'a', 'b'"):
        select_campaign(rows, "c")
    with pytest.raises(ValueError, match="no campaigns"):
        select_campaign(None)


def test_estimates_by_hand():
    rows, features = campaign_rows()
    # q = 0.5 with a score that ranks the x = 1 members first: the target group is x = 1
    result = analyze_campaign(rows, features, q=0.5, feature_columns=["x"], n_folds=2,
                              learner="t", n_boot=50)  # fmt: skip
    assert isinstance(result, CampaignAnalysis)
    m = result.members
    assert m["targeted"].sum() == 800
    # the learner finds the cell that responds: x = 1 targeted
    x = features.set_index("user_id").loc[m["user_id"], "x"].to_numpy()
    assert (m["targeted"].to_numpy() == (x == 1)).all()
    est = result.estimates.set_index("policy")
    # control mean 0.1; ATE = 0.25 - 0.1 = 0.15; targeted group uplift 0.4 - 0.1 = 0.3
    assert est.loc["none", "estimate"] == pytest.approx(100.0)
    assert est.loc["everyone", "estimate"] == pytest.approx(250.0)
    assert est.loc["random_0.5", "estimate"] == pytest.approx(100 + 0.5 * 150)
    assert est.loc["uplift_top_0.5", "estimate"] == pytest.approx(100 + 0.5 * 300)
    # logged revenue: 9 USD per conversion
    assert est.loc["uplift_top_0.5", "logged_revenue_per_1000"] == pytest.approx(9 * 250)
    # gain over a random half: 0.5 (0.3 - 0.15) per member
    assert result.gain["estimate"] == pytest.approx(75.0)
    assert result.gain["ci_low"] < 75.0 < result.gain["ci_high"]
    for low, mid, high in est[["estimate_ci_low", "estimate", "estimate_ci_high"]].to_numpy():
        assert low <= mid <= high
    assert json.loads(json.dumps(result.to_dict()))["n_members"] == 1600


def test_estimates_do_not_depend_on_row_order():
    rows, features = campaign_rows()
    kwargs = dict(q=0.5, feature_columns=["x"], learner="t", n_boot=50, random_state=3)
    a = analyze_campaign(rows, features, **kwargs)
    b = analyze_campaign(rows.iloc[::-1], features.sample(frac=1, random_state=1), **kwargs)
    pd.testing.assert_frame_equal(a.estimates, b.estimates)
    assert a.gain == b.gain


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda r: r.assign(arm="offer"), r"must have the arm 'control' and one offer arm"),
        (lambda r: r.assign(arm=np.where(r["user_id"] % 3 == 0, "b", r["arm"])), "one offer arm"),
        (lambda r: pd.concat([r, r.iloc[:1]]), "more than one row"),
        (lambda r: r.assign(campaign=np.where(r["user_id"] < 5, "x", "y")), "one campaign"),
    ],
)
def test_invalid_campaigns(change, match):
    rows, features = campaign_rows()
    with pytest.raises(ValueError, match=match):
        analyze_campaign(change(rows), features, feature_columns=["x"], n_boot=50)


def test_members_without_features_and_bad_share():
    rows, features = campaign_rows()
    with pytest.raises(ValueError, match="features lack 1 campaign members"):
        analyze_campaign(rows, features.iloc[1:], feature_columns=["x"], n_boot=50)
    with pytest.raises(ValueError, match=r"q must be in \(0, 1\]"):
        analyze_campaign(rows, features, q=0.0, feature_columns=["x"], n_boot=50)


def test_campaign_features_count_only_rows_before_the_cutoff():
    world = simulate(load_preset("smoke"))
    cutoff = pd.Timestamp(world.events["ts"].max()) - pd.Timedelta(days=3)
    members = [5, 2, 40]
    X = campaign_features(world.tables, members, cutoff)
    assert X["user_id"].tolist() == members
    stops = world.events[(world.events["event_type"] == "play_stop")
                         & (world.events["ts"] < cutoff)]  # fmt: skip
    hours = stops.groupby("user_id")["watch_s"].sum().reindex(members).fillna(0) / 3600
    assert X["viewing_hours"].to_numpy() == pytest.approx(hours.to_numpy())
    # notifications are optional: without them the same viewing features come out
    tables = {k: v for k, v in world.tables.items() if k != "notifications"}
    Y = campaign_features(tables, members, cutoff)
    assert Y["viewing_hours"].tolist() == X["viewing_hours"].tolist()
    with pytest.raises(ValueError, match=r"need the tables \['billing'\]"):
        campaign_features({k: v for k, v in tables.items() if k != "billing"}, members, cutoff)


class _Truth:
    """Upgrade oracle: offer raises the probability from 0.1 to 0.5 for x = 1 members only."""

    def __init__(self, x):
        self.x = np.asarray(x)

    def p_upgrade(self, user_ids, offered):
        u = np.asarray(user_ids)
        offer = np.broadcast_to(np.asarray(offered, bool), u.shape)
        return np.where(offer & (self.x[u] == 1), 0.5, 0.1)

    def upgrade_price_delta(self, user_ids):
        return np.full(np.size(user_ids), 6.5)


def test_offer_truth_table_scores_the_same_decisions():
    rows, features = campaign_rows()
    result = analyze_campaign(rows, features, q=0.5, feature_columns=["x"], learner="t",
                              n_boot=50)  # fmt: skip
    truth = _Truth(features.sort_values("user_id")["x"].to_numpy())
    table = offer_truth_table(result, truth, monthly_churn=0.05, n_boot=50)
    assert list(table.columns) == STUDY_COLUMNS
    t = table.set_index("policy")
    assert t.loc["none", "truth"] == pytest.approx(100.0)
    assert t.loc["everyone", "truth"] == pytest.approx(300.0)
    assert t.loc["uplift_top_0.5", "truth"] == pytest.approx(300.0)  # the whole x = 1 half
    assert t.loc["uplift_top_0.5", "compare_to"] == "random_0.5"
    assert (
        t.loc["uplift_top_0.5", "estimate"]
        == result.estimates.set_index("policy").loc["uplift_top_0.5", "estimate"]
    )
    assert t.loc["none", "revenue_per_1000"] == 0.0

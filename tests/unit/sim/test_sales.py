"""The sales world: determinism, the base world untouched, randomization, logs agree with truth."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from persona_lib.data import AD_CATEGORIES
from persona_lib.sim import load_preset, simulate
from persona_lib.sim.sales.config import WINBACK_ARMS, SalesConfig
from persona_lib.sim.sales.simulator import SALES_TABLES, simulate_sales

Z_MAX = 4.0


@pytest.fixture(scope="module")
def world():
    return simulate(load_preset("smoke").replace(n_users=2000))


@pytest.fixture(scope="module")
def sales(world):
    return simulate_sales(world)


def _z(observed: float, p: np.ndarray, weights: np.ndarray | None = None) -> float:
    """z of a count of Bernoulli successes (``weights`` trials each) against their true means."""
    w = np.ones_like(p) if weights is None else weights
    expected, var = np.sum(w * p), np.sum(w * p * (1 - p))
    return (observed - expected) / np.sqrt(max(var, 1e-12))


def _digest(frame: pd.DataFrame) -> tuple:
    return (
        tuple(frame.columns),
        tuple(str(t) for t in frame.dtypes),
        int(pd.util.hash_pandas_object(frame, index=True).sum()),
    )


def test_two_runs_give_identical_frames(world, sales):
    again = simulate_sales(world)
    assert list(sales.tables) == list(SALES_TABLES)
    for name in SALES_TABLES:
        pd.testing.assert_frame_equal(sales.tables[name], again.tables[name])
    for name, frame in sales.truth.tables.items():
        pd.testing.assert_frame_equal(frame, again.truth.tables[name])
    other = simulate_sales(world, SalesConfig(random_state=1))
    assert not other.tables["upgrade_offers"]["offered"].equals(
        sales.tables["upgrade_offers"]["offered"]
    )


def test_the_base_world_is_not_changed(world):
    before = {n: _digest(f) for n, f in {**world.tables, **world.truth.tables}.items()}
    simulate_sales(world)
    after = {n: _digest(f) for n, f in {**world.tables, **world.truth.tables}.items()}
    assert before == after


def test_logs_have_explicit_dtypes_and_no_truth_columns(world, sales):
    t = sales.tables
    for name, frame in t.items():
        for col in frame.columns:
            if col.endswith("_id"):
                assert str(frame[col].dtype) in ("int32", "Int32"), (name, col)
        for col in ("plan", "from_plan", "to_plan", "arm", "category"):
            if col in frame:
                assert isinstance(frame[col].dtype, pd.CategoricalDtype), (name, col)
        forbidden = ("p_", "logit", "uplift", "taste", "quality", "gamer", "clicker", "hazard",
                     "ctr", "fit", "responsiv", "affinity", "truth")  # fmt: skip
        bad = [c for c in frame.columns if any(f in c for f in forbidden)]
        assert not bad, (name, bad)
    assert sales.campaign_date == np.datetime64("2025-01-31")
    offers = t["upgrade_offers"]
    assert (offers["from_plan"] != "premium").all()
    assert offers["to_plan"].isna().eq(~offers["upgraded"]).all()
    wb = t["winback_messages"]
    assert wb["featured_title_id"].isna().eq(wb["arm"] != "featured").all()
    assert wb["featured_title_id"].dropna().isin(t["featurable_titles"]["title_id"]).all()
    assert t["households"]["n_profiles"].between(1, 5).all()
    assert (t["ad_impressions"]["clicks"] <= t["ad_impressions"]["impressions"]).all()


def test_randomized_arms_are_balanced(sales):
    offers = sales.tables["upgrade_offers"]
    n = len(offers)
    assert abs(offers["offered"].sum() - n / 2) / np.sqrt(n / 4) < Z_MAX
    for table, col, k in (
        ("winback_messages", "arm", len(WINBACK_ARMS)),
        ("ad_load_experiment", "ad_minutes_per_hour", len(sales.config.ad_load_arms)),
    ):
        counts = sales.tables[table][col].value_counts().to_numpy()
        assert counts.size == k
        assert stats.chisquare(counts).pvalue > 1e-4, (table, counts)  # no sample-ratio mismatch


def test_logged_outcomes_agree_with_the_truth(sales):
    t, truth = sales.tables, sales.truth
    o = t["upgrade_offers"]
    for offered in (False, True):
        arm = o[o["offered"] == offered]
        p = truth.p_upgrade(arm["user_id"], offered)
        assert abs(_z(arm["upgraded"].sum(), p)) < Z_MAX, offered
    wb = t["winback_messages"]
    titles = wb["featured_title_id"].to_numpy(dtype=float, na_value=np.nan)
    p = truth.p_reactivate(wb["user_id"], titles, wb["arm"].cat.codes.to_numpy())
    assert abs(_z(wb["reactivated"].sum(), p)) < Z_MAX
    ge = t["game_exposures"]
    assert abs(_z(ge["adopted"].sum(), truth.p_adopt(ge["user_id"], ge["game_id"]))) < Z_MAX
    assert len(t["game_plays"]) == ge["adopted"].sum()
    ai = t["ad_impressions"]
    ctr = truth.ctr(ai["user_id"], ai["category"].cat.codes.to_numpy())
    assert abs(_z(ai["clicks"].sum(), ctr, ai["impressions"].to_numpy())) < Z_MAX
    al = t["ad_load_experiment"]
    months = sales.config.ad_months
    for ad, arm in al.groupby("ad_minutes_per_hour"):
        p = truth.p_churn_within(arm["user_id"], ad, months)
        assert abs(_z(arm["churned"].sum(), p)) < Z_MAX, ad
        expected = truth.expected_total_hours(arm["user_id"], ad, months).sum()
        assert arm["hours"].sum() == pytest.approx(expected, rel=0.1)


def test_offer_uplift_grows_with_profiles_and_blocks(sales):
    o = sales.tables["upgrade_offers"]
    h = sales.tables["households"].set_index("user_id").loc[o["user_id"]]
    uplift = sales.truth.p_upgrade(o["user_id"], True) - sales.truth.p_upgrade(o["user_id"], False)
    by_profiles = pd.Series(uplift).groupby(np.minimum(h["n_profiles"].to_numpy(), 3)).mean()
    assert by_profiles.is_monotonic_increasing and by_profiles.iloc[0] < 0.002
    blocked = h["concurrent_blocks_30d"].to_numpy() > 0
    assert uplift[blocked].mean() > 3 * uplift[~blocked].mean()
    assert np.all(sales.truth.upgrade_price_delta(o["user_id"]) > 0)


def test_better_fitting_featured_title_reactivates_more(world, sales):
    users = sales.tables["winback_messages"]["user_id"].to_numpy()
    titles = sales.tables["featurable_titles"]["title_id"].to_numpy()
    fit = np.stack([world.truth.fit(users, np.full(users.size, x)) for x in titles], axis=1)
    best, worst = titles[fit.argmax(1)], titles[fit.argmin(1)]
    p_best = sales.truth.p_reactivate(users, best, "featured")
    p_worst = sales.truth.p_reactivate(users, worst, "featured")
    p_none = sales.truth.p_reactivate(users, None, "none")
    assert np.all(p_best > p_worst) and p_best.mean() > 1.5 * p_none.mean()
    active = np.setdiff1d(np.arange(world.config.n_users), users)[:3]
    with pytest.raises(ValueError, match="not lapsed"):
        sales.truth.p_reactivate(active, -1, "generic")


def test_targeting_by_true_taste_raises_ctr_and_adoption(sales):
    users = sales.tables["ad_impressions"]["user_id"].unique()
    ctr = np.stack([sales.truth.ctr(users, c) for c in AD_CATEGORIES], axis=1)
    assert ctr.max(1).mean() > 1.3 * ctr.mean()
    assert 5e-4 < ctr.mean() < 5e-3
    n_games = sales.config.n_games
    p = sales.truth.p_adopt(np.repeat(users, n_games), np.tile(np.arange(n_games), users.size))
    p = p.reshape(users.size, n_games)
    assert p.max(1).mean() > 2 * p.mean()


def test_more_ad_load_means_more_churn_and_fewer_hours(sales):
    users = sales.tables["ad_load_experiment"]["user_id"].to_numpy()
    churn = [sales.truth.monthly_churn(users, a) for a in (2.0, 4.0, 6.0)]
    hours = [sales.truth.expected_hours(users, a) for a in (2.0, 4.0, 6.0)]
    assert np.all(churn[0] < churn[1]) and np.all(churn[1] < churn[2])
    assert np.all(hours[0] > hours[1]) and np.all(hours[1] > hours[2])
    assert 0.005 < churn[1].mean() < 0.05


def test_config_is_validated():
    with pytest.raises(ValueError, match="SalesConfig.n_games must be > 0"):
        SalesConfig(n_games=0)
    with pytest.raises(ValueError, match=r"offer_share must be in \[0, 1\]"):
        SalesConfig().replace(offer_share=1.5)
    assert SalesConfig().ads_per_hour == 8.0


def test_codes_of_maps_names_and_codes_and_names_the_bad_argument():
    from persona_lib.sim.sales.config import codes_of

    arms = ("none", "generic", "featured")
    assert codes_of(["generic", "none"], arms, "arm", 2).tolist() == [1, 0]
    assert codes_of("featured", arms, "arm", 3).tolist() == [2, 2, 2]
    assert codes_of(np.array([0, 2]), arms, "arm", 2).tolist() == [0, 2]
    with pytest.raises(ValueError, match=r"arm must be among \('none', 'generic', 'featured'\)"):
        codes_of(["coupon"], arms, "arm", 1)
    with pytest.raises(ValueError, match=r"arm codes must be in 0..2"):
        codes_of(np.array([3]), arms, "arm", 1)

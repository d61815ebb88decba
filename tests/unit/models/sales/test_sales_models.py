"""Models of the sales levers on small synthetic data with a planted answer."""

import numpy as np
import pandas as pd
import pytest

from persona_lib.data import AD_CATEGORIES, GENRES
from persona_lib.models.sales import (
    AdCategoryModel,
    FeaturedTitleChooser,
    ReactivationModel,
    cross_fit_uplift,
    estimate_ad_load_arms,
    popular_title,
    random_share,
    random_titles,
    top_share,
)
from persona_lib.models.sales.cross_sell import GameAffinityModel, GamePopularity, game_genre_matrix

SHARES = [f"share_{g}" for g in GENRES]


def members_with(genre_of_user: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(0.0, index=range(len(genre_of_user)), columns=SHARES)
    for u, g in enumerate(genre_of_user):
        out.loc[u, f"share_{g}"] = 1.0
    out.insert(0, "user_id", np.arange(len(genre_of_user), dtype=np.int32))
    return out


def test_top_and_random_share():
    np.testing.assert_array_equal(top_share([0.1, 0.5, 0.3, 0.2], 0.5), [0, 1, 1, 0])
    assert top_share([3.0, 1.0, 2.0], 0.1).sum() == 1  # ceil(0.3) = 1
    mask = random_share(10, 0.3, random_state=1)
    assert mask.sum() == 3
    np.testing.assert_array_equal(mask, random_share(10, 0.3, random_state=1))
    with pytest.raises(ValueError, match="q must be"):
        top_share([1.0], 1.5)


def test_cross_fit_uplift_ranks_the_planted_effect():
    rng = np.random.default_rng(0)
    n = 6000
    x = rng.integers(1, 5, n)  # profiles: the effect grows with them
    w = rng.random(n) < 0.5
    y = rng.random(n) < 0.02 + w * 0.03 * (x - 1)
    X = pd.DataFrame({"n_profiles": x, "noise": rng.normal(size=n)})
    score, fold = cross_fit_uplift(X, w, y, n_folds=2, random_state=0)
    assert np.bincount(fold).tolist() == [3000, 3000]
    assert np.corrcoef(score, x)[0, 1] > 0.8
    with pytest.raises(ValueError, match="n_folds"):
        cross_fit_uplift(X, w, y, n_folds=1)
    with pytest.raises(ValueError, match="learner"):
        cross_fit_uplift(X, w, y, learner="s")


def _events(plays):
    """play_stop rows (user, title, seconds) one minute apart."""
    ts = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(len(plays)), unit="min")
    return pd.DataFrame(
        {
            "ts": ts,
            "user_id": [p[0] for p in plays],
            "title_id": [p[1] for p in plays],
            "event_type": "play_stop",
            "watch_s": [float(p[2]) for p in plays],
        }
    )


TITLES = pd.DataFrame(
    {
        "title_id": np.arange(4),
        "genres": ["Horror", "Comedy", "Horror", "Comedy|Family"],
        "language": ["en", "en", "en", "en"],
    }
)


def test_featured_title_follows_the_viewing_profile():
    # member 0 watches horror, member 1 comedy; title 3 (comedy) is the most played overall
    plays = [(0, 0, 3600), (1, 1, 3600), (2, 3, 600), (3, 3, 600), (4, 3, 600)]
    chooser = FeaturedTitleChooser("profile", pop_weight=0.01).fit(_events(plays), TITLES, 5)
    np.testing.assert_array_equal(chooser.choose([0, 1], [2, 3]), [2, 3])
    assert popular_title(_events(plays), [2, 3]) == 3
    assert set(random_titles(20, [2, 3], random_state=0)) <= {2, 3}
    with pytest.raises(ValueError, match="method"):
        FeaturedTitleChooser("bogus").fit(_events(plays), TITLES, 5)
    with pytest.raises(ValueError, match="candidates"):
        chooser.choose([0], [9])
    with pytest.raises(RuntimeError, match="not fitted"):
        FeaturedTitleChooser().score([0], [1])


def test_reactivation_model_learns_that_long_lapses_come_back_less():
    rng = np.random.default_rng(1)
    days = rng.integers(1, 365, 3000)
    X = pd.DataFrame({"days_lapsed": days, "hours_per_day": rng.random(3000)})
    y = rng.random(3000) < 0.2 * np.exp(-days / 100)
    model = ReactivationModel().fit(X, y)
    p = model.predict_proba(X)
    rank = pd.Series(p).rank().corr(pd.Series(-days).rank())
    assert rank > 0.9
    assert model.model_.coef_[0][0] < 0
    with pytest.raises(ValueError, match="days_lapsed"):
        model.predict_proba(X.drop(columns="days_lapsed"))
    with pytest.raises(ValueError, match="y must be binary"):
        ReactivationModel().fit(X, np.full(3000, 2))


GAMES = pd.DataFrame({"game_id": np.arange(3), "genres": ["Action", "Comedy", "Action|Comedy"]})


def _exposures(rng, n_users=400):
    genre = np.where(np.arange(n_users) % 2 == 0, "Action", "Comedy")
    members = members_with(list(genre))
    users = np.repeat(np.arange(n_users), 3)
    games = np.tile(np.arange(3), n_users)
    match = game_genre_matrix(GAMES)[games] @ members[SHARES].to_numpy().T
    p = 0.03 + 0.3 * match[np.arange(users.size), users]
    return members, pd.DataFrame(
        {"user_id": users, "game_id": games, "adopted": rng.random(users.size) < p}
    )


def test_game_model_recommends_games_of_the_watched_genre():
    members, exposures = _exposures(np.random.default_rng(2))
    model = GameAffinityModel().fit(exposures, members, GAMES)
    recs = model.recommend(members.iloc[:2], k=1)
    assert recs["game_id"].tolist() == [0, 1]  # the Action fan gets the Action game
    seen = pd.DataFrame({"user_id": [0], "game_id": [0]})
    assert model.recommend(members.iloc[:1], k=3, seen=seen)["game_id"].tolist()[0] != 0
    pop = GamePopularity().fit(exposures, 3).recommend([0, 1], k=2, seen=seen)
    assert (pop.groupby("user_id").size() == [2, 2]).all()
    assert 0 not in pop.loc[pop["user_id"] == 0, "game_id"].tolist()
    with pytest.raises(ValueError, match="interactions"):
        GameAffinityModel("bilinear").fit(exposures, members, GAMES)
    with pytest.raises(ValueError, match="k must be"):
        model.recommend(members, k=0)


def test_ad_model_serves_each_viewer_the_category_they_answer():
    rng = np.random.default_rng(3)
    genre = ["Sci-Fi", "Reality"] * 300
    members = members_with(genre)
    rows = []
    for u, g in enumerate(genre):
        for c in ("tech", "food"):
            good = (g == "Sci-Fi") == (c == "tech")
            clicks = rng.binomial(400, 0.02 if good else 0.002)
            rows.append((u, c, 400, clicks))
    imp = pd.DataFrame(rows, columns=["user_id", "category", "impressions", "clicks"])
    imp["category"] = pd.Categorical(imp["category"], categories=list(AD_CATEGORIES))
    model = AdCategoryModel().fit(imp, members)
    best = np.array(AD_CATEGORIES)[model.best_category(members.iloc[:2])]
    assert best.tolist() == ["tech", "food"]
    with pytest.raises(ValueError, match="impressions lacks"):
        AdCategoryModel().fit(imp.drop(columns="clicks"), members)


def test_ad_load_arms_by_hand():
    exp = pd.DataFrame(
        {
            "ad_minutes_per_hour": [2.0, 2.0, 6.0, 6.0],
            "months_active": [6, 3, 6, 6],
            "churned": [False, True, False, False],
            "hours": [12.0, 3.0, 6.0, 6.0],
        }
    )
    out = estimate_ad_load_arms(exp)
    assert out["churn"].tolist() == pytest.approx([1 / 9, 0.0])
    assert out["hours"].tolist() == pytest.approx([15 / 9, 1.0])
    assert out["churn_within"].tolist() == pytest.approx([0.5, 0.0])
    assert out.loc[0, "churn_ci_low"] < 1 / 9 < out.loc[0, "churn_ci_high"]
    with pytest.raises(ValueError, match="experiment lacks"):
        estimate_ad_load_arms(exp.drop(columns="hours"))

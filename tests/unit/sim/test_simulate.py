"""The simulated world: schema, determinism, calibration, truth and policies in the loop."""

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT32, approx32

from persona_lib.data import PopularityGenrePolicy, schema, validate_world
from persona_lib.signals import monthly_churn
from persona_lib.sim import SimulationConfig, load_preset, simulate

TINY = SimulationConfig(n_users=400, n_titles=120, n_days=12, random_state=3)


@pytest.fixture(scope="module")
def world():
    return simulate(load_preset("smoke"))


def test_tables_have_exactly_the_schema_dtypes(world):
    for name, frame in world.tables.items():
        spec = schema.TABLES[name]
        assert list(frame.columns) == spec.names, name
        for col in spec.columns:
            expected = schema.canonical_dtype(col)
            if expected == "category":
                assert isinstance(frame[col.name].dtype, pd.CategoricalDtype)
            else:
                assert frame[col.name].dtype == expected, (name, col.name)
    start = np.datetime64(world.config.start_date, "ms")
    window = (start, start + np.timedelta64(world.config.n_days + 3, "D"))
    validate_world(world.tables, "smoke", window=window)


def test_events_are_sorted_compact_and_consistent(world):
    e = world.events
    assert np.array_equal(e["event_id"].to_numpy(), np.arange(len(e)))
    assert e["ts"].is_monotonic_increasing
    assert e.memory_usage(deep=True).sum() / len(e) <= 40
    stop = (e["event_type"] == "play_stop").to_numpy()
    assert e.loc[stop, "watch_s"].notna().all() and e.loc[~stop, "watch_s"].isna().all()
    art_title = world.artworks["title_id"].to_numpy()
    assert np.array_equal(art_title[e["artwork_id"].to_numpy()], e["title_id"].to_numpy())
    counts = world.artworks.groupby("title_id").size()
    assert counts.between(3, 8).all()
    search = e["event_type"] == "search"
    assert (e.loc[search, "row_id"] == "search").all()
    assert world.config.n_users * 0.5 < e["user_id"].nunique() <= world.config.n_users


def test_calibration_is_plausible(world):
    e, etype = world.events, world.events["event_type"]
    plays, impressions = (etype == "play_start").sum(), (etype == "impression").sum()
    assert 0.015 < plays / impressions < 0.05
    sessions = e["session_id"].nunique()
    assert e.loc[etype == "play_start", "session_id"].nunique() < 0.85 * sessions
    stops = e[etype == "play_stop"]
    share = stops.loc[stops["row_id"] == "search", "watch_s"].sum() / stops["watch_s"].sum()
    assert 0.1 < share < 0.35
    rate = monthly_churn(world.billing)["churn_rate"].iloc[-1]
    assert 0.01 < rate < 0.07
    assert (etype == "rewatch").sum() < 0.15 * plays


def test_truth_probabilities_match_measured_funnel(world):
    e = world.events
    imp = world.truth.tables["impressions"]
    assert np.array_equal(imp["event_id"], e.index[e["event_type"] == "impression"])
    assert np.array_equal(world.propensities["event_id"], imp["event_id"])
    browse = e[e["row_id"] != "search"]
    n_imp = (browse["event_type"] == "impression").sum()
    for kind in ("click", "play"):
        etype = "play_start" if kind == "play" else kind
        measured = (browse["event_type"] == etype).sum() / n_imp
        expected = imp[f"p_{kind}"].mean()
        assert abs(measured - expected) < 0.1 * expected, kind


def test_truth_click_prob_and_best_artwork(world):
    e = world.events
    imp = world.truth.tables["impressions"]
    rows = imp[imp["p_examine"] > 0].head(2000)
    ev = e.loc[rows["event_id"]]
    p = world.truth.click_prob(
        ev["user_id"], ev["title_id"], ev["artwork_id"], device=ev["device"].astype(str).to_numpy()
    )
    ratio = (rows["p_click"] / rows["p_examine"]).to_numpy()  # logged in float32
    slack = FLOAT32["atol"] + FLOAT32["rtol"] * ratio
    assert np.all(p + slack >= ratio)  # equal unless the member had completed the title
    assert np.mean(np.isclose(p, ratio, **FLOAT32)) > 0.9
    users, titles = np.arange(50), np.arange(50)
    best = world.truth.best_artwork(users, titles)
    art = world.artworks
    assert np.array_equal(art["title_id"].to_numpy()[best], titles)
    for u, t, b in zip(users, titles, best, strict=True):
        ids = art.loc[art["title_id"] == t, "artwork_id"].to_numpy()
        probs = world.truth.click_prob(np.full(ids.size, u), np.full(ids.size, t), ids)
        # float32 tastes, scored in batches of another shape
        assert probs.max() == approx32(world.truth.click_prob([u], [t], [b])[0])


def test_churned_members_have_no_sessions_after_lapsing(world):
    b, e = world.billing, world.events
    lost = b[b["status"].isin(["churned", "payment_failed"])]
    back = set(b.loc[b["status"] == "reactivated", "user_id"])
    lost = lost[~lost["user_id"].isin(back)]
    last_event = e.groupby("user_id")["ts"].min()
    first_session = e.groupby("user_id")["ts"].max()
    assert len(lost) > 0
    for user, when in zip(lost["user_id"], lost["period_start"], strict=True):
        if user in last_event.index:
            assert first_session[user] < when + np.timedelta64(2, "D")
            started = e.loc[(e["user_id"] == user) & (e["ts"] >= when), "event_type"]
            assert not (started == "impression").any()


def test_same_config_gives_identical_tables():
    a, b = simulate(TINY), simulate(TINY)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    for name in a.truth.tables:
        pd.testing.assert_frame_equal(a.truth.tables[name], b.truth.tables[name])


class FirstArtworkPolicy(PopularityGenrePolicy):
    """Same rows and titles as the default, but always the title's first artwork."""

    def choose_artwork(self, title_id, request):
        artwork, pscore = super().choose_artwork(title_id, request)  # same draws from rng
        first = np.searchsorted(request.artworks["title_id"].to_numpy(), title_id)
        return first.astype(np.int32), np.ones_like(pscore)


def test_artwork_policy_changes_only_what_it_chooses():
    a = simulate(TINY)
    b = simulate(TINY, policy=FirstArtworkPolicy(random_state=TINY.random_state))
    for name in ("titles", "artworks", "users"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert not a.events["artwork_id"].equals(b.events["artwork_id"])
    merged = a.billing.merge(b.billing, how="outer", indicator=True)
    differ = merged.loc[merged["_merge"] != "both", "period_start"]
    cutoff = differ.min().floor("D") if len(differ) else pd.Timestamp.max.floor("D")

    def arrivals(w):
        e = w.events[w.events["ts"] < cutoff]
        first = e.groupby("session_id").agg(user_id=("user_id", "first"), ts=("ts", "min"))
        return first.groupby(["user_id", first["ts"].dt.floor("D")]).size()

    assert cutoff > pd.Timestamp(TINY.start_date)
    pd.testing.assert_series_equal(arrivals(a), arrivals(b))


def test_config_validates_and_round_trips():
    cfg = SimulationConfig(n_users=10, n_titles=5, n_days=2)
    assert SimulationConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="n_users must be > 0"):
        SimulationConfig(n_users=0)
    with pytest.raises(ValueError, match=r"movie_share must be in \[0, 1\]"):
        SimulationConfig(movie_share=1.5)
    with pytest.raises(ValueError, match="unknown SimulationConfig fields: \\['colour'\\]"):
        SimulationConfig.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="start_date is not a date"):
        SimulationConfig(start_date="soon")


def test_presets_are_sized_as_documented():
    smoke, default, large = (load_preset(n) for n in ("smoke", "default", "large"))
    assert (smoke.n_users, smoke.n_titles, smoke.n_days) == (1000, 300, 30)
    assert (default.n_users, default.n_titles, default.n_days) == (5_000, 2_000, 90)
    assert large.n_users >= 50_000


def test_missing_preset_lists_the_available_ones():
    with pytest.raises(FileNotFoundError, match=r"available presets: \[.*'smoke'.*\]"):
        load_preset("nope")


@pytest.mark.parametrize("min_block", [2, 4096])
def test_run_merger_equals_a_stable_sort_of_the_runs(monkeypatch, min_block):
    from persona_lib.sim import merge as simulate_merge
    from persona_lib.sim.merge import Placement, RunMerger, merge_runs

    monkeypatch.setattr(simulate_merge, "MIN_BLOCK", min_block)
    rng = np.random.default_rng(0)
    for _ in range(300):  # overlapping runs with ties, empty runs, long consecutive stretches
        runs = [
            np.sort(
                d * rng.integers(0, 20) + rng.integers(0, rng.integers(1, 40), rng.integers(0, 30))
            )
            for d in range(rng.integers(1, 8))
        ]
        expected = np.argsort(np.concatenate(runs), kind="stable")
        np.testing.assert_array_equal(merge_runs(runs), expected)
        merger, out, start = RunMerger(runs), np.full(expected.size, -1), 0
        for i, run in enumerate(runs):
            Placement(merger.positions(i)).put(out, np.arange(start, start + run.size))
            merger.release(i)
            start += run.size
        np.testing.assert_array_equal(out, expected)


def test_clickbait_artworks_win_clicks_and_lose_plays_only_when_switched_on():
    from persona_lib.sim.population import make_population, tile_probabilities

    config = load_preset("smoke").replace(n_users=50, n_titles=40)
    pop = make_population(config)
    bait = pop.art_bait > 0
    assert 0.1 < bait.mean() < 0.3 and np.all(pop.art_bait[bait] >= 0.5)
    users = np.zeros(bait.size, dtype=np.int64)
    titles = pop.artworks["title_id"].to_numpy().astype(np.int64)
    arts = np.arange(bait.size)
    off = tile_probabilities(pop, config, users, titles, arts, np.zeros(bait.size, np.int64))
    on = tile_probabilities(pop, config.replace(clickbait_weight=1.0), users, titles, arts,
                            np.zeros(bait.size, np.int64))  # fmt: skip
    np.testing.assert_array_equal(off[0][~bait], on[0][~bait])
    np.testing.assert_array_equal(off[1][~bait], on[1][~bait])
    assert np.all(on[0][bait] > off[0][bait]) and np.all(on[1][bait] < off[1][bait])
    # per impression a bait artwork loses plays: the click gain is outweighed after the click
    assert np.mean(on[0][bait] * on[1][bait]) < np.mean(off[0][bait] * off[1][bait])
    with pytest.raises(ValueError, match="clickbait_weight"):
        config.replace(clickbait_weight=-1.0)


def test_a_day_without_sessions_on_some_device_simulates():
    # 50 members: some days have no session on some device (this used to raise in array_split)
    world = simulate(SimulationConfig(n_users=50, n_titles=40, n_days=4, random_state=1))
    assert len(world.events) > 0

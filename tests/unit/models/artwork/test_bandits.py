"""Contract suite over every `BanditPolicy`, planted problems, and the logged artwork rounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT32, FLOAT64

from persona_lib.data import schema
from persona_lib.models.artwork.bandits import (
    BernoulliThompsonPolicy,
    EpsilonGreedyPolicy,
    GreedySupervisedPolicy,
    LinearThompsonPolicy,
    LinUCBPolicy,
    SoftmaxPolicy,
    UniformRandomPolicy,
    greedy_probabilities,
)
from persona_lib.models.artwork.rounds import (
    CONTEXT_FEATURES,
    ArtworkCatalog,
    build_artwork_rounds,
    context_features,
)

N_ACTIONS, N_ATTRS = 24, 7
POLICIES = {
    "uniform": lambda: UniformRandomPolicy(),
    "epsilon": lambda: EpsilonGreedyPolicy(epsilon=0.2),
    "softmax": lambda: SoftmaxPolicy(temperature=0.1),
    "linucb": lambda: LinUCBPolicy(alpha=0.5),
    "lin_thompson": lambda: LinearThompsonPolicy(v=0.3, n_draws=50),
    "bernoulli_thompson": lambda: BernoulliThompsonPolicy(segment_columns=(1, 2), n_draws=50),
    "greedy_logistic": lambda: GreedySupervisedPolicy(epsilon=0.1),
    "greedy_lightgbm": lambda: GreedySupervisedPolicy(model="lightgbm", epsilon=0.1),
}
LEARNING = [name for name in POLICIES if name != "uniform"]


def make_problem(n: int, random_state: int = 0):
    """Binary action attributes, a 3-column context (bias, two 0/1 flags), padded candidates."""
    features = (np.random.default_rng(99).random((N_ACTIONS, N_ATTRS)) < 0.5).astype(float)
    rng = np.random.default_rng(random_state)
    context = np.column_stack([np.ones(n), rng.random((n, 2)) < 0.5]).astype(float)
    k = rng.integers(2, 7, size=n)
    candidates = np.full((n, 6), -1)
    for i in range(n):
        candidates[i, : k[i]] = rng.choice(N_ACTIONS, k[i], replace=False)
    return features, context, candidates


def true_reward_prob(features, context, action) -> np.ndarray:
    """Planted linear problem: attribute 0 pays, more so with flag 1; attribute 1 with flag 2."""
    a = features[action]
    p = 0.15 + 0.3 * a[:, 0] + 0.2 * a[:, 0] * context[:, 1] + 0.3 * a[:, 1] * context[:, 2]
    return np.clip(p - 0.1 * a[:, 2], 0.0, 1.0)


def only_attribute_zero(features, context, action) -> np.ndarray:
    """Planted problem where one attribute is rewarded: 0.6 with attribute 0, else 0.1."""
    return 0.1 + 0.5 * features[action, 0]


def trained(name: str, reward_prob=true_reward_prob):
    """A policy after one update on uniformly logged planted rounds."""
    features, context, candidates = make_problem(1500, random_state=1)
    policy = POLICIES[name]().bind_actions(features)
    rng = np.random.default_rng(2)
    action, _ = UniformRandomPolicy().bind_actions(features).choose(context, candidates, rng)
    reward = rng.random(len(action)) < reward_prob(features, context, action)
    return policy.update(context, action, reward.astype(float))


@pytest.fixture(scope="module", params=list(POLICIES))
def policy(request):
    return request.param, trained(request.param)


def test_probabilities_sum_to_one_and_vanish_on_padding(policy):
    _, p = policy
    _, context, candidates = make_problem(300, random_state=5)
    probs = p.action_probabilities(context, candidates)
    assert probs.shape == candidates.shape
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, **FLOAT64)
    assert np.all(probs[candidates < 0] == 0)


def test_choice_is_a_candidate_with_its_probability(policy):
    _, p = policy
    _, context, candidates = make_problem(300, random_state=6)
    probs = p.action_probabilities(context, candidates)
    action, pscore = p.choose(context, candidates, np.random.default_rng(0))
    slot = (candidates == action[:, None]).argmax(axis=1)
    assert np.all(action >= 0)
    assert np.all(candidates[np.arange(300), slot] == action)  # padding never chosen
    np.testing.assert_array_equal(pscore, probs[np.arange(300), slot])
    assert np.all(pscore > 0)


def test_choice_frequencies_match_probabilities(policy):
    _, p = policy
    _, context, candidates = make_problem(8, random_state=7)
    reps = 3000
    ctx, cand = np.repeat(context, reps, axis=0), np.repeat(candidates, reps, axis=0)
    action, _ = p.choose(ctx, cand, np.random.default_rng(1))
    probs = p.action_probabilities(context, candidates)
    freq = (cand == action[:, None]).reshape(8, reps, -1).mean(axis=1)
    # binomial standard error of 3000 draws is at most 0.009
    np.testing.assert_allclose(freq, probs, atol=0.04)


def test_same_seed_same_choices(policy):
    name, p = policy
    _, context, candidates = make_problem(200, random_state=8)
    first = p.choose(context, candidates, np.random.default_rng(3))
    again = trained(name).choose(context, candidates, np.random.default_rng(3))
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])


@pytest.mark.parametrize("name", LEARNING)
def test_update_moves_choices_towards_the_rewarded_attribute(name):
    features, context, candidates = make_problem(400, random_state=9)
    fresh = POLICIES[name]().bind_actions(features)
    before = fresh.action_probabilities(context, candidates)
    after = trained(name, only_attribute_zero).action_probabilities(context, candidates)
    rewarded = features[np.maximum(candidates, 0), 0] * (candidates >= 0)
    uniform = UniformRandomPolicy().bind_actions(features).action_probabilities(context, candidates)
    mass = {
        key: (probs * rewarded).sum(axis=1).mean()
        for key, probs in [("before", before), ("after", after), ("uniform", uniform)]
    }
    # an untrained LinUCB already leans to artworks with many attributes: compare to both
    assert mass["after"] > max(mass["before"] + 0.05, mass["uniform"] + 0.3), mass


def run_online(policy, n_batches: int = 30, batch: int = 100, random_state: int = 0) -> float:
    """Cumulative expected reward of a policy learning batch by batch on the planted problem."""
    features, context, candidates = make_problem(n_batches * batch, random_state)
    policy.bind_actions(features)
    rng = np.random.default_rng(random_state + 1)
    total = 0.0
    for lo in range(0, len(context), batch):
        part = slice(lo, lo + batch)
        action, _ = policy.choose(context[part], candidates[part], rng)
        p = true_reward_prob(features, context[part], action)
        policy.update(context[part], action, (rng.random(len(p)) < p).astype(float))
        total += p.sum()
    return total


@pytest.mark.parametrize(
    "make", [lambda: LinUCBPolicy(alpha=0.5), lambda: LinearThompsonPolicy(v=0.3)],
    ids=["linucb", "lin_thompson"],
)  # fmt: skip
def test_linear_policies_beat_uniform_on_a_planted_problem(make):
    uniform = run_online(UniformRandomPolicy())
    learned = run_online(make())
    best = 0.0
    features, context, candidates = make_problem(3000, 0)
    for j in range(candidates.shape[1]):
        p = true_reward_prob(features, context, np.maximum(candidates[:, j], 0))
        best = np.maximum(best, np.where(candidates[:, j] >= 0, p, 0))
    assert learned > 1.2 * uniform
    assert learned > uniform + 0.5 * (best.sum() - uniform)  # more than half the regret closed


def test_greedy_probabilities_split_ties():
    scores = np.array([[1.0, 3.0, 3.0, 9.0]])
    valid = np.array([[True, True, True, False]])
    np.testing.assert_allclose(greedy_probabilities(scores, valid), [[0, 0.5, 0.5, 0]])


def test_linucb_is_deterministic_up_to_ties():
    p = trained("linucb")
    _, context, candidates = make_problem(200, random_state=4)
    probs = p.action_probabilities(context, candidates)
    top = probs.max(axis=1)
    np.testing.assert_allclose(top * (probs > 0).sum(axis=1), 1.0)


def test_errors_name_the_problem():
    features, context, candidates = make_problem(5)
    with pytest.raises(RuntimeError, match="call bind_actions"):
        LinUCBPolicy().choose(context, candidates, np.random.default_rng(0))
    p = LinUCBPolicy().bind_actions(features)
    with pytest.raises(ValueError, match="at least one candidate"):
        p.action_probabilities(context[:1], np.full((1, 3), -1))
    with pytest.raises(ValueError, match="same n"):
        p.action_probabilities(context[:2], candidates)
    with pytest.raises(ValueError, match="epsilon must be in"):
        EpsilonGreedyPolicy(epsilon=1.5)
    with pytest.raises(ValueError, match="model must be"):
        GreedySupervisedPolicy(model="forest")


# --- logged artwork rounds -----------------------------------------------------------------


def tiny_tables():
    titles = pd.DataFrame({"title_id": [0, 1], "genres": ["Drama", "Comedy|Drama"],
                           "language": ["en", "es"]})  # fmt: skip
    attrs = np.zeros((5, N_ATTRS), dtype=bool)
    attrs[0, 0] = attrs[2, 0] = attrs[3, 1] = True
    artworks = pd.DataFrame({"artwork_id": range(5), "title_id": [0, 0, 1, 1, 1]})
    for j, a in enumerate(schema.ARTWORK_ATTRIBUTES):
        artworks[a] = attrs[:, j]
    return titles, artworks


def tiny_events(rows):
    """Events of one member from (seconds, event_type, title_id, artwork_id, row) tuples."""
    frame = pd.DataFrame(rows, columns=["s", "event_type", "title_id", "artwork_id", "row_id"])
    n = len(frame)
    return pd.DataFrame({
        "event_id": np.arange(n, dtype=np.int32),
        "ts": pd.Timestamp("2025-01-01 19:00") + pd.to_timedelta(frame["s"], unit="s"),
        "user_id": np.zeros(n, np.int32), "session_id": np.zeros(n, np.int32),
        "device": pd.Categorical(["tv"] * n, categories=list(schema.DEVICES)),
        "event_type": pd.Categorical(frame["event_type"], categories=list(schema.EVENT_TYPES)),
        "title_id": frame["title_id"].astype(np.int32),
        "artwork_id": frame["artwork_id"].astype(np.int32),
        "row_id": pd.Categorical(frame["row_id"]), "row_position": np.zeros(n, np.int8),
        "col_position": frame["title_id"].astype(np.int8), "dwell_ms": np.zeros(n, np.uint16),
        "watch_s": np.where(frame["event_type"] == "play_stop", 900.0, np.nan).astype(np.float32),
    })  # fmt: skip


def test_rounds_hand_computed_and_without_leakage():
    titles, artworks = tiny_tables()
    events = tiny_events([
        (0, "impression", 0, 0, "popular"), (0, "impression", 1, 3, "popular"),
        (0, "click", 0, 0, "popular"),  # same instant as the impressions: not in their context
        (1, "play_start", 0, 0, "popular"), (5, "play_stop", 0, 0, "popular"),
        (9, "impression", 1, 2, "popular"),
    ])  # fmt: skip
    rounds = build_artwork_rounds(events, titles, artworks)
    assert list(rounds.event_id) == [0, 1, 5]
    np.testing.assert_array_equal(rounds.click, [1, 0, 0])
    np.testing.assert_array_equal(rounds.quality_play, [1, 0, 0])
    np.testing.assert_array_equal(rounds.candidates, [[0, 1, -1], [2, 3, 4], [2, 3, 4]])
    np.testing.assert_array_equal(rounds.action_index, [0, 1, 0])
    assert np.isnan(rounds.pscore).all()
    first, last = rounds.context[0], rounds.context[2]
    np.testing.assert_allclose(first[1:8], 0.0)  # no clicks before t=0
    names = list(CONTEXT_FEATURES)
    # before t=9: 2 impressions (one with face), 1 click (face): lift = (1 - 1 * 1.5/3) / 3
    assert last[names.index("attr_lift_face")] == pytest.approx(0.5 / 3)
    assert last[names.index("attr_lift_smile")] == pytest.approx((0 - 1.5 / 3) / 3)
    assert last[names.index("log_clicks")] == pytest.approx(np.log(2) / 3)
    # one earlier Drama play in English; title 1 is Comedy|Drama in Spanish
    assert last[names.index("genre_affinity")] == pytest.approx(0.5)
    assert last[names.index("language_affinity")] == 0.0
    assert last[names.index("device_tv")] == 1 and last[names.index("evening")] == 1
    # changing what happens from t=9 on does not change any context before or at t=9
    extra = tiny_events([
        (0, "impression", 0, 0, "popular"), (0, "impression", 1, 3, "popular"),
        (0, "click", 0, 0, "popular"), (1, "play_start", 0, 0, "popular"),
        (5, "play_stop", 0, 0, "popular"), (9, "impression", 1, 2, "popular"),
        (9, "click", 1, 2, "popular"), (10, "play_start", 1, 2, "popular"),
    ])  # fmt: skip
    np.testing.assert_array_equal(build_artwork_rounds(extra, titles, artworks).context,
                                  rounds.context)  # fmt: skip


def test_world_rounds_have_uniform_pscores_and_no_future_in_context(smoke_world):
    from persona_lib.models.artwork import artwork_rounds

    rounds = artwork_rounds(smoke_world)
    k = (rounds.candidates >= 0).sum(axis=1)
    np.testing.assert_allclose(rounds.pscore, 1.0 / k, **FLOAT32)  # logged in float32
    assert np.all(rounds.candidates[np.arange(len(rounds)), rounds.action_index] == rounds.action)
    assert 0 < rounds.quality_play.mean() <= rounds.click.mean() < 0.2
    # truncate the log at the median impression: every earlier round keeps its context
    events = smoke_world.events
    cut = events["ts"].iloc[len(events) // 2]
    head = events[events["ts"] < cut]
    early = build_artwork_rounds(head, smoke_world.titles, smoke_world.artworks)
    np.testing.assert_array_equal(early.context, rounds.context[: len(early)])
    np.testing.assert_array_equal(early.event_id, rounds.event_id[: len(early)])


def test_context_features_width_and_catalog():
    titles, artworks = tiny_tables()
    catalog = ArtworkCatalog.from_tables(titles, artworks)
    np.testing.assert_array_equal(catalog.n_artworks, [2, 3])
    ctx = context_features(np.zeros((2, 41)), [0, 1], [1, 0], [3, 20], catalog)
    assert ctx.shape == (2, len(CONTEXT_FEATURES))
    np.testing.assert_array_equal(ctx[:, -2:], [[0, 0], [1, 1]])


def tiny_logs(propensities):
    """A team's logs as `artwork_rounds` sees them: logged tables only, no truth."""
    from types import SimpleNamespace

    titles, artworks = tiny_tables()
    events = tiny_events([
        (0, "impression", 0, 0, "popular"), (0, "impression", 1, 3, "popular"),
        (0, "click", 0, 0, "popular"), (9, "impression", 1, 2, "popular"),
    ])  # fmt: skip
    return SimpleNamespace(events=events, titles=titles, artworks=artworks,
                           propensities=propensities)  # fmt: skip


def test_rounds_of_logs_read_their_propensities_and_nan_without():
    from persona_lib.models.artwork import artwork_rounds

    logged = pd.DataFrame({"event_id": np.array([0, 3], np.int32),
                           "pscore": np.array([0.5, 0.25], np.float32)})  # fmt: skip
    rounds = artwork_rounds(tiny_logs(logged))
    assert list(rounds.event_id) == [0, 1, 3]
    np.testing.assert_array_equal(rounds.pscore, [0.5, np.nan, 0.25])
    assert np.isnan(artwork_rounds(tiny_logs(None)).pscore).all()


def test_select_keeps_rounds_in_order_and_shares_the_catalog():
    from persona_lib.models.artwork import artwork_rounds

    logged = pd.DataFrame({"event_id": np.array([0, 3], np.int32),
                           "pscore": np.array([0.5, 0.25], np.float32)})  # fmt: skip
    rounds = artwork_rounds(tiny_logs(logged))
    known = rounds.select(np.isfinite(rounds.pscore))
    assert list(known.event_id) == [0, 3] and len(known) == 2
    np.testing.assert_array_equal(known.pscore, [0.5, 0.25])
    np.testing.assert_array_equal(known.candidates, rounds.candidates[[0, 2]])
    np.testing.assert_array_equal(known.context, rounds.context[[0, 2]])
    np.testing.assert_array_equal(known.click, [1, 0])
    assert known.action_features is rounds.action_features
    assert known.context_names == rounds.context_names
    assert list(rounds.select([2, 0]).event_id) == [3, 0]
    with pytest.raises(ValueError, match="a boolean index needs 3 entries, got 2"):
        rounds.select(np.array([True, False]))

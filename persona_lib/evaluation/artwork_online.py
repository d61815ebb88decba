"""Artwork policies judged online in the simulator and against the simulator's truth.

`run_artwork_policies` simulates the same world (members, sessions, coins) under each artwork
policy of `persona_lib.models.artwork.policy.ArtworkPolicy`, plus two non-learning baselines:
``uniform`` (a random artwork per tile, the logging policy) and ``per_title_best`` (every
member sees the artwork with the highest observed take fraction of the title in the uniform
run's logs: the best a non-personalized choice can do with the same data, in hindsight). Per
policy it measures, over homepage impressions:

- ``take_fraction``: quality plays (>= 10 minutes) per impression, and ``play_rate``: sessions
  with a play per session, both ratios of per-member sums with 95 % delta-method intervals
  clustered by member (`persona_lib.evaluation.online.ratio_estimate`), paired against uniform;
- ``true_click_prob``: the simulator's probability that an examined tile is clicked with the
  shown artwork, and ``true_click_lift_pct``: its mean over the mean with an artwork drawn
  uniformly among the title's (same impressions), minus one, split by whether the member had
  clicked or played the title before the impression;
- ``regret``: the truth's best artwork for the member minus the shown one, in click
  probability per impression (`regret_curve` gives it day by day).

`segment_preferences` compares, per true member segment and artwork attribute, how often the
shown artworks carry the attribute with how often the truth's best artwork and a random one do.

`true_policy_value` is the exact value of an artwork policy on logged rounds (the reference
for off-policy estimates) and `lift_by_heterogeneity` repeats the uniform-vs-learning
comparison as the artwork tastes matter more or less (``SimulationConfig.artwork_weight``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

import numpy as np
import pandas as pd

from persona_lib.data import schema
from persona_lib.evaluation.online import linearized_interval, member_metrics, ratio_estimate
from persona_lib.models.artwork.bandits import (
    CHUNK,
    BanditPolicy,
    UniformRandomPolicy,
    outer_features,
)
from persona_lib.models.artwork.policy import ArtworkPolicy
from persona_lib.models.artwork.rounds import (
    REWARDS,
    ArtworkCatalog,
    ArtworkRounds,
    impression_rewards,
)
from persona_lib.signals.attribution import homepage_mask
from persona_lib.sim.config import SimulationConfig
from persona_lib.sim.simulate import simulate

BASELINE = "uniform"
PER_TITLE_BEST = "per_title_best"
INTERACTIONS = ("click", "play_start")
# names of the rows of `persona_lib.sim.population.SEGMENTS` (same order)
SEGMENT_NAMES = ("faces", "dark tones", "action", "romance", "bright, smiling", "ensemble casts",
                 "minimal, no text", "indifferent")  # fmt: skip


class FixedArtworkPolicy(BanditPolicy):
    """Always the artwork marked in ``chosen`` (a (n_artworks,) 0/1 mask), uniform without one.

    Not learning; a title with several marked artworks splits its mass evenly among them.
    """

    learns = False

    def __init__(self, chosen: np.ndarray, random_state: int = 0):
        super().__init__(random_state)
        self.chosen = np.asarray(chosen, dtype=bool)

    def _probabilities(self, context, candidates, valid):
        marked = valid & self.chosen[np.maximum(candidates, 0)]
        mass = np.where(marked.any(axis=1, keepdims=True), marked, valid).astype(np.float64)
        return mass / mass.sum(axis=1, keepdims=True)


def impression_truth(world) -> pd.DataFrame:
    """One row per homepage impression with what the simulator knows about it.

    Columns ``user_id, title_id, artwork_id, day, click, quality_play`` (logged outcomes),
    ``interacted_before`` (the member clicked or started the title strictly earlier),
    ``p_shown``, ``p_uniform`` and ``p_best``: true click probability of an examined tile with
    the shown artwork, averaged over the title's artworks, and with the member's best one;
    ``clickbait``: the shown artwork is a clickbait one (it matters when the world's
    ``clickbait_weight`` is above 0).
    """
    events = world.events
    if "event_id" not in events.columns:
        events = events.assign(event_id=np.arange(len(events), dtype=np.int64))
    positions, click, quality = impression_rewards(events)
    user = events["user_id"].to_numpy().astype(np.int64)[positions]
    title = events["title_id"].to_numpy().astype(np.int64)[positions]
    art = events["artwork_id"].to_numpy().astype(np.int64)[positions]
    device = events["device"].cat.codes.to_numpy()[positions]
    truth = world.truth
    cand = ArtworkCatalog.from_tables(world.titles, world.artworks).candidates[title]
    k = cand.shape[1]
    every = truth.click_prob(np.repeat(user, k), np.repeat(title, k),
                             np.maximum(cand, 0).ravel(), np.repeat(device, k))  # fmt: skip
    every = every.reshape(cand.shape)
    valid = cand >= 0
    ts = events["ts"].to_numpy()[positions]
    return pd.DataFrame({
        "user_id": user, "title_id": title, "artwork_id": art,
        "day": (ts.astype("datetime64[D]") - world.config.start).astype(np.int64),
        "click": click.astype(np.float64), "quality_play": quality.astype(np.float64),
        "interacted_before": _interacted_before(events, positions),
        "p_shown": truth.click_prob(user, title, art, device),
        "p_uniform": (every * valid).sum(axis=1) / valid.sum(axis=1),
        "p_best": truth.click_prob(user, title, truth.best_artwork(user, title), device),
        "clickbait": truth.latent.art_bait[art] > 0,
    })  # fmt: skip


def segment_preferences(world, truth_segments: bool = True) -> pd.DataFrame:
    """Per member segment and artwork attribute: how often the shown artworks carry it.

    Over the homepage impressions of ``world`` (simulated under some artwork policy), grouped by
    the member's true segment (``truth_segments``; else every member in one group, ``-1``,
    ``"all members"``), returns one row per (segment, attribute) with ``segment``,
    ``segment_name``, ``attribute``, ``loading`` (the segment's true taste for the attribute in
    `persona_lib.sim.population.SEGMENTS`, NaN for the pooled group),
    ``impressions``, and the shares (0-1) of impressions whose artwork has the attribute:
    ``shown_share`` (the policy's), ``best_share`` (the truth's best artwork for the member,
    `Truth.best_artwork`) and ``uniform_share`` (an artwork drawn uniformly among the title's,
    i.e. the mean over the title's artworks); plus ``shown_minus_uniform_pp`` and
    ``best_minus_uniform_pp`` in percentage points.

    Examples
    --------
    >>> segment_preferences(worlds["linucb"])  # doctest: +SKIP
    """
    from persona_lib.sim.population import SEGMENTS

    attrs = list(schema.ARTWORK_ATTRIBUTES)
    n_attr = len(attrs)
    events, arts = world.events, world.artworks
    positions = np.flatnonzero(homepage_mask(events, ("impression",)))
    user = events["user_id"].to_numpy().astype(np.int64)[positions]
    title = events["title_id"].to_numpy().astype(np.int64)[positions]
    shown = events["artwork_id"].to_numpy().astype(np.int64)[positions]
    art_id = arts["artwork_id"].to_numpy().astype(np.int64)
    by_id = np.zeros((art_id.max() + 1, n_attr))
    by_id[art_id] = arts[attrs].to_numpy(np.float64)
    title_mean = arts[attrs].astype(np.float64).groupby(arts["title_id"].to_numpy()).mean()
    uniform = title_mean.reindex(title).to_numpy()
    best = by_id[world.truth.best_artwork(user, title)]
    if truth_segments:
        users = world.truth.tables["users"]
        seg_of = np.full(users["user_id"].max() + 1, -1, dtype=np.int64)
        seg_of[users["user_id"].to_numpy()] = users["segment"].to_numpy()
        segment = seg_of[user]
    else:
        segment = np.full(user.size, -1, dtype=np.int64)
    keys, inverse, counts = np.unique(segment, return_inverse=True, return_counts=True)
    share = {}
    for name, values in (("shown", by_id[shown]), ("best", best), ("uniform", uniform)):
        sums = [np.bincount(inverse, values[:, j], minlength=keys.size) for j in range(n_attr)]
        share[name] = np.stack(sums, axis=1) / counts[:, None]
    names = np.array([*SEGMENT_NAMES, "all members"], dtype=object)
    loadings = np.vstack([SEGMENTS, np.full((1, n_attr), np.nan)])
    out = pd.DataFrame({
        "segment": np.repeat(keys, n_attr), "segment_name": np.repeat(names[keys], n_attr),
        "attribute": np.tile(attrs, keys.size), "loading": loadings[keys].ravel(),
        "impressions": np.repeat(counts, n_attr),
        **{f"{name}_share": values.ravel() for name, values in share.items()},
    })  # fmt: skip
    out["shown_minus_uniform_pp"] = 100 * (out["shown_share"] - out["uniform_share"])
    out["best_minus_uniform_pp"] = 100 * (out["best_share"] - out["uniform_share"])
    return out


def _interacted_before(events: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    """Per impression position: did the member click or start the title at an earlier ts?"""
    et = events["event_type"].astype(str).to_numpy()
    acts = np.flatnonzero(np.isin(et, INTERACTIONS))
    rows = np.concatenate([acts, positions])
    frame = pd.DataFrame({
        "user": events["user_id"].to_numpy()[rows], "title": events["title_id"].to_numpy()[rows],
        "ts": events["ts"].to_numpy()[rows],
        "act": np.r_[np.ones(len(acts)), np.zeros(len(positions))],
    })  # fmt: skip
    # among equal timestamps the impression sorts first: a same-instant act is not "before"
    frame = frame.sort_values(["user", "title", "ts", "act"], kind="stable")
    before = frame.groupby(["user", "title"], sort=False)["act"].cumsum() - frame["act"]
    return before.sort_index().to_numpy()[len(acts) :] > 0


def regret_curve(world, truth_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Day-by-day regret of the shown artworks against the truth's best artwork per member.

    Regret of an impression is ``p_best - p_shown`` (true click probability of an examined
    tile). Returns ``day, impressions, regret_per_1k_impressions, cumulative_regret`` (expected
    clicks lost up to the end of the day).

    Examples
    --------
    >>> regret_curve(simulate(config, ArtworkPolicy(LinUCBPolicy())))  # doctest: +SKIP
    """
    table = impression_truth(world) if truth_table is None else truth_table
    regret = (table["p_best"] - table["p_shown"]).groupby(table["day"])
    out = pd.DataFrame({"impressions": regret.size(), "regret": regret.sum()})
    out = out.reindex(range(world.config.n_days), fill_value=0).rename_axis("day").reset_index()
    out["regret_per_1k_impressions"] = 1000 * out["regret"] / out["impressions"].clip(lower=1)
    out["cumulative_regret"] = out["regret"].cumsum()
    return out.drop(columns="regret")


def per_title_best_artwork(rounds: ArtworkRounds, n_artworks: int, prior: float = 20.0):
    """(n_artworks,) 0/1 mask: per title the artwork with the highest smoothed take fraction.

    Each artwork's quality plays per impression is shrunk towards its title's with ``prior``
    pseudo-impressions, so an artwork shown a handful of times does not win on luck alone.
    """
    shown = np.bincount(rounds.action, minlength=n_artworks).astype(np.float64)
    takes = np.bincount(rounds.action, weights=rounds.quality_play, minlength=n_artworks)
    title_of = np.full(n_artworks, -1)
    title_of[rounds.candidates[rounds.candidates >= 0]] = np.broadcast_to(
        rounds.title_id[:, None], rounds.candidates.shape)[rounds.candidates >= 0]  # fmt: skip
    title_rate = pd.Series(takes).groupby(title_of).transform("sum") / pd.Series(shown).groupby(
        title_of).transform("sum").clip(lower=1)  # fmt: skip
    score = (takes + prior * title_rate.to_numpy()) / (shown + prior)
    best = pd.Series(score).groupby(title_of).transform("max").to_numpy()
    chosen = (score == best) & (title_of >= 0)
    first = pd.Series(np.flatnonzero(chosen)).groupby(title_of[chosen]).transform("min")
    mask = np.zeros(n_artworks, dtype=bool)
    mask[first.unique()] = True  # one artwork per title: the lowest id among exact ties
    return mask


def _member_take(table: pd.DataFrame, n_users: int, outcome: str = "quality_play"):
    """Per-member sums of ``outcome`` and of impressions (the ratio's numerator, denominator)."""
    user = table["user_id"].to_numpy()
    return (np.bincount(user, weights=table[outcome].to_numpy(), minlength=n_users),
            np.bincount(user, minlength=n_users).astype(np.float64))  # fmt: skip


def _lift_pct(table: pd.DataFrame) -> float:
    return float(100 * (table["p_shown"].mean() / table["p_uniform"].mean() - 1))


def summarize_policy(world, table: pd.DataFrame, base=None) -> dict[str, float]:
    """One policy's row of the comparison; ``base``: uniform's member sums per ratio."""
    n = world.config.n_users
    ratios = {"take_fraction": _member_take(table, n),
              "play_rate": member_metrics(world)["play_rate"],
              "click_rate": _member_take(table, n, "click")}  # fmt: skip
    row = {"impressions": len(table)}
    for name, (y, x) in ratios.items():
        value, lin = ratio_estimate(y, x)
        row[name] = value
        row[f"{name}_ci_low"], row[f"{name}_ci_high"] = linearized_interval(value, lin)
        if base is not None:
            ref, ref_lin = ratio_estimate(*base[name])
            low, high = linearized_interval(value - ref, lin - ref_lin)
            row[f"{name}_lift_pct"] = 100 * (value / ref - 1)
            row[f"{name}_lift_ci_low_pct"] = 100 * low / ref
            row[f"{name}_lift_ci_high_pct"] = 100 * high / ref
    seen = table["interacted_before"].to_numpy()
    regret = table["p_best"] - table["p_shown"]
    row.update(true_click_prob=table["p_shown"].mean(), true_click_lift_pct=_lift_pct(table),
               true_click_lift_seen_pct=_lift_pct(table[seen]) if seen.any() else np.nan,
               true_click_lift_unseen_pct=_lift_pct(table[~seen]),
               seen_share=seen.mean(), clickbait_share=table["clickbait"].mean(),
               regret_per_1k_impressions=1000 * regret.mean())  # fmt: skip
    return row


def run_artwork_policies(config: SimulationConfig, bandits: dict[str, BanditPolicy],
                         reward: str | dict[str, str] = "quality_play",
                         per_title_best: bool = True):  # fmt: skip
    """Simulate ``config`` under uniform artwork, each bandit and the per-title best artwork.

    Parameters
    ----------
    config : the world; every policy sees the same members, sessions and random coins.
    bandits : name -> unbound, unused `BanditPolicy` (served through `ArtworkPolicy`).
    reward : what the bandits learn from: ``"quality_play"`` or ``"click"``, or a mapping of
        bandit name to one of them (e.g. the same bandit trained on clicks and on plays).
    per_title_best : also run `FixedArtworkPolicy` on `per_title_best_artwork` of the uniform
        run's rounds.

    Returns
    -------
    (worlds, table) : name -> `World`, and a frame with one row per policy (``policy`` first,
        uniform first): see `summarize_policy`; lifts are paired against uniform (NaN there).

    Examples
    --------
    >>> worlds, table = run_artwork_policies(config, {"linucb": LinUCBPolicy()})  # doctest: +SKIP
    """
    from persona_lib.models.artwork.rounds import artwork_rounds

    policies = {BASELINE: UniformRandomPolicy(random_state=config.random_state), **bandits}
    rewards = reward if isinstance(reward, dict) else dict.fromkeys(policies, reward)
    worlds = {name: simulate(config, ArtworkPolicy(bandit, reward=rewards.get(name, REWARDS[1])))
              for name, bandit in policies.items()}  # fmt: skip
    if per_title_best:
        uniform = worlds[BASELINE]
        mask = per_title_best_artwork(artwork_rounds(uniform), len(uniform.artworks))
        worlds[PER_TITLE_BEST] = simulate(config, ArtworkPolicy(FixedArtworkPolicy(mask)))
    tables = {name: impression_truth(world) for name, world in worlds.items()}
    base = {"take_fraction": _member_take(tables[BASELINE], config.n_users),
            "play_rate": member_metrics(worlds[BASELINE])["play_rate"],
            "click_rate": _member_take(tables[BASELINE], config.n_users, "click")}  # fmt: skip
    rows = [{"policy": name, **summarize_policy(world, tables[name],
                                                None if name == BASELINE else base)}
            for name, world in worlds.items()]  # fmt: skip
    return worlds, pd.DataFrame(rows)


def candidate_click_probs(world, rounds: ArtworkRounds) -> np.ndarray:
    """Exact probability (n, max_k) that each logged round's tile is clicked with each candidate.

    ``p_examine_i P(click | examined, u_i, t_i, candidates[i, k])`` with ``p_examine_i`` the
    simulator's examination probability of the logged tile (the artwork does not move it) and
    the click probability of every candidate on the logit scale of the logged one (so the
    member's already-seen penalty and device carry over); 0 in padding slots. Truth: for
    evaluation only, never for a model.
    """
    imp = world.truth.tables["impressions"].set_index("event_id").loc[rounds.event_id]
    exam = imp["p_examine"].to_numpy(np.float64)
    logged = np.clip(imp["p_click"].to_numpy(np.float64) / np.maximum(exam, 1e-12), 1e-9, 1 - 1e-9)
    device = world.events["device"].cat.codes.to_numpy()[rounds.event_id]
    truth, cand = world.truth, rounds.candidates
    k = cand.shape[1]
    base = truth.click_prob(rounds.user_id, rounds.title_id, rounds.action, device)
    every = truth.click_prob(np.repeat(rounds.user_id, k), np.repeat(rounds.title_id, k),
                             np.maximum(cand, 0).ravel(), np.repeat(device, k))  # fmt: skip
    every = every.reshape(cand.shape)
    offset = np.where(exam > 0, _logit(logged) - _logit(base), 0.0)
    probs = 1 / (1 + np.exp(-(_logit(every) + offset[:, None])))
    return np.where(cand >= 0, exam[:, None] * probs, 0.0)


def true_policy_value(world, rounds: ArtworkRounds, action_dist: np.ndarray) -> float:
    """Exact expected clicks per round of a policy given by ``action_dist`` on logged rounds.

    ``V = mean_i sum_k pi(k | x_i) p_examine_i P(click | examined, u_i, t_i, candidates[i, k])``
    with ``action_dist`` (n, max_k) over the candidate slots and the probabilities of
    `candidate_click_probs`. The value of the ``click`` reward.
    """
    probs = candidate_click_probs(world, rounds)
    dist = np.where(rounds.candidates >= 0, np.asarray(action_dist, dtype=np.float64), 0.0)
    return float(np.mean((dist * probs).sum(axis=1)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def lift_by_heterogeneity(base_config: SimulationConfig,
                          bandit_factory: Callable[[], BanditPolicy],
                          weights=(0.5, 1.0, 2.0, 4.0),
                          reward: str = "quality_play") -> pd.DataFrame:  # fmt: skip
    """Lift of a learning artwork policy over uniform artwork as artwork tastes matter more.

    For each ``artwork_weight`` the world is simulated under uniform artwork and under
    ``bandit_factory()``. Returns ``artwork_weight``, the learning policy's
    ``take_fraction_lift_pct`` and ``play_rate_lift_pct`` (paired, with 95 % intervals),
    ``true_click_lift_pct``, and ``truth_best_click_lift_pct``: the click lift the truth's
    best artwork per member would give on the uniform run's impressions (the ceiling).
    """
    rows = []
    for weight in weights:
        config = base_config.replace(artwork_weight=float(weight))
        worlds, table = run_artwork_policies(config, {"learning": bandit_factory()}, reward,
                                             per_title_best=False)  # fmt: skip
        uniform = impression_truth(worlds[BASELINE])
        learned = table.set_index("policy").loc["learning"]
        ceiling = 100 * (uniform["p_best"].mean() / uniform["p_uniform"].mean() - 1)
        keep = [c for c in learned.index if "lift" in c and "true_click_lift_" not in c]
        rows.append({"artwork_weight": float(weight), **learned[keep].to_dict(),
                     "true_click_lift_pct": learned["true_click_lift_pct"],
                     "truth_best_click_lift_pct": ceiling})  # fmt: skip
    return pd.DataFrame(rows)


def split_rounds(rounds: ArtworkRounds, fraction: float = 0.5,
                 max_rounds: int | None = None) -> tuple[ArtworkRounds, ArtworkRounds]:  # fmt: skip
    """The first ``fraction`` of the rounds (in log order) and the rest, e.g. to fit then evaluate.

    ``max_rounds`` keeps only the first rounds of the log before splitting (large worlds).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    n = len(rounds) if max_rounds is None else min(len(rounds), int(max_rounds))
    cut = int(round(fraction * n))
    shared = ("action_features", "context_names")
    per_round = [f.name for f in fields(rounds) if f.name not in shared]
    first = replace(rounds, **{name: getattr(rounds, name)[:cut] for name in per_round})
    rest = replace(rounds, **{name: getattr(rounds, name)[cut:n] for name in per_round})
    return first, rest


def fit_artwork_reward_model(rounds: ArtworkRounds, reward: str = "click", n_folds: int = 2,
                             random_state: int = 0) -> np.ndarray:  # fmt: skip
    """Cross-fitted ``q_hat`` (n, max_k) of every candidate artwork, for the model-based OPE.

    A logistic regression (L2, C = 1) on the bandits' shared features ``phi(x, a) = vec(x (x)
    [1, a])`` (`persona_lib.models.artwork.bandits.outer_features`), so what is learned about an
    attribute carries over to every title's artworks; each fold is predicted by the model
    fitted on the other folds. Padding slots get 0.
    """
    from sklearn.linear_model import LogisticRegression

    y = rounds.reward(reward)
    logged = rounds.action_features[rounds.action][:, None]
    z_logged = outer_features(rounds.context, logged)[:, 0]
    fold = np.random.default_rng(random_state).permutation(len(rounds)) % n_folds
    q_hat = np.zeros(rounds.candidates.shape)
    for f in range(n_folds):
        train = fold != f if n_folds > 1 else np.ones(len(rounds), bool)
        test = np.flatnonzero(fold == f) if n_folds > 1 else np.arange(len(rounds))
        if y[train].min() == y[train].max():
            q_hat[test] = y[train][0]
            continue
        model = LogisticRegression(C=1.0, max_iter=500).fit(z_logged[train], y[train])
        for lo in range(0, len(test), CHUNK):  # (n, k, D) features only a block at a time
            rows = test[lo : lo + CHUNK]
            feats = rounds.action_features[np.maximum(rounds.candidates[rows], 0)]
            z = outer_features(rounds.context[rows], feats)
            q_hat[rows] = model.predict_proba(z.reshape(-1, z.shape[2]))[:, 1].reshape(z.shape[:2])
    return np.where(rounds.candidates >= 0, q_hat, 0.0)


def member_rate(table: pd.DataFrame, outcome: str, n_users: int) -> tuple[float, np.ndarray]:
    """Rate of ``outcome`` per impression pooled over members, with its per-member
    linearization (`ratio_estimate` of the members' outcome sums over their impression counts).

    ``table`` has one row per impression (``user_id`` and the ``outcome`` column), e.g.
    `impression_truth`; members ``0..n_users-1``.
    """
    user = table["user_id"].to_numpy()
    return ratio_estimate(
        np.bincount(user, weights=table[outcome], minlength=n_users),
        np.bincount(user, minlength=n_users).astype(float),
    )

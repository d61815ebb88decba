"""Members, titles and artworks of the simulated service, with their latent truth.

Public figures behind the choices: US prices of January 2025 (ads $7.99, standard $17.99,
premium $24.99; basic $11.99 for legacy members); about two thirds of the catalogue are movies;
title popularity is Zipf-like (a few titles take most plays); members' responses to artwork differ
by segment (faces, dark tones, action...), which is what artwork personalization exploits
(Netflix Technology Blog, "Artwork Personalization at Netflix", 2017).
Every draw is keyed (see `keyed_random`), so a member's latent profile depends only on the seed
and the member's id. The users table holds each member's plan at the window start (or at signup);
plan changes during the window are in the billing table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from persona_lib.data import schema
from persona_lib.data.constants import PRICES
from persona_lib.data.keyed_random import Stream, categorical, gumbel, normal, uniform
from persona_lib.sim.config import SimulationConfig

G, A = len(schema.GENRES), len(schema.ARTWORK_ATTRIBUTES)
PLAN_WEIGHTS = np.array([0.30, 0.06, 0.44, 0.20])  # ads, basic (legacy), standard, premium
GENRE_WEIGHTS = np.array([10, 6, 5, 12, 8, 5, 16, 5, 5, 6, 6, 6, 9, 4, 4, 2], dtype=float)
TITLE_LANGUAGE_WEIGHTS = np.array([0.62, 0.08, 0.04, 0.04, 0.03, 0.07, 0.07, 0.05])
COUNTRY_WEIGHTS = np.array([0.36, 0.07, 0.10, 0.06, 0.07, 0.06, 0.05, 0.08, 0.08, 0.07])
COUNTRY_LANGUAGE = np.array([0, 1, 2, 3, 4, 5, 6, 7, 0, 1])  # US MX BR FR DE JP KR IN GB ES
DEVICE_WEIGHTS = np.array([0.50, 0.25, 0.12, 0.13])  # tv, mobile, tablet, web
# Artwork-taste segments: loadings on (face, smile, dark_tone, action, romance, ensemble, text).
SEGMENTS = np.array([
    [1.0, 0.4, 0, 0, 0, 0, 0],  # faces
    [0, -0.4, 1.0, 0, 0, 0, 0],  # dark tones
    [0, 0, 0, 1.0, 0, 0, 0],  # action
    [0, 0.3, 0, 0, 1.0, 0, 0],  # romance
    [0, 0.8, -0.6, 0, 0, 0, 0],  # bright, smiling
    [0, 0, 0, 0, 0, 1.0, 0],  # ensemble casts
    [-0.3, 0, 0, 0, 0, 0, -0.8],  # minimal, no text
    [0, 0, 0, 0, 0, 0, 0],  # indifferent
])  # fmt: skip
SEGMENT_WEIGHTS = np.array([0.18, 0.12, 0.15, 0.10, 0.10, 0.10, 0.10, 0.15])
ATTRIBUTE_BASE = np.array([0.6, 0.3, 0.3, 0.3, 0.15, 0.3, 0.5])
CLICKBAIT_SHARE = 0.2  # share of artworks that are clickbait (see tile_probabilities)
VOCAB = {
    "Action": "mission explosive chase soldier revenge weapon heist rescue battle agent",
    "Adventure": "journey quest island treasure expedition jungle voyage map ancient wild",
    "Animation": "animated colorful talking creature magical friendship tiny kingdom toy whimsical",
    "Comedy": "hilarious awkward prank wedding roommates chaos misfit party sitcom banter",
    "Crime": "detective murder gang police cartel investigation heist corrupt witness mob",
    "Documentary": "true story interviews archive nature history investigation real footage expose",
    "Drama": "family grief struggle ambition secret betrayal redemption marriage loss courage",
    "Family": "kids parents holiday dog adventure together home siblings heartwarming school",
    "Fantasy": "dragon wizard realm prophecy sword sorcery kingdom curse elves magic",
    "Horror": "haunted demon terror possessed cabin slasher nightmare ghost ritual blood",
    "Romance": "love affair wedding passion heartbreak summer soulmate kiss dating romance",
    "Sci-Fi": "space alien future robot planet galaxy time-travel android dystopia starship",
    "Thriller": "conspiracy suspense hostage spy twist paranoia escape stalker danger secret",
    "Reality": "contestants competition dating makeover challenge elimination island cooking host",
    "Anime": "shonen hero academy spirit mecha ninja tournament power demon slayer",
    "Music": "band concert singer tour album rhythm stage dance rapper legend",
}
GENERIC = "city world life night years young old new last first home dark secret new-york".split()
ADJECTIVES = (
    "Silent Broken Golden Hidden Last Lost Crimson Wild Endless Frozen Burning Quiet "
    "Midnight Hollow Bright Savage Distant Iron Secret Fallen"
).split()
NOUNS = (
    "Harbor Empire Signal Garden River Crown Horizon Promise Shadow Orbit Frontier Legacy "
    "Echo Storm Kingdom Mirror Road Summer Code Witness"
).split()


@dataclass(frozen=True)
class Population:
    """Public tables plus the latent arrays (index = id) that the behaviour model reads."""

    titles: pd.DataFrame
    artworks: pd.DataFrame
    users: pd.DataFrame
    title_genres: np.ndarray  # (n_titles, G) float32, rows sum to 1
    title_quality: np.ndarray  # (n_titles,)
    title_popularity: np.ndarray  # (n_titles,) Zipf weights, sum to 1
    art_attrs: np.ndarray  # (n_artworks, A) float32 0/1
    art_appeal: np.ndarray  # (n_artworks,)
    art_bait: np.ndarray  # (n_artworks,) clickbait strength, 0 for most artworks
    art_offset: np.ndarray  # (n_titles,) first artwork_id of each title
    art_count: np.ndarray  # (n_titles,)
    genre_taste: np.ndarray  # (n_users, G)
    attr_taste: np.ndarray  # (n_users, A)
    segment: np.ndarray  # (n_users,) index into SEGMENTS
    device_mix: np.ndarray  # (n_users, 4) probabilities over schema.DEVICES
    peak_hour: np.ndarray
    hour_spread: np.ndarray
    speed: np.ndarray  # dwell multiplier (>1 = slower)
    patience: np.ndarray  # patience multiplier
    engagement: np.ndarray  # expected homepage sessions per day
    signup_day: np.ndarray  # day index of signup (negative: before the window)
    churn_propensity: np.ndarray  # logit offset of the voluntary hazard
    payment_risk: np.ndarray  # multiplier of the payment-failure rate
    best_send_hour: np.ndarray
    notification_uplift: np.ndarray  # relative change of the day's session rate when opened

    @cached_property
    def user_language(self) -> np.ndarray:
        """Language codes of the members (read on every tile: computed once)."""
        return self.users["language"].cat.codes.to_numpy()

    @cached_property
    def title_language(self) -> np.ndarray:
        """Language codes of the titles."""
        return self.titles["language"].cat.codes.to_numpy()


def _cat(codes: np.ndarray, categories: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8), categories=list(categories))


def _pick_genres(seed: int, ids: np.ndarray) -> np.ndarray:
    """Multi-hot (n, G) of 1-3 genres per title, drawn without replacement by prevalence."""
    n_genres = categorical(uniform(seed, Stream.TITLES, ids, 0), np.array([0.45, 0.40, 0.15])) + 1
    u = uniform(seed, Stream.TITLES, ids[:, None], 1, np.arange(G))
    keys = np.log(GENRE_WEIGHTS) + gumbel(u)
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    return (rank < n_genres[:, None]).astype(np.float32)


def _synopses(seed: int, ids: np.ndarray, multi_hot: np.ndarray) -> list[str]:
    u = uniform(seed, Stream.TITLES, ids[:, None], 9, np.arange(16))
    vocab = [VOCAB[g].split() for g in schema.GENRES]
    out = []
    for i, row in enumerate(multi_hot):
        words = [w for g in np.flatnonzero(row) for w in vocab[g]]
        body = [words[int(x * len(words))] for x in u[i, :11]]
        body += [GENERIC[int(x * len(GENERIC))] for x in u[i, 11:]]
        out.append(" ".join(body))
    return out


def _names(seed: int, ids: np.ndarray) -> list[str]:
    u = uniform(seed, Stream.TITLES, ids[:, None], 8, np.arange(2))
    seen: dict[str, int] = {}
    out = []
    for a, b in u:
        name = f"The {ADJECTIVES[int(a * len(ADJECTIVES))]} {NOUNS[int(b * len(NOUNS))]}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return out


def make_titles(config: SimulationConfig) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The catalogue: genres, kind, language, runtime, quality and Zipf popularity."""
    seed, n = config.random_state, config.n_titles
    ids = np.arange(n)
    u = uniform(seed, Stream.TITLES, ids[:, None], 2, np.arange(10))
    multi_hot = _pick_genres(seed, ids)
    is_series = u[:, 0] >= config.movie_share
    anime = multi_hot[:, schema.GENRES.index("Anime")] > 0
    language = np.where(anime, 5, categorical(u[:, 1], TITLE_LANGUAGE_WEIGHTS))
    age = np.floor(-8.0 * np.log(u[:, 2])).astype(int)
    year = np.clip(config.start.astype(object).year - age, 1950, None)
    z = normal(u[:, 3:6])
    movie_min = np.clip(105 + 18 * z[:, 0], 70, 190)
    episode_min = np.array([22, 30, 45, 50, 60])[categorical(u[:, 6], np.array([2, 2, 3, 2, 2.0]))]
    seasons = 1 + np.floor(u[:, 7] ** 2 * 6).astype(int)
    n_episodes = np.where(is_series, seasons * (6 + np.floor(u[:, 8] * 8).astype(int)), 1)
    dark = multi_hot[:, [4, 9, 12]].sum(1) > 0  # crime, horror, thriller
    kids = multi_hot[:, [2, 7]].sum(1) > 0  # animation, family
    maturity = np.where(
        kids,
        np.floor(u[:, 9] * 2),
        np.where(dark, 3 + np.floor(u[:, 9] * 2), 2 + np.floor(u[:, 9] * 2)),
    )
    quality = z[:, 1]
    pop_rank = np.argsort(np.argsort(-(0.6 * quality + 0.8 * z[:, 2])))
    popularity = (pop_rank + 1.0) ** -config.zipf_exponent
    genres = ["|".join(schema.GENRES[g] for g in np.flatnonzero(r)) for r in multi_hot]
    titles = pd.DataFrame({
        "title_id": ids.astype(np.int32),
        "name": pd.array(_names(seed, ids), dtype="str"),
        "kind": _cat(is_series, schema.KINDS),
        "genres": pd.array(genres, dtype="str"),
        "language": _cat(language, schema.LANGUAGES),
        "release_year": year.astype(np.int16),
        "runtime_min": np.round(np.where(is_series, episode_min, movie_min)).astype(np.int16),
        "n_episodes": n_episodes.astype(np.int16),
        "maturity": _cat(maturity, schema.MATURITIES),
        "synopsis": pd.array(_synopses(seed, ids, multi_hot), dtype="str"),
    })  # fmt: skip
    shares = (multi_hot / multi_hot.sum(1, keepdims=True)).astype(np.float32)
    latent = {
        "title_genres": shares,
        "title_quality": quality,
        "title_popularity": popularity / popularity.sum(),
    }
    return titles, latent


def make_artworks(config: SimulationConfig, title_genres: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """3-8 artworks per title; attribute odds follow the title's genres."""
    seed, n = config.random_state, config.n_titles
    count = 3 + np.floor(uniform(seed, Stream.ARTWORKS, np.arange(n), 0) * 6).astype(int)
    offset = np.concatenate([[0], np.cumsum(count)[:-1]])
    title = np.repeat(np.arange(n), count)
    art = np.arange(title.size)
    shift = np.zeros((G, A))
    gi = {g: i for i, g in enumerate(schema.GENRES)}
    for g in ("Action", "Adventure", "Sci-Fi"):
        shift[gi[g], 3] = 0.35
    for g in ("Horror", "Thriller", "Crime"):
        shift[gi[g], [1, 2]] = (-0.15, 0.4)
    shift[gi["Romance"], [1, 4]] = (0.15, 0.5)
    for g in ("Comedy", "Family", "Animation"):
        shift[gi[g], [1, 2]] = (0.3, -0.2)
    shift[gi["Drama"], 5] = shift[gi["Comedy"], 5] = 0.15
    p = np.clip(ATTRIBUTE_BASE + (title_genres > 0).astype(float) @ shift, 0.05, 0.95)[title]
    attrs = uniform(seed, Stream.ARTWORKS, art[:, None], 1, np.arange(A)) < p
    appeal = 0.35 * normal(uniform(seed, Stream.ARTWORKS, art, 2))
    # clickbait: 20 % of artworks, with a strength in [0.5, 1.5) (used when clickbait_weight > 0)
    u_bait = uniform(seed, Stream.ARTWORKS, art[:, None], 3, np.arange(2))
    bait = np.where(u_bait[:, 0] < CLICKBAIT_SHARE, 0.5 + u_bait[:, 1], 0.0)
    frame = pd.DataFrame({"artwork_id": art.astype(np.int32), "title_id": title.astype(np.int32)})
    for j, name in enumerate(schema.ARTWORK_ATTRIBUTES):
        frame[name] = attrs[:, j]
    latent = {
        "art_attrs": attrs.astype(np.float32),
        "art_appeal": appeal,
        "art_bait": bait,
        "art_offset": offset.astype(np.int64),
        "art_count": count.astype(np.int64),
    }
    return frame, latent


def _user_tastes(seed: int, ids: np.ndarray) -> dict[str, np.ndarray]:
    taste_noise = normal(uniform(seed, Stream.POPULATION, ids[:, None], 1, np.arange(G)))
    fav = np.log(GENRE_WEIGHTS) + gumbel(
        uniform(seed, Stream.POPULATION, ids[:, None], 2, np.arange(G))
    )
    favourite = np.argsort(np.argsort(-fav, axis=1), axis=1) < 2
    segment = categorical(uniform(seed, Stream.POPULATION, ids, 3), SEGMENT_WEIGHTS)
    attr_noise = normal(uniform(seed, Stream.POPULATION, ids[:, None], 4, np.arange(A)))
    return {
        "genre_taste": (0.8 * taste_noise + 1.6 * favourite).astype(np.float32),
        "segment": segment,
        "attr_taste": (SEGMENTS[segment] + 0.25 * attr_noise).astype(np.float32),
    }


def _user_habits(config: SimulationConfig, ids: np.ndarray) -> dict[str, np.ndarray]:
    seed = config.random_state
    u = uniform(seed, Stream.POPULATION, ids[:, None], 5, np.arange(12))
    z = normal(u)
    kind = categorical(u[:, 0], np.array([0.70, 0.18, 0.12]))  # evening, daytime, late night
    peak = np.choose(kind, [20.5 + z[:, 1], 13.0 + 2 * z[:, 1], 23.5 + z[:, 1]]) % 24
    preferred = categorical(u[:, 2], DEVICE_WEIGHTS)
    mix = 0.3 * DEVICE_WEIGHTS[None, :] + 0.7 * np.eye(4)[preferred]
    return {
        "peak_hour": peak, "hour_spread": 1.2 + 1.5 * u[:, 3], "device_mix": mix,
        "preferred": preferred, "speed": np.exp(0.35 * z[:, 4]),
        "patience": np.exp(0.25 * z[:, 5]),
        "engagement": config.sessions_per_day * np.exp(config.engagement_sigma * z[:, 6]),
        "churn_propensity": 0.5 * z[:, 7],
        "payment_risk": np.exp(0.7 * z[:, 8] - 0.245),
        "best_send_hour": np.round(peak - 1.0 + 1.5 * z[:, 9]) % 24,
        "notification_uplift": np.clip(0.35 + 0.5 * z[:, 10], -0.8, 2.0),
    }  # fmt: skip


def make_users(config: SimulationConfig) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Members: country, language, plan and price, signup date and latent habits and tastes."""
    seed, n = config.random_state, config.n_users
    ids = np.arange(n)
    u = uniform(seed, Stream.POPULATION, ids[:, None], 0, np.arange(6))
    country = categorical(u[:, 0], COUNTRY_WEIGHTS)
    language = np.where(u[:, 1] < 0.15, 0, COUNTRY_LANGUAGE[country])
    language = np.where((country == 7) & (u[:, 1] < 0.5), 0, language)  # India: en or hi
    is_new = u[:, 2] < config.new_signup_share
    tenure = np.floor(u[:, 3] ** 1.4 * config.max_tenure_years * 365.25).astype(int) + 1
    signup_day = np.where(is_new, np.floor(u[:, 3] * config.n_days).astype(int), -tenure)
    plan = categorical(u[:, 4], PLAN_WEIGHTS)
    plan = np.where((plan == 1) & (signup_day > -540), 2, plan)  # basic is closed to new members
    habits = _user_habits(config, ids)
    ms = np.floor(u[:, 5] * 86_400_000).astype(np.int64)
    signup_ts = (
        config.start.astype("datetime64[ms]")
        + signup_day.astype("timedelta64[D]")
        + ms.astype("timedelta64[ms]")
    )
    users = pd.DataFrame({
        "user_id": ids.astype(np.int32),
        "signup_ts": signup_ts.astype("datetime64[ms]"),
        "country": _cat(country, schema.COUNTRIES),
        "language": _cat(language, schema.LANGUAGES),
        "plan": _cat(plan, schema.PLANS),
        "price": np.array(list(PRICES.values()), dtype=np.float32)[plan],
        "preferred_device": _cat(habits.pop("preferred"), schema.DEVICES),
    })  # fmt: skip
    return users, {**habits, **_user_tastes(seed, ids), "signup_day": signup_day}


def make_population(config: SimulationConfig) -> Population:
    """Build the whole population (titles, artworks, users and their latent truth)."""
    titles, t_latent = make_titles(config)
    artworks, a_latent = make_artworks(config, t_latent["title_genres"])
    users, u_latent = make_users(config)
    return Population(
        titles=titles, artworks=artworks, users=users, **t_latent, **a_latent, **u_latent
    )


# --- the behaviour model: true response of a member to a tile (read by sessions and Truth) ---
DEVICE_CLICK = np.array([0.15, -0.2, 0.0, 0.05])  # tv, mobile, tablet, web
SEEN_PENALTY = 3.0  # logit drop for a title the member has already completed
RESUME_CLICK = 1.5  # logit lift of a series the member is part way through (the next episode)
RESUME_PLAY = 2.0
BAIT_PLAY_PENALTY = 2.5  # play-after-click logit lost per unit of clickbait gained in clicks


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_GENRE_LISTS: dict[int, tuple] = {}


def genre_lists(title_genres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each title's (up to 3) genre indices and shares: a sparse form of ``title_genres``."""
    key = id(title_genres)
    if key not in _GENRE_LISTS:
        index = np.argsort(-title_genres, axis=1, kind="stable")[:, :3]
        weight = np.take_along_axis(title_genres, index, axis=1)
        _GENRE_LISTS.clear()
        _GENRE_LISTS[key] = (title_genres, index, weight)
    return _GENRE_LISTS[key][1:]


def fit_score(m, users: np.ndarray, titles: np.ndarray) -> np.ndarray:
    """True fit of titles to members: genre match + quality + language match (drives watching)."""
    index, weight = genre_lists(m.title_genres)
    genre = (m.genre_taste[users[:, None], index[titles]] * weight[titles]).sum(1)
    ul, tl = m.user_language[users], m.title_language[titles]
    lang = np.where(ul == tl, 0.0, np.where(tl == 0, -0.4, -1.2))
    return genre + 0.5 * m.title_quality[titles] + lang


def artwork_score(m, users: np.ndarray, artworks: np.ndarray) -> np.ndarray:
    """True appeal of an artwork to a member: attribute tastes x attributes + intrinsic appeal."""
    taste = np.einsum("ij,ij->i", m.attr_taste[users], m.art_attrs[artworks])
    return taste + m.art_appeal[artworks]


def tile_probabilities(
    m, config: SimulationConfig, users, titles, artworks, device, seen=None, resume=None
):
    """True conditional probabilities for an examined tile.

    Returns ``(p_click, p_play_given_click, p_hover_given_no_click, fit)``; the artwork moves
    clicks and hovers, and plays after a click only through clickbait (``clickbait_weight``):
    a bait artwork of strength ``b`` adds ``w b`` to the click logit and subtracts ``2.5 w b``
    from the play-after-click logit, so it wins clicks and loses plays. ``seen`` marks titles
    the member has completed (``SEEN_PENALTY`` off the click logit); ``resume`` marks a series
    the member is part way through (``RESUME_CLICK`` on the click logit, ``RESUME_PLAY`` on the
    play logit: the member came back for the next episode).
    """
    fit = fit_score(m, users, titles)
    art = artwork_score(m, users, artworks)
    buzz = 0.25 * np.log(m.title_popularity[titles] * len(m.title_popularity))
    logit = config.click_intercept + 0.9 * fit + buzz + config.artwork_weight * art
    logit = logit + DEVICE_CLICK[np.asarray(device, dtype=np.int64)]
    if seen is not None:
        logit = logit - SEEN_PENALTY * seen
    play_logit = 1.0 + 0.8 * fit
    if resume is not None:
        logit, play_logit = logit + RESUME_CLICK * resume, play_logit + RESUME_PLAY * resume
    if config.clickbait_weight > 0:
        bait = config.clickbait_weight * m.art_bait[artworks]
        logit, play_logit = logit + bait, play_logit - BAIT_PLAY_PENALTY * bait
    p_click = _sigmoid(logit)
    return p_click, _sigmoid(play_logit), _sigmoid(-1.0 + 0.5 * fit + 0.5 * art), fit

"""The games cross-sell lever: a games catalogue, organic play so far and the adoption truth.

Each game has 1-2 genres (the titles' genres, weighted towards those games are made in) and a
latent quality. The probability that member ``u`` adopts game ``g`` when it is put in front of them
(organically or by a campaign recommendation) is

    p_adopt(u, g) = sigmoid(a + w * taste_u . genres_g + quality_g + gamer_u + 0.2 log(eng_rel))

with ``genres_g`` the game's genre shares (rows sum to 1), ``taste_u`` the member's true genre
tastes and ``gamer_u`` a personal appetite for games that no log shows. Historically each
(member, game) pair was shown at random with probability ``game_exposure_rate`` (logged in
``game_exposures``); about a tenth of members adopted a game that way (``game_plays``), the rest
never played and are the cross-sell targets. Apptopia's 2022 estimate of Netflix games at under
1 % of members daily (recalled public figure, not checked here) is what makes a small minority
of players plausible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from persona_lib.data import schema
from persona_lib.data.keyed_random import Stream, gumbel, normal, poisson

# Relative prevalence of each title genre among mobile games (schema.GENRES order): ASSUMPTION.
GAME_GENRE_WEIGHTS = np.array([10, 8, 5, 4, 3, 0.5, 2, 5, 6, 4, 1.5, 6, 3, 2, 4, 3], dtype=float)
GAME_ADJECTIVES = "Tiny Mega Pixel Cosmic Hidden Lucky Royal Shadow Turbo Mystic".split()
GAME_NOUNS = "Quest Run Tactics Puzzle Legends Arena Saga Rush Tycoon Party".split()


@dataclass(frozen=True)
class GamesTruth:
    """Latent game and member arrays and the adoption oracle."""

    genres: np.ndarray  # (n_games, G) genre shares
    quality: np.ndarray  # (n_games,)
    gamer: np.ndarray  # (n_users,)
    genre_taste: np.ndarray  # (n_users, G), the world's true tastes
    log_engagement: np.ndarray  # (n_users,)
    intercept: float
    taste_weight: float
    exposure_rate: float

    def logit(self, user_ids, game_ids) -> np.ndarray:
        users = np.asarray(user_ids, dtype=np.int64)
        games = np.asarray(game_ids, dtype=np.int64)
        taste = np.einsum("ij,ij->i", self.genre_taste[users], self.genres[games])
        return (
            self.intercept
            + self.taste_weight * taste
            + self.quality[games]
            + self.gamer[users]
            + 0.2 * self.log_engagement[users]
        )

    def p_adopt(self, user_ids, game_ids) -> np.ndarray:
        """True probability that a member adopts a game recommended to them (equal-length ids)."""
        return expit(self.logit(user_ids, game_ids))

    def frame(self) -> pd.DataFrame:
        """Latent game table: game_id, quality and genre shares ``genre_<Genre>``."""
        out = pd.DataFrame(
            {"game_id": np.arange(self.quality.size, dtype=np.int32), "quality": self.quality}
        )
        for j, g in enumerate(schema.GENRES):
            out[f"genre_{g}"] = self.genres[:, j].astype(np.float32)
        return out


def _games(ctx) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    cfg, k = ctx.config, ctx.config.n_games
    ids = np.arange(k)
    u = ctx.draw(Stream.SALES_GAMES, ids[:, None], 0, np.arange(4))
    n_genres = 1 + (u[:, 0] < 0.45)
    keys = np.log(GAME_GENRE_WEIGHTS) + gumbel(
        ctx.draw(Stream.SALES_GAMES, ids[:, None], 1, np.arange(len(schema.GENRES)))
    )
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    multi_hot = (rank < n_genres[:, None]).astype(np.float64)
    quality = cfg.game_quality_sd * normal(u[:, 1])
    seen: dict[str, int] = {}
    names = []
    for a, b in u[:, 2:]:
        name = f"{GAME_ADJECTIVES[int(a * 10)]} {GAME_NOUNS[int(b * 10)]}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    genres = ["|".join(schema.GENRES[g] for g in np.flatnonzero(r)) for r in multi_hot]
    table = pd.DataFrame(
        {
            "game_id": ids.astype(np.int32),
            "name": pd.array(names, dtype="str"),
            "genres": pd.array(genres, dtype="str"),
        }
    )
    return table, multi_hot / multi_hot.sum(1, keepdims=True), quality


def simulate_games(ctx) -> tuple[dict[str, pd.DataFrame], GamesTruth]:
    """The ``games``, ``game_exposures`` and ``game_plays`` logs and the adoption truth.

    ``games``: game_id, name, genres (pipe-separated like titles). ``game_exposures``: the
    randomized organic exposures before the campaign date: user_id, game_id, adopted.
    ``game_plays``: user_id, game_id, sessions, one row per adopted pair.
    """
    cfg, n = ctx.config, ctx.n_users
    games, shares, quality = _games(ctx)
    gamer = cfg.gamer_sd * normal(ctx.draw(Stream.SALES_GAMES, np.arange(n), 2))
    truth = GamesTruth(
        shares, quality, gamer, ctx.latent.genre_taste, np.log(ctx.engagement_rel),
        cfg.game_intercept, cfg.game_taste_weight, cfg.game_exposure_rate,
    )  # fmt: skip
    ids = np.arange(n)
    u_exp = ctx.draw(Stream.SALES_GAMES, ids[:, None], 3, np.arange(cfg.n_games))
    users, game = np.nonzero(u_exp < cfg.game_exposure_rate)
    u = ctx.draw(Stream.SALES_GAMES, users, game, 4 + np.arange(2)[:, None])
    adopted = u[0] < truth.p_adopt(users, game)
    lam = cfg.game_sessions_mean * np.exp(0.5 * gamer[users[adopted]])
    sessions = 1 + poisson(lam, u[1, adopted])
    exposures = pd.DataFrame(
        {"user_id": users.astype(np.int32), "game_id": game.astype(np.int32), "adopted": adopted}
    )
    plays = pd.DataFrame(
        {
            "user_id": users[adopted].astype(np.int32),
            "game_id": game[adopted].astype(np.int32),
            "sessions": sessions.astype(np.int32),
        }
    )
    return {"games": games, "game_exposures": exposures, "game_plays": plays}, truth

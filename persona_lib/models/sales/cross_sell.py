"""Games cross-sell: recommend games to members who never played one, from their viewing.

Cross-domain: the model learns how viewing tastes carry over to games from members who were
shown games (the randomized ``game_exposures`` log) and applies it to members with viewing
only. `GameAffinityModel` is an L2 logistic regression of ``adopted`` on, per (member, game)
pair, a per-game intercept and the match between the member's viewing genre shares ``s_u``
(``share_<Genre>``) and the game's genre shares ``g_g``:

    interactions="match":  logit P(adopt | u, g) = b_g + w * (s_u . g_g)
    interactions="full":   logit P(adopt | u, g) = b_g + s_u^T W g_g     (W genres x genres)

``b_g`` is the game's appeal. "match" assumes a member likes games of the genres they watch (one
weight); "full" learns any genre-to-genre map, but with a few hundred adoptions its 256 weights
fit noise: on the 8,000-member fixture world "full" recommended no better than popularity while
"match" beat it. `GamePopularity` ranks games by their smoothed adoption rate among exposed
members, the same list for everyone. Both exclude games the member was already shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.data.schema import GENRES

SHARE_COLUMNS = [f"share_{g}" for g in GENRES]


def game_genre_matrix(games: pd.DataFrame) -> np.ndarray:
    """(n_games, n_genres) genre shares of each game from its pipe-separated ``genres``."""
    g = games.sort_values("game_id")["genres"].astype("str").str.get_dummies(sep="|")
    g = g.reindex(columns=list(GENRES), fill_value=0).to_numpy(np.float64)
    return g / np.maximum(g.sum(1, keepdims=True), 1.0)


def _member_matrix(members: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in ["user_id", *SHARE_COLUMNS] if c not in members.columns]
    if missing:
        raise ValueError(f"members lacks columns {missing}")
    ids = members["user_id"].to_numpy(np.int64)
    return ids, members[SHARE_COLUMNS].fillna(0).to_numpy(np.float64)


def _exclude_seen(scores: np.ndarray, users: np.ndarray, seen: pd.DataFrame | None) -> np.ndarray:
    if seen is None or len(seen) == 0:
        return scores
    row = pd.Index(users).get_indexer(seen["user_id"].to_numpy(np.int64))
    keep = row >= 0
    out = scores.copy()
    out[row[keep], seen["game_id"].to_numpy(np.int64)[keep]] = -np.inf
    return out


def _top_k_frame(scores: np.ndarray, users: np.ndarray, k: int) -> pd.DataFrame:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    k = min(int(k), scores.shape[1])
    order = np.lexsort((np.broadcast_to(np.arange(scores.shape[1]), scores.shape), -scores))
    top = order[:, :k]
    best = np.take_along_axis(scores, top, axis=1)
    keep = np.isfinite(best)
    return pd.DataFrame(
        {
            "user_id": np.repeat(users, keep.sum(1)).astype(np.int32),
            "game_id": top[keep].astype(np.int32),
            "score": best[keep],
            "rank": np.cumsum(keep, axis=1)[keep].astype(np.int32),
        }
    )


class GameAffinityModel:
    """Logistic model of game adoption from viewing genre shares (module docstring).

    Parameters
    ----------
    interactions : ``"match"`` (one weight on ``s_u . g_g``) or ``"full"`` (a genre x genre map).
    C : inverse L2 strength of scikit-learn's ``LogisticRegression`` (> 0).
    """

    def __init__(self, interactions: str = "match", C: float = 1.0):
        self.interactions = interactions
        self.C = C

    def _design(self, shares: np.ndarray, game_ids: np.ndarray) -> np.ndarray:
        genres = self.game_genres_[game_ids]
        if self.interactions == "match":
            taste = np.einsum("ij,ij->i", shares, genres)[:, None]
        else:  # genre shares are small: scale W's inputs to the dummies' order
            taste = 4.0 * np.einsum("ij,ik->ijk", shares, genres).reshape(len(shares), -1)
        return np.hstack([np.eye(self.n_games_)[game_ids], taste])

    def fit(self, exposures: pd.DataFrame, members: pd.DataFrame, games: pd.DataFrame):
        """Fit on ``exposures`` (user_id, game_id, adopted), member features and the games table.

        ``members`` needs ``user_id`` and `SHARE_COLUMNS` (`persona_lib.signals.sales_features`);
        returns self.
        """
        from sklearn.linear_model import LogisticRegression

        if self.interactions not in ("match", "full"):
            raise ValueError(f"interactions must be 'match' or 'full', got {self.interactions!r}")
        if not self.C > 0:
            raise ValueError(f"C must be > 0, got {self.C}")
        missing = {"user_id", "game_id", "adopted"} - set(exposures.columns)
        if missing:
            raise ValueError(f"exposures lacks columns {sorted(missing)}")
        ids, shares = _member_matrix(members)
        self.game_genres_ = game_genre_matrix(games)
        self.n_games_ = len(self.game_genres_)
        row = pd.Index(ids).get_indexer(exposures["user_id"].to_numpy(np.int64))
        if np.any(row < 0):
            raise ValueError("exposures has user_ids missing from members")
        y = exposures["adopted"].to_numpy().astype(np.int64)
        if np.unique(y).size < 2:
            raise ValueError("exposures needs both adopted and not adopted rows")
        Z = self._design(shares[row], exposures["game_id"].to_numpy(np.int64))
        self.model_ = LogisticRegression(C=self.C, max_iter=2000).fit(Z, y)
        return self

    def predict_proba(self, members: pd.DataFrame) -> np.ndarray:
        """Estimated P(adopt) of every game for each member, shape (n_members, n_games)."""
        if not hasattr(self, "model_"):
            raise RuntimeError("GameAffinityModel is not fitted: call fit() first")
        _, shares = _member_matrix(members)
        n, g = len(shares), self.n_games_
        Z = self._design(np.repeat(shares, g, 0), np.tile(np.arange(g), n))
        return self.model_.predict_proba(Z)[:, 1].reshape(n, g)

    def recommend(self, members: pd.DataFrame, k: int = 3, seen=None) -> pd.DataFrame:
        """Top-k games per member: ``user_id, game_id, score, rank``; ``seen`` games excluded.

        ``seen``: frame of (user_id, game_id) pairs never to recommend (e.g. past exposures).
        """
        users = members["user_id"].to_numpy(np.int64)
        scores = _exclude_seen(self.predict_proba(members), users, seen)
        return _top_k_frame(scores, users, k)


class GamePopularity:
    """Games ranked by adoption rate among exposed members, ``(adopted + 1) / (exposed + 2)``."""

    def fit(self, exposures: pd.DataFrame, n_games: int) -> GamePopularity:
        game = exposures["game_id"].to_numpy(np.int64)
        adopted = exposures["adopted"].to_numpy().astype(np.float64)
        shown = np.bincount(game, minlength=n_games)
        self.rate_ = (np.bincount(game, adopted, minlength=n_games) + 1) / (shown + 2)
        return self

    def recommend(self, user_ids, k: int = 3, seen=None) -> pd.DataFrame:
        """The same top-k games for every member (minus each member's ``seen`` games)."""
        if not hasattr(self, "rate_"):
            raise RuntimeError("GamePopularity is not fitted: call fit() first")
        users = np.asarray(user_ids, dtype=np.int64)
        scores = np.broadcast_to(self.rate_, (users.size, self.rate_.size)).copy()
        return _top_k_frame(_exclude_seen(scores, users, seen), users, k)

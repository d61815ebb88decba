"""Win-back: who is worth messaging, and which new title to feature in the message.

`ReactivationModel` is a logistic regression of ``reactivated`` on a lapsed member's logged
features (days lapsed, past viewing), fitted on the randomized ``winback_messages`` log; it
ranks members by their chance to come back.

`FeaturedTitleChooser` picks, for each lapsed member, the featurable title they are most likely
to want, from their viewing before they left:

- ``method="profile"``: a content match. The member's profile is the hours-weighted share of
  their viewing in each genre and in each title language; a title's score is
  ``genre_share . title_genres + language_share[title language] + pop_weight * log(plays)``,
  the last term a small popularity prior (title plays among all members, +1).
- ``method="ease"`` / ``"als"``: a collaborative recommender (`EASERecommender`,
  `ALSRecommender`) fitted on confidence weights of all members' plays, scored on the
  candidates.

Baselines: `popular_title` (the most played candidate, for everyone) and `random_titles`.

Measured against the truth (`persona_lib.evaluation.sales.winback_study`): on the smoke world
with 8,000 members ``"profile"`` lifted true reactivations from 93 (popular title) to 110 per
1,000 lapsed members; on the default world of that time (20,000 members, 90 days, before the
viewing calibration) it tied the popular title (91 vs 92), and ``"ease"`` / ``"als"`` did worse
than popular on both (both worlds as they were then). The oracle title (true
fit) would reach about 200 per 1,000: the lapsed members' short histories are the limit.
Learning the weights of genre, language and popularity from impression-to-play outcomes did
not help either (tried, not kept).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.models.recommenders.base import as_interactions
from persona_lib.models.recommenders.ease import EASERecommender
from persona_lib.models.recommenders.factorization import ALSRecommender
from persona_lib.signals.features import title_genre_weights
from persona_lib.signals.feedback import confidence_weights

REACTIVATION_FEATURES = ["log_days_lapsed", "log_hours_per_day"]
METHODS = ("profile", "ease", "als")


def reactivation_design(X: pd.DataFrame) -> pd.DataFrame:
    """`REACTIVATION_FEATURES`: ``log(1 + days_lapsed)`` and ``log(1 + hours_per_day)``.

    Why only two: the win-back log holds a few hundred lapsed members and a few dozen
    reactivations; on the fixture world richer designs (titles played, recency, total hours)
    fitted coefficients of the wrong sign.
    """
    missing = [c for c in ("days_lapsed", "hours_per_day") if c not in X.columns]
    if missing:
        raise ValueError(f"X lacks columns {missing}")
    return pd.DataFrame(
        {
            "log_days_lapsed": np.log1p(X["days_lapsed"].to_numpy(np.float64)),
            "log_hours_per_day": np.log1p(X["hours_per_day"].fillna(0).to_numpy(np.float64)),
        }
    )


class ReactivationModel:
    """P(reactivate | lapsed member's features): standardized L2 logistic regression.

    Parameters
    ----------
    C : inverse L2 strength of scikit-learn's ``LogisticRegression`` (> 0). Win-back logs are
        small (a few hundred lapsed members), so the default shrinks firmly.
    """

    def __init__(self, C: float = 0.3):
        self.C = C

    def fit(self, X: pd.DataFrame, y) -> ReactivationModel:
        """Fit on lapsed members' features (see `reactivation_design`) and ``reactivated``."""
        from sklearn.linear_model import LogisticRegression

        if not self.C > 0:
            raise ValueError(f"C must be > 0, got {self.C}")
        y = np.asarray(y).astype(np.int64)
        if len(X) != y.size or not np.isin(y, (0, 1)).all():
            raise ValueError("y must be binary and as long as X")
        if np.unique(y).size < 2:
            raise ValueError("y needs both reactivated and not reactivated members")
        Z = reactivation_design(X).to_numpy()
        self.mean_, self.scale_ = Z.mean(0), np.where(Z.std(0) > 0, Z.std(0), 1.0)
        self.model_ = LogisticRegression(C=self.C).fit((Z - self.mean_) / self.scale_, y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Estimated reactivation probability per row, shape (n,)."""
        if not hasattr(self, "model_"):
            raise RuntimeError("ReactivationModel is not fitted: call fit() first")
        Z = (reactivation_design(X).to_numpy() - self.mean_) / self.scale_
        return self.model_.predict_proba(Z)[:, 1]


def _plays(events: pd.DataFrame, cutoff=None) -> pd.DataFrame:
    stops = events[events["event_type"].eq("play_stop").to_numpy()]
    if cutoff is not None:
        stops = stops[(stops["ts"] < pd.Timestamp(cutoff)).to_numpy()]
    return stops


def _candidates(candidates, n_titles: int) -> np.ndarray:
    c = np.unique(np.asarray(candidates, dtype=np.int64))
    if c.size == 0 or c.min() < 0 or c.max() >= n_titles:
        raise ValueError(f"candidates must be non-empty title_ids in [0, {n_titles})")
    return c


class FeaturedTitleChooser:
    """Chooses one featurable title per lapsed member from their past viewing.

    Parameters
    ----------
    method : ``"profile"`` (content match, see the module docstring), ``"ease"`` or ``"als"``.
    pop_weight : weight of the log-popularity prior of ``"profile"`` (>= 0).
    random_state : seeds ALS.
    """

    def __init__(self, method: str = "profile", pop_weight: float = 0.1, random_state: int = 0):
        self.method = method
        self.pop_weight = pop_weight
        self.random_state = random_state

    def fit(self, events: pd.DataFrame, titles: pd.DataFrame, n_users: int, cutoff=None):
        """Learn from ``play_stop`` events (before ``cutoff`` if given); returns self."""
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not self.pop_weight >= 0:
            raise ValueError(f"pop_weight must be >= 0, got {self.pop_weight}")
        stops = _plays(events, cutoff)
        self.n_titles_ = len(titles)
        self.n_users_ = int(n_users)
        self.plays_ = np.bincount(stops["title_id"].to_numpy(np.int64), minlength=self.n_titles_)
        if self.method == "profile":
            self._fit_profile(stops, titles)
        else:
            ev = events if cutoff is None else events[(events["ts"] < pd.Timestamp(cutoff))]
            weights = confidence_weights(ev, titles)
            matrix = as_interactions(weights, self.n_users_, self.n_titles_)
            rec = (
                EASERecommender()
                if self.method == "ease"
                else ALSRecommender(random_state=self.random_state)
            )
            self.recommender_ = rec.fit(matrix)
        return self

    def _fit_profile(self, stops: pd.DataFrame, titles: pd.DataFrame) -> None:
        users = stops["user_id"].to_numpy(np.int64)
        hours = stops["watch_s"].fillna(0).to_numpy(np.float64) / 3600.0
        genres = title_genre_weights(titles)
        languages = pd.Categorical(titles["language"].astype(str))
        lang = np.eye(len(languages.categories))[languages.codes]
        self.title_profile_ = np.hstack([genres, lang])
        tid = stops["title_id"].to_numpy(np.int64)
        member = np.zeros((self.n_users_, self.title_profile_.shape[1]))
        np.add.at(member, users, self.title_profile_[tid] * hours[:, None])
        n_genres = genres.shape[1]
        for block in (slice(0, n_genres), slice(n_genres, None)):
            total = member[:, block].sum(1, keepdims=True)
            member[:, block] /= np.where(total > 0, total, 1.0)
        self.member_profile_ = member

    def score(self, user_ids, candidates) -> np.ndarray:
        """Scores (len(user_ids), len(unique candidates)) of the sorted unique candidates."""
        if not hasattr(self, "n_titles_"):
            raise RuntimeError("FeaturedTitleChooser is not fitted: call fit() first")
        users = np.asarray(user_ids, dtype=np.int64)
        if users.size and (users.min() < 0 or users.max() >= self.n_users_):
            raise ValueError(f"user_ids must lie in [0, {self.n_users_})")
        cand = _candidates(candidates, self.n_titles_)
        if self.method == "profile":
            prior = self.pop_weight * np.log1p(self.plays_[cand])
            return self.member_profile_[users] @ self.title_profile_[cand].T + prior
        u = np.repeat(users, cand.size)
        t = np.tile(cand, users.size)
        return self.recommender_.score(u, t).reshape(users.size, cand.size)

    def choose(self, user_ids, candidates) -> np.ndarray:
        """The best-scoring candidate title per member (ties: lower title_id), shape (n,)."""
        cand = _candidates(candidates, getattr(self, "n_titles_", 0) or 1 << 30)
        return cand[np.argmax(self.score(user_ids, cand), axis=1)]


def popular_title(events: pd.DataFrame, candidates, cutoff=None) -> int:
    """The candidate title with the most logged plays (ties: lower title_id)."""
    stops = _plays(events, cutoff)
    cand = np.unique(np.asarray(candidates, dtype=np.int64))
    if cand.size == 0:
        raise ValueError("candidates must be non-empty")
    counts = stops["title_id"].value_counts().reindex(cand, fill_value=0).to_numpy()
    return int(cand[np.argmax(counts)])


def random_titles(n: int, candidates, random_state: int = 0) -> np.ndarray:
    """``n`` candidate titles drawn uniformly at random (seeded)."""
    cand = np.unique(np.asarray(candidates, dtype=np.int64))
    if cand.size == 0:
        raise ValueError("candidates must be non-empty")
    return np.random.default_rng(random_state).choice(cand, size=int(n))

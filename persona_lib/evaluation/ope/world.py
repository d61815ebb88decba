"""The off-policy simulation study inside the streaming simulator, where every value is exact.

`WorldBandit` turns a simulated world's logged artwork rounds into a study environment for
`persona_lib.evaluation.ope.study.run_study`. The pool is a fixed set of homepage impressions
(member, title, device, hour, candidate artworks, the member's history as context); the
simulator's truth gives each candidate's exact click probability on that impression
(`persona_lib.evaluation.artwork_online.candidate_click_probs`). A logging run draws ``n``
impressions from the pool (uniformly, with replacement), an artwork from the logging policy
(by default the service's own: uniform over the title's artworks) and a Bernoulli click with
the true probability of the shown artwork. The evaluated policy's true value is then exact on
the pool, ``V = mean_i sum_k pi_e(k | x_i) p_ik``: no Monte Carlo error in the reference.

The reward model of DM / DR / SNDR / Switch-DR is refitted on every log, cross-fitted over two
folds (`fit_artwork_reward_model`: logistic on context x artwork-attribute features), the same
model the artwork notebook uses, so the study measures the estimators as they are used there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from persona_lib.evaluation.artwork_online import candidate_click_probs, fit_artwork_reward_model
from persona_lib.evaluation.ope.study import LoggedRounds
from persona_lib.models.artwork.rounds import ArtworkRounds

__all__ = ["WorldBandit", "uniform_logging"]


def uniform_logging(candidates: np.ndarray) -> np.ndarray:
    """Uniform probabilities over each round's candidate slots (0 in padding), (n, max_k)."""
    valid = np.asarray(candidates) >= 0
    return valid / valid.sum(axis=1, keepdims=True)


@dataclass(frozen=True, eq=False)
class WorldBandit:
    """A study environment on a pool of a simulated world's logged artwork rounds.

    Attributes
    ----------
    pool : persona_lib.models.artwork.rounds.ArtworkRounds
        The impressions logging runs draw from (their logged actions and rewards are unused).
    reward_prob : numpy.ndarray, shape (n_pool, max_k)
        True click probability of each candidate slot (0 in padding).
    action_dist : numpy.ndarray, shape (n_pool, max_k)
        The evaluated policy ``pi_e(k | x_i)`` on each pool round.
    logging_dist : numpy.ndarray, shape (n_pool, max_k)
        The logging policy; defaults to `uniform_logging`.
    q_folds : int
        Cross-fitting folds of the per-log reward model (0 skips it: DM and DR then fall back
        to the study's context-only `fit_reward_model`).
    """

    pool: ArtworkRounds
    reward_prob: np.ndarray
    action_dist: np.ndarray
    logging_dist: np.ndarray | None = None
    q_folds: int = 2
    n_actions: int = field(init=False)

    def __post_init__(self) -> None:
        n, k = self.pool.candidates.shape
        if self.logging_dist is None:
            object.__setattr__(self, "logging_dist", uniform_logging(self.pool.candidates))
        for name in ("reward_prob", "action_dist", "logging_dist"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.shape != (n, k):
                raise ValueError(f"{name} must have shape {(n, k)} (pool rounds x candidate "
                                 f"slots); got {value.shape}")  # fmt: skip
            object.__setattr__(self, name, value)
        padding = self.pool.candidates < 0
        for name in ("action_dist", "logging_dist"):
            dist = getattr(self, name)
            bad = ~np.isclose(dist.sum(axis=1), 1.0) | (dist < 0).any(axis=1)
            bad |= (np.where(padding, dist, 0.0) > 0).any(axis=1)
            if bad.any():
                raise ValueError(f"{name} must be a distribution over each round's candidates "
                                 f"(rows summing to 1, 0 in padding); bad rows "
                                 f"{np.flatnonzero(bad)[:5].tolist()}")  # fmt: skip
        object.__setattr__(self, "n_actions", int(k))

    @classmethod
    def from_world(
        cls, world, pool: ArtworkRounds, action_dist: np.ndarray, **kwargs
    ) -> WorldBandit:
        """``world``'s environment on ``pool``, exact click probabilities from its truth."""
        return cls(pool, candidate_click_probs(world, pool), action_dist, **kwargs)

    def policy_value(self, action_dist: np.ndarray | None = None) -> float:
        """Exact ``mean_i sum_k pi(k | x_i) p_ik`` on the pool (default: the evaluated policy)."""
        dist = self.action_dist if action_dist is None else np.asarray(action_dist, np.float64)
        return float(np.mean((dist * self.reward_prob).sum(axis=1)))

    def sample_rounds(self, n: int, rng: np.random.Generator) -> LoggedRounds:
        """One logging run of ``n`` rounds: impressions, logged artworks and Bernoulli clicks."""
        rows = rng.integers(0, len(self.pool), n)
        cdf = np.cumsum(self.logging_dist[rows], axis=1)
        slot = np.minimum((rng.random(n)[:, None] > cdf).sum(axis=1), self.n_actions - 1)
        taken = np.arange(n), slot
        reward = (rng.random(n) < self.reward_prob[rows][taken]).astype(np.float64)
        pscore = self.logging_dist[rows][taken]
        q_hat = None
        if self.q_folds > 0:
            log = self._artwork_log(rows, slot, reward, pscore)
            seed = int(rng.integers(2**31))
            q_hat = fit_artwork_reward_model(log, "click", n_folds=self.q_folds, random_state=seed)
        return LoggedRounds(
            self.pool.context[rows], slot, reward, pscore, self.action_dist[rows], q_hat
        )

    def _artwork_log(self, rows, slot, reward, pscore) -> ArtworkRounds:
        """The drawn rounds as artwork rounds with the drawn actions and rewards."""
        p = self.pool
        action = p.candidates[rows, slot]
        return replace(
            p,
            event_id=p.event_id[rows],
            user_id=p.user_id[rows],
            title_id=p.title_id[rows],
            context=p.context[rows],
            candidates=p.candidates[rows],
            action=action,
            action_index=slot,
            pscore=pscore,
            click=reward,
            quality_play=np.full(rows.size, np.nan),
        )

"""Contextual bandit policies: choose one action per decision and report its propensity.

Every policy shares the verbs of `BanditPolicy`:

- ``choose(context, candidates, rng) -> (action, pscore)``;
- ``action_probabilities(context, candidates) -> (n, max_k)``, the full distribution;
- ``update(context, action, reward)``, batch online learning.

A batch of ``n`` decisions is a ``context`` matrix (n, d) and a padded ``candidates`` matrix
(n, max_k) of action ids with ``-1`` padding (a title's 3-8 artworks in persona). Action ids
index the rows of ``action_features`` (n_actions, d_a), bound once with ``bind_actions``.
``choose`` always samples from ``action_probabilities``, so a reported ``pscore`` is exactly the
probability with which the action was drawn, for every policy including Thompson sampling.

The linear policies model the reward of (x, a) as ``theta . phi(x, a)`` with the outer product
``phi(x, a) = vec(x (x) [1, a])``: one shared (Li et al. 2010 "hybrid" without per-arm parts)
ridge model, so what is learned about an attribute on one title transfers to every title. With
a bias column in ``x``, ``phi`` holds the attribute main effects, the context main effects and
every context x attribute interaction.
"""

from __future__ import annotations

import numpy as np

CHUNK = 4_096  # decisions per block when a policy materializes (n, k, D) or (S, n, k) arrays


class BanditPolicy:
    """Base class: validation, sampling and bookkeeping; subclasses give the distribution.

    A subclass implements ``_probabilities(context, candidates, valid) -> (n, max_k)`` (rows
    summing to 1 over ``valid``) and, if it learns, ``_update(context, action, reward)``.

    Parameters
    ----------
    random_state : seed of any randomness the policy uses outside ``choose``'s ``rng``.

    Attributes
    ----------
    action_features_ : (n_actions, d_a) float array bound by ``bind_actions``.
    n_updates_ : number of ``update`` calls; n_rounds_ : rounds learned from.
    """

    learns = True

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def bind_actions(self, action_features: np.ndarray) -> BanditPolicy:
        """Set the (n_actions, d_a) features of the actions and reset what was learned."""
        features = np.asarray(action_features, dtype=np.float64)
        if features.ndim != 2:
            raise ValueError("action_features must be a 2-d (n_actions, d_a) array")
        self.action_features_ = features
        self.n_updates_ = 0
        self.n_rounds_ = 0
        self._context_dim = None
        return self

    def choose(self, context, candidates, rng: np.random.Generator):
        """Draw one action per decision.

        Parameters
        ----------
        context : (n, d) float array.
        candidates : (n, max_k) int array of action ids, ``-1`` = padding.
        rng : source of the draw (e.g. the simulator's per-request generator).

        Returns
        -------
        (action, pscore) : (n,) int64 action ids and (n,) float64 probabilities of drawing them.

        Examples
        --------
        >>> policy = UniformRandomPolicy().bind_actions(np.eye(3))
        >>> policy.choose(np.ones((1, 2)), np.array([[0, 2, -1]]), np.random.default_rng(0))[1]
        array([0.5])
        """
        candidates = np.asarray(candidates, dtype=np.int64)
        probs = self.action_probabilities(context, candidates)
        cum = np.cumsum(probs, axis=1)
        u = rng.random(len(probs)) * cum[:, -1]
        # the first slot whose cumulative mass exceeds u: never a padded (zero-mass) slot
        pick = np.minimum((cum <= u[:, None]).sum(axis=1), probs.shape[1] - 1)
        rows = np.arange(len(probs))
        return candidates[rows, pick], probs[rows, pick]

    def action_probabilities(self, context, candidates) -> np.ndarray:
        """(n, max_k) probability of each candidate (0 on padding; rows sum to 1)."""
        context, candidates, valid = self._check(context, candidates)
        probs = np.zeros(candidates.shape)
        for lo in range(0, len(candidates), CHUNK):
            part = slice(lo, lo + CHUNK)
            probs[part] = self._probabilities(context[part], candidates[part], valid[part])
        probs = np.where(valid, probs, 0.0)
        return probs / probs.sum(axis=1, keepdims=True)

    def update(self, context, action, reward) -> BanditPolicy:
        """Learn from a batch of rounds: (n, d) context, (n,) chosen action ids, (n,) reward."""
        action = np.asarray(action, dtype=np.int64).ravel()
        context, _, _ = self._check(context, action[:, None])
        reward = np.asarray(reward, dtype=np.float64).ravel()
        if not len(reward) == len(action) == len(context):
            raise ValueError("context, action and reward must have the same length")
        if len(action) and self.learns:
            self._update(context, action, reward)
        self.n_updates_ += 1
        self.n_rounds_ += len(action)
        return self

    # --- for subclasses ------------------------------------------------------------------
    def _probabilities(self, context, candidates, valid) -> np.ndarray:
        raise NotImplementedError

    def _update(self, context, action, reward) -> None:
        pass

    def _check(self, context, candidates):
        if not hasattr(self, "action_features_"):
            raise RuntimeError(f"{type(self).__name__}: call bind_actions(action_features) first")
        context = np.asarray(context, dtype=np.float64)
        candidates = np.asarray(candidates, dtype=np.int64)
        if context.ndim != 2 or candidates.ndim != 2 or len(context) != len(candidates):
            raise ValueError("context must be (n, d) and candidates (n, max_k) with the same n")
        if self._context_dim is None:
            self._context_dim = context.shape[1]
        elif context.shape[1] != self._context_dim:
            raise ValueError(f"context has {context.shape[1]} columns, expected "
                             f"{self._context_dim}")  # fmt: skip
        valid = candidates >= 0
        if len(candidates) and not valid.any(axis=1).all():
            raise ValueError("every decision needs at least one candidate (all -1 row found)")
        if np.any(candidates >= len(self.action_features_)):
            raise ValueError("candidate action id out of range of action_features")
        return context, candidates, valid

    def _action_features(self, candidates: np.ndarray) -> np.ndarray:
        """(n, k, d_a) features of the candidates (padding gets action 0's, masked later)."""
        return self.action_features_[np.maximum(candidates, 0)]


def greedy_probabilities(scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mass 1 on the best valid candidate of each row, split evenly among exact ties."""
    scores = np.where(valid, scores, -np.inf)
    best = scores == scores.max(axis=-1, keepdims=True)
    return best / best.sum(axis=-1, keepdims=True)


def outer_features(context: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """``phi(x, a) = vec(x (x) [1, a])``: (n, d) x (n, k, d_a) -> (n, k, d * (d_a + 1))."""
    ones = np.ones((*actions.shape[:2], 1))
    full = np.concatenate([ones, actions], axis=2)
    return np.einsum("nd,nka->nkda", context, full).reshape(*actions.shape[:2], -1)


class UniformRandomPolicy(BanditPolicy):
    """Every valid candidate with probability 1 / k (the logging policy of the simulator)."""

    learns = False

    def _probabilities(self, context, candidates, valid):
        return valid / valid.sum(axis=1, keepdims=True)


class _LinearPolicy(BanditPolicy):
    """Ridge regression of the reward on ``outer_features``: A = l2 I + sum phi phi', b."""

    def __init__(self, l2: float = 1.0, random_state: int = 0):
        super().__init__(random_state)
        if l2 <= 0:
            raise ValueError(f"l2 must be > 0, got {l2}")
        self.l2 = l2

    def _features(self, context, candidates):
        return outer_features(context, self._action_features(candidates))

    def _ensure_model(self, dim: int) -> None:
        if getattr(self, "A_", None) is None or self.A_.shape[0] != dim:
            self.A_ = self.l2 * np.eye(dim)
            self.b_ = np.zeros(dim)
            self.theta_ = np.zeros(dim)
            self.A_inv_ = np.eye(dim) / self.l2

    def bind_actions(self, action_features):
        super().bind_actions(action_features)
        self.A_ = None
        return self

    def _update(self, context, action, reward):
        z = self._features(context, action[:, None])[:, 0]
        self._ensure_model(z.shape[1])
        self.A_ += z.T @ z
        self.b_ += z.T @ reward
        self.A_inv_ = np.linalg.inv(self.A_)
        self.theta_ = self.A_inv_ @ self.b_

    def _scores(self, context, candidates):
        z = self._features(context, candidates)
        self._ensure_model(z.shape[2])
        return z, z @ self.theta_


class EpsilonGreedyPolicy(_LinearPolicy):
    """Greedy on the ridge estimate with probability 1 - epsilon, else uniform.

    ``p(a) = (1 - epsilon) [a best] / n_best + epsilon / k`` (exact).
    """

    def __init__(self, epsilon: float = 0.1, l2: float = 1.0, random_state: int = 0):
        super().__init__(l2, random_state)
        if not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = epsilon

    def _probabilities(self, context, candidates, valid):
        _, scores = self._scores(context, candidates)
        uniform = valid / valid.sum(axis=1, keepdims=True)
        return (1 - self.epsilon) * greedy_probabilities(scores, valid) + self.epsilon * uniform


class SoftmaxPolicy(_LinearPolicy):
    """Boltzmann exploration: ``p(a) proportional to exp(theta . phi(x, a) / temperature)``."""

    def __init__(self, temperature: float = 0.01, l2: float = 1.0, random_state: int = 0):
        super().__init__(l2, random_state)
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.temperature = temperature

    def _probabilities(self, context, candidates, valid):
        _, scores = self._scores(context, candidates)
        logits = np.where(valid, scores / self.temperature, -np.inf)
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        return weights / weights.sum(axis=1, keepdims=True)


class LinUCBPolicy(_LinearPolicy):
    """LinUCB (Li, Chu, Langford & Schapire 2010) on the shared outer-product features.

    Picks ``argmax theta . z + alpha sqrt(z' A^-1 z)`` with ``z = phi(x, a)``; deterministic, so
    the pscore is 1 (or 1 / n among exact ties, drawn uniformly). The default ``alpha`` is
    small because artwork rewards are rare (a few percent of impressions); on the smoke world
    ``alpha=0.1`` beat 0.3 and 1.0.
    """

    def __init__(self, alpha: float = 0.1, l2: float = 1.0, random_state: int = 0):
        super().__init__(l2, random_state)
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self.alpha = alpha

    def _probabilities(self, context, candidates, valid):
        # z = x (x) f with f = [1, a]: theta . z = x' Theta f and z' A^-1 z = f' (x' M x) f, with
        # Theta and M the (d, d_a + 1) blocks of theta and A^-1, so the (n, k, D) features are
        # never built and the quadratic form costs one D x D product per row, not per candidate
        actions = self._action_features(candidates)
        full = np.concatenate([np.ones((*actions.shape[:2], 1)), actions], axis=2)
        n, (d, da1) = len(context), (context.shape[1], full.shape[2])
        self._ensure_model(d * da1)
        mean = np.matmul(full, (context @ self.theta_.reshape(d, da1))[:, :, None])[:, :, 0]
        inner = (context @ self.A_inv_.reshape(d, -1)).reshape(n, da1, d, da1)
        block = np.matmul(context[:, None, None, :], inner)[:, :, 0, :]  # (n, da1, da1)
        width = np.sqrt(np.maximum((np.matmul(full, block) * full).sum(axis=2), 0.0))
        # rounding so that equal candidates (same attributes) tie exactly
        return greedy_probabilities(np.round(mean + self.alpha * width, 12), valid)


def monte_carlo_probabilities(scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Share of the (S, n, k) score draws in which each candidate is best (ties split)."""
    return greedy_probabilities(scores, valid[None]).mean(axis=0)


class LinearThompsonPolicy(_LinearPolicy):
    """Linear Thompson sampling (Agrawal & Goyal 2013): theta ~ N(theta_hat, v^2 A^-1).

    Propensities are Monte Carlo: ``n_draws`` posterior draws from a generator seeded with
    ``(random_state, n_updates_)`` (the same for every call between two updates), and the share
    of draws in which each candidate wins. ``choose`` samples from that distribution, so the
    pscore is exact for the action taken; a candidate that never wins has probability 0.
    """

    def __init__(self, v: float = 0.2, l2: float = 1.0, n_draws: int = 100,
                 random_state: int = 0):  # fmt: skip
        super().__init__(l2, random_state)
        if v < 0 or n_draws < 1:
            raise ValueError("v must be >= 0 and n_draws >= 1")
        self.v = v
        self.n_draws = n_draws

    def _draws(self, dim: int) -> np.ndarray:
        rng = np.random.default_rng([self.random_state, self.n_updates_])
        chol = np.linalg.cholesky(self.A_inv_ + 1e-12 * np.eye(dim))
        return self.theta_ + self.v * rng.standard_normal((self.n_draws, dim)) @ chol.T

    def _probabilities(self, context, candidates, valid):
        z, _ = self._scores(context, candidates)
        scores = (z.reshape(-1, z.shape[2]) @ self._draws(z.shape[2]).T).T.reshape(-1, *z.shape[:2])
        return monte_carlo_probabilities(scores, valid)


class BernoulliThompsonPolicy(BanditPolicy):
    """Beta-Bernoulli Thompson sampling per (member segment, artwork attribute profile).

    The segment is 0 when every ``segment_columns`` value of the context is <= 0, else 1 + the
    column with the largest value (in persona: the attribute the member clicks more than they
    are shown). The profile is the action's binary features read as bits. Each cell has a
    Beta(prior_a + successes, prior_b + failures) posterior (rewards clipped to [0, 1] count
    fractionally). Propensities are Monte Carlo as in `LinearThompsonPolicy`; candidates with
    the same profile share one draw and split the win.
    """

    def __init__(self, segment_columns=tuple(range(1, 8)), prior_a: float = 1.0,
                 prior_b: float = 1.0, n_draws: int = 100, random_state: int = 0):  # fmt: skip
        super().__init__(random_state)
        self.segment_columns = segment_columns
        self.prior_a = prior_a
        self.prior_b = prior_b
        self.n_draws = n_draws

    def bind_actions(self, action_features):
        super().bind_actions(action_features)
        bits = (self.action_features_ > 0.5).astype(np.int64)
        self.profile_ = bits @ (1 << np.arange(bits.shape[1]))
        cells = (len(self.segment_columns) + 1, 1 << bits.shape[1])
        self.successes_ = np.zeros(cells)
        self.failures_ = np.zeros(cells)
        return self

    def segments(self, context: np.ndarray) -> np.ndarray:
        """(n,) segment of each context row (0 = no positive segment column)."""
        values = np.asarray(context, dtype=np.float64)[:, list(self.segment_columns)]
        return np.where(values.max(axis=1) > 0, 1 + values.argmax(axis=1), 0)

    def _update(self, context, action, reward):
        cell = (self.segments(context), self.profile_[action])
        r = np.clip(reward, 0.0, 1.0)
        np.add.at(self.successes_, cell, r)
        np.add.at(self.failures_, cell, 1.0 - r)

    def _probabilities(self, context, candidates, valid):
        rng = np.random.default_rng([self.random_state, self.n_updates_])
        draws = rng.beta(self.prior_a + self.successes_, self.prior_b + self.failures_,
                         size=(self.n_draws, *self.successes_.shape))  # fmt: skip
        seg = self.segments(context)[:, None]
        scores = draws[:, seg, self.profile_[np.maximum(candidates, 0)]]
        return monte_carlo_probabilities(scores, valid)


class GreedySupervisedPolicy(BanditPolicy):
    """Greedy on a reward classifier of ``outer_features`` (refit on every round seen so far).

    ``model="logistic"`` (scikit-learn, L2 strength ``1 / C``) or ``"lightgbm"`` (CPU, one
    thread, deterministic). ``p(a) = (1 - epsilon) [a best] / n_best + epsilon / k``, uniform
    until the rewards seen include both a success (reward >= 0.5) and a failure.
    """

    def __init__(self, model: str = "logistic", epsilon: float = 0.0, C: float = 1.0,
                 random_state: int = 0):  # fmt: skip
        super().__init__(random_state)
        if model not in ("logistic", "lightgbm"):
            raise ValueError(f"model must be 'logistic' or 'lightgbm', got {model!r}")
        if not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.model = model
        self.epsilon = epsilon
        self.C = C

    def bind_actions(self, action_features):
        super().bind_actions(action_features)
        self.model_, self._seen_z, self._seen_y = None, [], []
        return self

    def _new_model(self):
        if self.model == "logistic":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(C=self.C, max_iter=300)
        from lightgbm import LGBMClassifier

        return LGBMClassifier(n_estimators=100, learning_rate=0.05, num_leaves=15,
                              min_child_samples=50, reg_lambda=1.0, deterministic=True,
                              n_jobs=1, random_state=self.random_state, verbose=-1)  # fmt: skip

    def _update(self, context, action, reward):
        z = outer_features(context, self._action_features(action[:, None]))[:, 0]
        self._seen_z.append(z.astype(np.float32))
        self._seen_y.append(reward >= 0.5)
        y = np.concatenate(self._seen_y)
        if y.any() and not y.all():
            self.model_ = self._new_model().fit(np.concatenate(self._seen_z), y)

    def _probabilities(self, context, candidates, valid):
        uniform = valid / valid.sum(axis=1, keepdims=True)
        if self.model_ is None:
            return uniform
        z = outer_features(context, self._action_features(candidates))
        flat = z.reshape(-1, z.shape[2]).astype(np.float32)
        if self.model == "logistic":
            scores = self.model_.decision_function(flat)
        else:
            scores = self.model_.predict(flat, raw_score=True)
        scores = np.round(scores.reshape(candidates.shape), 9)
        return (1 - self.epsilon) * greedy_probabilities(scores, valid) + self.epsilon * uniform

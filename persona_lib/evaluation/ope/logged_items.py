"""Logged item-at-slot rounds and the off-policy value of an item policy (item-level OPE).

Where the logged decision is *which item fills a slot* (a recommendation widget; the Open Bandit
Dataset, imported by ``persona import obd``), every impression that shows no artwork and carries
a propensity is a logged bandit round: the item shown (the action, among the catalogue's titles),
its slot, whether it was clicked (the reward) and ``pscore``, the logging policy's probability
of that item in that slot. An impression *with* an artwork is a round of the artwork choice
instead (`persona_lib.models.artwork.rounds`): its ``pscore`` is the probability of the image
given the title, which says nothing about how the title came to be shown, so it is never an
item round. On persona's simulated service every impression shows an artwork: it has no item
rounds.

`evaluate_item_policy` estimates the click rate an evaluated item policy would have had on the
logged rounds with the estimators of `persona_lib.evaluation.ope.estimators` and their bootstrap
intervals, the reward model cross-fitted by `fit_reward_model` on the member's features, the
item and the slot. This is the protocol of Saito et al. (2021), "Open Bandit Dataset and
Pipeline" (arXiv:2008.07146): the uniform-random policy's value estimated from the Bernoulli
Thompson sampling logs is compared with the click rate the random policy logged itself
(`on_policy_value`, with its exact binomial interval); ``benchmarks/obd_ope.py`` runs it on the
three OBD campaigns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from persona_lib.data.schema import NO_ARTWORK, TABLES
from persona_lib.evaluation.ope.estimators import (
    OffPolicyEstimator,
    effective_sample_size,
    importance_weights,
)
from persona_lib.evaluation.ope.reward_model import fit_reward_model
from persona_lib.signals.attribution import attribute, event_code, homepage_mask

__all__ = [
    "MAX_LEVELS",
    "ItemPolicyValue",
    "ItemRounds",
    "OnPolicyValue",
    "against_reference",
    "build_item_rounds",
    "evaluate_item_policy",
    "item_estimator_inputs",
    "logged_item_rounds",
    "logged_probabilities",
    "on_policy_value",
    "uniform_item_policy",
    "weight_summary",
]

MAX_LEVELS = 100  # a member column with more distinct values (an id, free text) is no feature
_USER_COLUMNS = frozenset(c.name for c in TABLES["users"].columns)


@dataclass(frozen=True, eq=False)
class ItemRounds:
    """Logged item-at-slot rounds (n rounds, k items, p slots), in the logs' time order.

    Attributes
    ----------
    action : numpy.ndarray of int, shape (n,)
        The item shown, as an index into `item_ids`.
    position : numpy.ndarray of int, shape (n,)
        0-based slot (the impression's ``col_position``).
    reward : numpy.ndarray of float, shape (n,)
        1.0 when the impression was clicked, else 0.0.
    pscore : numpy.ndarray of float, shape (n,)
        The logging policy's probability of that item in that slot (float32 propensities read
        back by `logged_probabilities`).
    context : numpy.ndarray of float, shape (n, d)
        Member features of the round (`build_item_rounds`); d may be 0.
    context_names : tuple of str
        ``"<column>=<value>"`` per context column.
    item_ids : numpy.ndarray of int, shape (k,)
        The catalogue's ``title_id`` of each action, ascending.
    n_positions : int
        Number of slots p (at least the largest logged slot + 1).
    """

    action: np.ndarray
    position: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    context: np.ndarray
    context_names: tuple[str, ...]
    item_ids: np.ndarray
    n_positions: int

    def __post_init__(self) -> None:
        n = len(self.action)
        for name in ("position", "reward", "pscore"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"ItemRounds: {name} has {len(getattr(self, name))} rounds, "
                                 f"action has {n}")  # fmt: skip
        if self.context.shape != (n, len(self.context_names)):
            raise ValueError(f"ItemRounds: context must have shape ({n}, {len(self.context_names)})"
                             f"; got {self.context.shape}")  # fmt: skip
        if n and (self.action.min() < 0 or self.action.max() >= len(self.item_ids)):
            raise ValueError(f"ItemRounds: action must be in 0 .. {len(self.item_ids) - 1}")
        if n and (self.position.min() < 0 or self.position.max() >= self.n_positions):
            raise ValueError(f"ItemRounds: position must be in 0 .. {self.n_positions - 1}")

    def __len__(self) -> int:
        return len(self.action)

    @property
    def n_actions(self) -> int:
        """Number of items k."""
        return len(self.item_ids)

    def head(self, n: int | None) -> ItemRounds:
        """The first `n` rounds (all of them for None or a larger `n`)."""
        if n is None or n >= len(self):
            return self
        return ItemRounds(self.action[:n], self.position[:n], self.reward[:n], self.pscore[:n],
                          self.context[:n], self.context_names, self.item_ids,
                          self.n_positions)  # fmt: skip


def _member_features(users: pd.DataFrame | None, user_id: np.ndarray):
    """One-hot of the members' extra columns (those persona's schema does not define)."""
    if users is None or not len(user_id):
        return np.zeros((len(user_id), 0)), ()
    extra = [c for c in users.columns if c not in _USER_COLUMNS]
    rows = pd.Index(users["user_id"].to_numpy()).get_indexer(user_id)
    if (rows < 0).any():
        raise ValueError(f"users has no row for user_id {user_id[rows < 0][0]}")
    frame = users[extra].iloc[rows].reset_index(drop=True)
    frame = frame[[c for c in extra if frame[c].nunique(dropna=False) <= MAX_LEVELS]]
    if frame.shape[1] == 0:
        return np.zeros((len(user_id), 0)), ()
    one_hot = pd.get_dummies(frame.astype(str), prefix_sep="=", dtype=float)
    return one_hot.to_numpy(), tuple(one_hot.columns)


def logged_probabilities(values) -> np.ndarray:
    """Logged probabilities as float64, float32 ones read back as the decimals they print as.

    persona's schema stores ``pscore`` as float32, which moves a logged probability by up to
    6e-8 of itself: enough to tip an importance weight that sits exactly on a threshold over
    it (OBD: ``(1 / 80) / 0.00125 = 10``, the clipping and switching threshold of
    ``benchmarks/obd_ope.py``). Logged probabilities are short decimals (OBD's are multiples of
    5e-6), and a float32 prints as the shortest decimal that reads back to it, so reading that
    decimal restores the logged value; a longer one comes back within one float32 step, as
    close as the float32 itself.

    Examples
    --------
    >>> float(np.float32(0.00125)) == 0.00125
    False
    >>> float(logged_probabilities(np.array([0.00125], dtype=np.float32))[0]) == 0.00125
    True
    """
    values = np.asarray(values)
    if values.dtype == np.float32:
        return values.astype(str).astype(np.float64)
    return values.astype(np.float64)


def build_item_rounds(
    events: pd.DataFrame,
    propensities: pd.DataFrame | None,
    titles: pd.DataFrame,
    users: pd.DataFrame | None = None,
) -> ItemRounds:
    """The item-at-slot rounds of a log: impressions without an artwork that carry a pscore.

    A click counts for the latest impression of the same tile at or before it (same session,
    title, row and slot: `persona_lib.signals.attribution.attribute`). The member features are
    the one-hot values of the columns a team added to ``users`` beyond persona's schema (OBD:
    the hashed ``user_feature_0..3``), each column's values in sorted order, columns with more
    than `MAX_LEVELS` distinct values among the rounds left out; without such columns the
    context is empty and the reward model sees only the item and the slot.

    Parameters
    ----------
    events : DataFrame
        Canonical events table, in time order.
    propensities : DataFrame or None
        ``event_id, pscore``; None: no round.
    titles : DataFrame
        The catalogue: its ``title_id`` are the actions.
    users : DataFrame, optional
        Canonical users table, with any extra columns.

    Returns
    -------
    ItemRounds
        Empty when no impression qualifies (e.g. every impression shows an artwork).

    Examples
    --------
    >>> rounds = build_item_rounds(logs.events, logs.propensities, logs.titles, logs.users)
    ... # doctest: +SKIP
    """
    item_ids = np.sort(titles["title_id"].to_numpy().astype(np.int64))
    shown = homepage_mask(events, ("impression",))
    shown &= events["artwork_id"].to_numpy() == NO_ARTWORK
    positions = np.flatnonzero(shown)
    event_id = events["event_id"].to_numpy()[positions]
    pscore = np.full(len(positions), np.nan)
    if propensities is not None and len(positions):
        found = pd.Index(propensities["event_id"].to_numpy()).get_indexer(event_id)
        logged = logged_probabilities(propensities["pscore"].to_numpy())
        pscore = np.where(found >= 0, logged[found], np.nan)
    keep = np.isfinite(pscore)
    positions, pscore = positions[keep], pscore[keep]
    clicked = np.zeros(len(events), dtype=bool)
    rows, target = attribute(events) if len(positions) else (np.zeros(0, np.intp),) * 2
    is_click = events["event_type"].cat.codes.to_numpy()[rows] == event_code(
        events["event_type"], "click")  # fmt: skip
    clicked[target[is_click & (target >= 0)]] = True
    title = events["title_id"].to_numpy().astype(np.int64)[positions]
    action = np.searchsorted(item_ids, title)
    if len(title) and not np.array_equal(item_ids[np.minimum(action, len(item_ids) - 1)], title):
        raise ValueError("an impression shows a title_id that titles does not list")
    position = events["col_position"].to_numpy().astype(np.int64)[positions]
    context, names = _member_features(users, events["user_id"].to_numpy()[positions])
    return ItemRounds(
        action=action, position=position, reward=clicked[positions].astype(np.float64),
        pscore=pscore, context=context, context_names=names, item_ids=item_ids,
        n_positions=int(position.max(initial=-1)) + 1 if len(position) else 1,
    )  # fmt: skip


def logged_item_rounds(world, max_rounds: int | None = None) -> ItemRounds:
    """`build_item_rounds` of a simulated `World` or a team's `Logs`, the first `max_rounds`.

    Reads ``events``, ``propensities``, ``titles`` and ``users`` (a table the logs lack counts
    as absent: no propensities, no round).
    """
    rounds = build_item_rounds(world.events, world.propensities, world.titles, world.users)
    return rounds.head(max_rounds)


def uniform_item_policy(rounds: ItemRounds) -> np.ndarray:
    """The uniform-random item policy: probability ``1 / k`` of every item at every slot.

    Returns
    -------
    numpy.ndarray, shape (n, k, p)
    """
    shape = (len(rounds), rounds.n_actions, rounds.n_positions)
    return np.full(shape, 1.0 / rounds.n_actions)


def item_estimator_inputs(rounds: ItemRounds, action_dist: np.ndarray, n_folds: int = 2,
                          random_state: int = 0) -> dict[str, np.ndarray]:  # fmt: skip
    """The keyword arguments of every estimator for `action_dist` on `rounds`.

    ``q_hat`` is `fit_reward_model` on the rounds' member features, item and slot, cross-fitted
    on `n_folds` shuffled folds seeded by `random_state`.

    Returns
    -------
    dict
        ``reward, action, pscore, position, action_dist, q_hat``.
    """
    q_hat = fit_reward_model(rounds.context, rounds.action, rounds.reward, rounds.n_actions,
                             n_folds=n_folds, random_state=random_state, position=rounds.position,
                             n_positions=rounds.n_positions)  # fmt: skip
    return {
        "reward": rounds.reward,
        "action": rounds.action,
        "pscore": rounds.pscore,
        "position": rounds.position,
        "action_dist": action_dist,
        "q_hat": q_hat,
    }


def weight_summary(inputs: Mapping[str, np.ndarray], tau: float) -> dict[str, float]:
    """Importance weights of estimator `inputs`: Kish's effective sample size (and as a share
    of the rounds), the largest weight and the share of rounds whose weight exceeds `tau`."""
    w = importance_weights(inputs["action"], inputs["pscore"], inputs["action_dist"],
                           inputs["position"])  # fmt: skip
    ess = effective_sample_size(w)
    return {
        "ess": ess,
        "ess_fraction": ess / len(w),
        "max": float(w.max()),
        "share_above_tau": float(np.mean(w > tau)),
    }


@dataclass(frozen=True)
class OnPolicyValue:
    """The click rate a policy logged itself, with its exact binomial interval.

    Attributes
    ----------
    clicks, n_rounds : int
    value : float
        ``clicks / n_rounds``.
    low, high : float
        Exact (Clopper-Pearson) ``1 - alpha`` interval (Clopper & Pearson 1934).
    """

    clicks: int
    n_rounds: int
    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float | int]:
        return {"clicks": self.clicks, "n_rounds": self.n_rounds, "value": self.value,
                "low": self.low, "high": self.high}  # fmt: skip


def on_policy_value(reward, alpha: float = 0.05) -> OnPolicyValue:
    """The logged click rate of 0/1 `reward` and its exact binomial ``1 - alpha`` interval.

    Examples
    --------
    >>> v = on_policy_value([0, 1, 0, 0])
    >>> v.clicks, v.value, round(v.low, 4), round(v.high, 4)
    (1, 0.25, 0.0063, 0.8059)
    """
    r = np.asarray(reward, dtype=float)
    if r.ndim != 1 or r.size == 0 or not np.all(np.isin(r, (0.0, 1.0))):
        raise ValueError("reward must be a non-empty 1-D array of 0 / 1")
    clicks, n = int(r.sum()), int(r.size)
    ci = binomtest(clicks, n).proportion_ci(1.0 - alpha, method="exact")
    return OnPolicyValue(clicks, n, clicks / n, float(ci.low), float(ci.high))


@dataclass(frozen=True, eq=False)
class ItemPolicyValue:
    """`evaluate_item_policy`'s result.

    Attributes
    ----------
    table : DataFrame
        One row per estimator: ``estimator, estimate, ci_low, ci_high`` (click rates, fractions).
    logged : OnPolicyValue
        The logging policy's own click rate on the rounds.
    weights : dict
        `weight_summary` of the evaluated policy's importance weights.
    n_rounds, n_items, n_positions : int
    """

    table: pd.DataFrame
    logged: OnPolicyValue
    weights: dict
    n_rounds: int
    n_items: int
    n_positions: int

    def estimate(self, estimator: str) -> tuple[float, float, float]:
        """``(estimate, ci_low, ci_high)`` of one estimator."""
        row = self.table.set_index("estimator").loc[estimator]
        return float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])


def evaluate_item_policy(
    rounds: ItemRounds,
    action_dist: np.ndarray,
    estimators: Mapping[str, OffPolicyEstimator],
    *,
    tau: float,
    n_bootstrap: int = 1000,
    random_state: int = 0,
    n_folds: int = 2,
    inputs: Mapping[str, np.ndarray] | None = None,
) -> ItemPolicyValue:
    """Every estimator's value of the policy `action_dist` on `rounds`, with bootstrap intervals.

    Parameters
    ----------
    rounds : ItemRounds
        At least one round.
    action_dist : array, shape (n, k, p)
        The evaluated policy, e.g. `uniform_item_policy`.
    estimators : mapping of str to OffPolicyEstimator
        By name, e.g. ``standard_estimators(tau)``.
    tau : float
        The weight threshold reported by `weight_summary` (the estimators' own, fixed in advance).
    n_bootstrap, random_state
        Of each interval (`OffPolicyEstimator.estimate_interval`); `random_state` also seeds
        the reward model's folds.
    n_folds : int
        Cross-fitting folds of the reward model.
    inputs : mapping, optional
        Precomputed `item_estimator_inputs` (then `n_folds` is not used).

    Returns
    -------
    ItemPolicyValue

    Examples
    --------
    >>> value = evaluate_item_policy(rounds, uniform_item_policy(rounds),
    ...                              standard_estimators(tau=10.0), tau=10.0)  # doctest: +SKIP
    >>> value.estimate("dr")  # doctest: +SKIP
    """
    if not len(rounds):
        raise ValueError("evaluate_item_policy needs at least one logged round")
    if inputs is None:
        inputs = item_estimator_inputs(rounds, action_dist, n_folds, random_state)
    rows = []
    for name, estimator in estimators.items():
        value = estimator.estimate_policy_value(**inputs)
        interval = estimator.estimate_interval(**inputs, n_bootstrap=n_bootstrap,
                                               random_state=random_state)  # fmt: skip
        rows.append({"estimator": name, "estimate": value, "ci_low": interval.low,
                     "ci_high": interval.high})  # fmt: skip
    return ItemPolicyValue(
        table=pd.DataFrame(rows, columns=["estimator", "estimate", "ci_low", "ci_high"]),
        logged=on_policy_value(rounds.reward),
        weights=weight_summary(inputs, tau),
        n_rounds=len(rounds),
        n_items=rounds.n_actions,
        n_positions=rounds.n_positions,
    )


def against_reference(table: pd.DataFrame, reference: float) -> pd.DataFrame:
    """`table` with each estimate's error against a reference value of the same policy.

    Adds ``relative_error_pct`` = ``100 (estimate - reference) / reference`` and
    ``holds_reference`` (``ci_low <= reference <= ci_high``): Saito et al. (2021)'s comparison
    with the policy's on-policy value.

    Examples
    --------
    >>> t = pd.DataFrame({"estimator": ["ipw"], "estimate": [0.003], "ci_low": [0.001],
    ...                   "ci_high": [0.005]})
    >>> against_reference(t, 0.004)[["relative_error_pct", "holds_reference"]].values.tolist()
    [[-25.000000000000004, True]]
    """
    if not np.isfinite(reference) or reference <= 0:
        raise ValueError(f"reference must be a positive value; got {reference}")
    return table.assign(
        relative_error_pct=100 * (table["estimate"] - reference) / reference,
        holds_reference=(table["ci_low"] <= reference) & (reference <= table["ci_high"]),
    )

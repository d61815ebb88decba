"""What `persona_lib.evaluation.tuning` searches: validation folds, grids scaled to the data, and
the size limits of the dense item-item models.

Folds are carved from the training rows only (`validation_folds`):

- ``"stratified"`` (the MovieLens benchmark's protocol): fold i is
  ``stratified_split(train, ratio, by="title_id", random_state=random_state + 1 + i)``; its
  held-out share is the validation truth, minus any (member, title) pair also in its fitting
  rows. For tables with one row per interaction (ratings).
- ``"temporal"`` (notebook 02's protocol, repeated inside the training days): fold i fits on
  the rows before ``t_i = max(ts) - (i + 1) valid_days`` and its truth is the titles a member
  started in ``[t_i, t_i + valid_days)`` that they had not played before ``t_i``
  (`temporal_holdout` on an events log). Nothing at or after the training cut can enter a fold,
  because only the training rows are given.

Grids scale with the data (`recommender_grids`, from a `DataScale`): with ``c = nnz / n``
the interactions per played title and ``w`` the mean weight,

- EASE ``l2 = {2.5, 5, 10, 20} c`` (the penalty competes with ``diag(X^T X)``, the title counts;
  MovieLens 100K's ``c = 44.6`` gives 112 ... 892, around Steck's few hundred);
- EDLAE ``l2 = {2.5, 10} c``, dropout {0.5, 0.75} (its dropout penalty is already
  proportional to the counts), diagonal bound {0, none};
- ALS ``alpha = a / w`` with ``a`` in {2, 6} (mean confidence of an observed pair) and
  ``regularization = {0.1, 0.3, 1, 3} 4 c`` (``a c`` is the confidence mass per title; 4 is
  the middle of the ``a`` values, as the grid is a product), factors {32, 64}, never more
  than ``n_titles / 4`` (edge extension included);
- item-kNN ``k_neighbors = n_titles {1/32, 1/16, 1/8}`` (at least 5, below ``n_titles``) with
  cosine or BM25; RP3beta exponents and BPR's learning rate are scale-free.

Edge extension (`extend_edges`): a numeric setting chosen at its grid's edge may lie short of
the optimum, so the next geometric value out is tried, as the MovieLens benchmark did.

Dense limits (`dense_title_limit`): EASE and EDLAE hold a float64 ``n x n`` Gram matrix, its
inverse and a scaled float64 copy plus the float32 result at once, about 28 n^2 bytes, and
cost O(n^3) time; item-kNN and RP3beta need about 24 n^2 bytes but no inverse. Above the limit
of ``memory_bytes`` (default 2 GiB: 8,757 titles for EASE/EDLAE, 9,459 for item-kNN/RP3beta) a
family is not a candidate. The stated fallback: without EASE and EDLAE, RP3beta and item-kNN
carry the item-item slot; above their limit too, ALS (memory linear in titles), BPR and
popularity remain.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.evaluation.offline import temporal_holdout
from persona_lib.evaluation.splits import stratified_split
from persona_lib.models.recommenders import (
    ALSRecommender,
    BPRRecommender,
    EASERecommender,
    EDLAERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    RP3betaRecommender,
)

FOLD_KINDS = ("stratified", "temporal")
FAMILY_ORDER = ("popularity", "ease", "item_knn", "rp3beta", "als", "edlae", "bpr")
# what a family is, for blends made of different kinds of model
KIND = {"popularity": "popularity", "ease": "autoencoder", "edlae": "autoencoder",
        "item_knn": "neighbourhood", "rp3beta": "neighbourhood", "als": "factorization",
        "bpr": "factorization"}  # fmt: skip
INVERSE_BYTES_PER_PAIR = 28  # EASE / EDLAE: 3 float64 + 1 float32 n x n arrays at the peak
ITEM_ITEM_BYTES_PER_PAIR = 24  # item-kNN / RP3beta: dense similarity, no inverse
DEFAULT_MEMORY_BYTES = 2**31
EDGE_STEPS = 3  # geometric steps a setting may take past its grid's edge (extend_edges)


@dataclass(frozen=True)
class Fold:
    """One validation fold: ``fit`` (rows, or a sparse matrix) the candidates learn from and
    ``truth`` (``user_id, title_id``) they are scored on."""

    fit: object
    truth: pd.DataFrame
    label: str


def validation_folds(interactions: pd.DataFrame, how: str = "stratified", n_folds: int = 2,
                     ratio: float = 0.75, valid_days: float = 7.0, random_state: int = 0,
                     prepare=None) -> list[Fold]:  # fmt: skip
    """Validation folds carved from training rows only (see the module docstring).

    Parameters
    ----------
    interactions : the training rows: ``user_id, title_id[, weight]`` (and ``ts`` for
        ``"temporal"``) or an events log (``event_type``; ``"temporal"`` only).
    how : ``"stratified"`` or ``"temporal"``.
    n_folds : folds (>= 1).
    ratio : share of each title's rows kept for fitting (``"stratified"``).
    valid_days : length of each validation window in days (``"temporal"``).
    random_state : fold i uses seed ``random_state + 1 + i`` (``"stratified"``).
    prepare : optional function applied to each fold's fitting rows as soon as the fold is
        carved (e.g. `as_interactions`, so that large logs are not held twice).

    Examples
    --------
    >>> folds = validation_folds(train, "stratified", n_folds=2)  # doctest: +SKIP
    """
    if how not in FOLD_KINDS:
        raise ValueError(f"how must be one of {FOLD_KINDS}, got {how!r}")
    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or n_folds < 1:
        raise ValueError(f"n_folds must be a positive integer, got {n_folds!r}")
    events = "event_type" in interactions.columns
    if how == "stratified":
        if events:
            raise ValueError("stratified folds need one row per interaction; split an events "
                             "log in time (how='temporal')")  # fmt: skip
        folds = [_stratified_fold(interactions, ratio, random_state + 1 + i)
                 for i in range(n_folds)]  # fmt: skip
        return [_prepared(f, prepare) for f in folds]
    if "ts" not in interactions.columns:
        raise ValueError("temporal folds need a 'ts' column")
    if not valid_days > 0:
        raise ValueError(f"valid_days must be positive, got {valid_days}")
    ts = pd.to_datetime(interactions["ts"]) if events else interactions["ts"]
    end = ts.max()
    step = pd.Timedelta(days=valid_days) if events else _numeric_days(ts, valid_days)
    folds = []
    for i in range(n_folds):
        upto = interactions[(ts < end - i * step).to_numpy()] if i else interactions
        fold = _temporal_fold(upto, valid_days, step, events, f"window {i + 1}")
        folds.append(_prepared(fold, prepare))
    return folds


def _prepared(fold: Fold, prepare) -> Fold:
    truth = fold.truth[["user_id", "title_id"]]
    return Fold(fold.fit if prepare is None else prepare(fold.fit), truth, fold.label)


def _numeric_days(ts: pd.Series, valid_days: float):
    return pd.Timedelta(days=valid_days) if pd.api.types.is_datetime64_any_dtype(ts) else valid_days


def _stratified_fold(frame: pd.DataFrame, ratio: float, seed: int) -> Fold:
    fit, held = stratified_split(frame, ratio, by="title_id", random_state=seed)
    return Fold(fit, _new_pairs(held, fit), f"seed {seed}")


def _temporal_fold(rows: pd.DataFrame, valid_days: float, step, events: bool, label) -> Fold:
    if events:
        holdout = temporal_holdout(rows, test_days=valid_days)
        return Fold(holdout.train, holdout.truth, label)
    before = (rows["ts"] < rows["ts"].max() - step).to_numpy()
    truth = _new_pairs(rows[~before], rows[before])
    if truth.empty:
        raise ValueError(f"no new (user_id, title_id) pairs in the last {valid_days} days")
    return Fold(rows[before], truth, label)


def _new_pairs(held: pd.DataFrame, fit: pd.DataFrame) -> pd.DataFrame:
    """(user_id, title_id) pairs of ``held`` not in ``fit``, first occurrence, index kept."""
    pairs = held[["user_id", "title_id"]].drop_duplicates()
    known = pd.MultiIndex.from_frame(fit[["user_id", "title_id"]])
    return pairs[~pd.MultiIndex.from_frame(pairs).isin(known)]


@dataclass(frozen=True)
class DataScale:
    """Size of a training matrix: what the grids scale with.

    ``per_title = n_interactions / n_played_titles`` (``c`` in the module docstring) and
    ``mean_weight`` (``w``) over the non-zero entries.
    """

    n_users: int
    n_titles: int
    n_interactions: int
    n_played_titles: int
    mean_weight: float

    def __post_init__(self):
        if self.n_interactions < 1 or self.n_titles < 2:
            raise ValueError("tuning needs at least one interaction and two titles")

    @property
    def per_title(self) -> float:
        return self.n_interactions / max(self.n_played_titles, 1)

    @classmethod
    def from_matrix(cls, matrix: sp.spmatrix) -> DataScale:
        m = sp.csr_matrix(matrix)
        m.eliminate_zeros()
        played = int(np.unique(m.indices).size)
        mean = float(m.data.mean()) if m.nnz else 0.0
        return cls(m.shape[0], m.shape[1], int(m.nnz), played, mean)

    def to_dict(self) -> dict:
        return {"n_users": self.n_users, "n_titles": self.n_titles,
                "n_interactions": self.n_interactions, "n_played_titles": self.n_played_titles,
                "mean_weight": round(self.mean_weight, 6),
                "per_title": round(self.per_title, 6)}  # fmt: skip


def dense_title_limit(memory_bytes: float = DEFAULT_MEMORY_BYTES,
                      bytes_per_pair: int = INVERSE_BYTES_PER_PAIR) -> int:  # fmt: skip
    """Most titles whose dense ``n x n`` arrays fit: ``floor(sqrt(memory_bytes / bytes_per_pair))``.

    >>> dense_title_limit(2**31, 28), dense_title_limit(2**31, 24)
    (8757, 9459)
    """
    return int(np.floor(np.sqrt(memory_bytes / bytes_per_pair)))


@dataclass(frozen=True)
class CandidateGrid:
    """A model family: its class, fixed arguments, the grid searched (values in order) and
    upper bounds that edge extension may not pass (``bounds``: parameter -> largest value)."""

    name: str
    model: type
    fixed: Mapping = field(default_factory=dict)
    grid: Mapping = field(default_factory=dict)
    bounds: Mapping = field(default_factory=dict)

    def points(self) -> list[dict]:
        """Every combination, in grid order."""
        keys = list(self.grid)
        return [dict(zip(keys, v, strict=True)) for v in itertools.product(*self.grid.values())]

    def center(self) -> dict:
        """The middle value of every grid list (the lower middle of an even list)."""
        return {key: values[(len(values) - 1) // 2] for key, values in self.grid.items()}

    def make(self, params: Mapping | None = None):
        """An unfitted model with the fixed arguments and ``params``; ValueError past a bound."""
        params = {**self.fixed, **(params or {})}
        for key, high in self.bounds.items():
            if key in params and params[key] > high:
                raise ValueError(f"{self.name}: {key} = {params[key]} is above its bound {high}")
        return self.model(**params)


def _sig(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


def recommender_grids(
    scale: DataScale, families=None, memory_bytes: float = DEFAULT_MEMORY_BYTES,
    random_state: int = 0,
) -> tuple[dict[str, CandidateGrid], dict[str, str]]:  # fmt: skip
    """Grids of each family scaled to ``scale`` (module docstring), in `FAMILY_ORDER`.

    Returns
    -------
    (grids, excluded): name -> `CandidateGrid` for the candidates, and name -> reason for the
    families left out because their dense arrays exceed ``memory_bytes``.
    """
    names = FAMILY_ORDER if families is None else tuple(families)
    unknown = sorted(set(names) - set(FAMILY_ORDER))
    if unknown:
        raise ValueError(f"unknown families {unknown}; choose from {list(FAMILY_ORDER)}")
    c, w, n = scale.per_title, max(scale.mean_weight, 1e-12), scale.n_titles
    most_factors = max(2, n // 4)
    factors = sorted({min(f, most_factors) for f in (32, 64)})
    alphas = [_sig(a / w) for a in (2.0, 6.0)]
    knn = sorted({int(min(max(5, round(n * s)), n - 1)) for s in (1 / 32, 1 / 16, 1 / 8)})
    seed = {"random_state": random_state}
    specs = {
        "popularity": (PopularityRecommender, {}, {}),
        "ease": (EASERecommender, {"binarize": True},
                 {"l2": [_sig(m * c) for m in (2.5, 5, 10, 20)]}),
        "item_knn": (ItemKNNRecommender, {},
                     {"similarity": ["bm25", "cosine"], "k_neighbors": knn}),
        "rp3beta": (RP3betaRecommender, {}, {"alpha": [0.5, 1.0], "beta": [0.3, 0.5, 0.7]}),
        "als": (ALSRecommender, {"iterations": 15, **seed}, {"factors": factors, "alpha": alphas,
                "regularization": [_sig(m * 4.0 * c) for m in (0.1, 0.3, 1.0, 3.0)]}),
        "edlae": (EDLAERecommender, {"binarize": True}, {"dropout": [0.5, 0.75],
                  "l2": [_sig(m * c) for m in (2.5, 10)], "max_diagonal": [0.0, None]}),
        "bpr": (BPRRecommender, {"factors": factors[-1], "iterations": 100,
                                 "regularization": 0.01, **seed},
                {"learning_rate": [0.005, 0.01, 0.02]}),
    }  # fmt: skip
    limits = dict.fromkeys(("ease", "edlae"), INVERSE_BYTES_PER_PAIR)
    limits.update(dict.fromkeys(("item_knn", "rp3beta"), ITEM_ITEM_BYTES_PER_PAIR))
    bounds = {"als": {"factors": most_factors}, "bpr": {"factors": most_factors},
              "item_knn": {"k_neighbors": n - 1}}  # fmt: skip
    grids, excluded = {}, {}
    for name in names:
        per_pair = limits.get(name)
        if per_pair and n > dense_title_limit(memory_bytes, per_pair):
            excluded[name] = (f"{n:,} titles need about {per_pair * n * n / 2**30:.1f} GiB of "
                              f"dense n x n arrays, above memory_bytes "
                              f"({memory_bytes / 2**30:.1f} GiB)")  # fmt: skip
            continue
        model, fixed, grid = specs[name]
        grids[name] = CandidateGrid(name, model, fixed, grid, bounds.get(name, {}))
    return grids, excluded


def extend_edges(grid: dict, params: dict, score: float, score_of: Callable,
                 steps: int = EDGE_STEPS) -> tuple[dict, float, list]:  # fmt: skip
    """Push numeric settings chosen at the end of their grid lists one geometric step further.

    For each numeric parameter whose chosen value is its list's largest or smallest (non-zero)
    value, ``value^2 / neighbour`` is scored by ``score_of(params)`` with the other settings
    kept, and kept only if it scores higher; then the step repeats, at most ``steps`` times.
    ``score_of`` raising ValueError (outside the valid range) or returning None (no time
    left) ends the parameter's walk.

    Returns
    -------
    (params, score, extra): the settings, their score and every extra point scored (with
    ``valid_ndcg_at_10`` and ``edge_step: True``).
    """
    params, extra = dict(params), []
    for key, values in grid.items():
        nums = sorted(v for v in values if isinstance(v, int | float) and not isinstance(v, bool))
        whole = all(isinstance(v, int) for v in nums)
        for _ in range(steps):
            value = params[key]
            if len(nums) < 2 or value not in (nums[0], nums[-1]) or value == 0:
                break
            neighbour = nums[-2] if value == nums[-1] else nums[1]
            step = value * value / neighbour
            step = int(round(step)) if whole else round(float(step), 6)
            try:
                trial = score_of({**params, key: step})
            except ValueError:
                break
            if trial is None:
                break
            extra.append({**params, key: step, "valid_ndcg_at_10": trial, "edge_step": True})
            if trial <= score:
                break
            params[key], score = step, trial
            nums = sorted([*nums, step])
    return params, score, extra

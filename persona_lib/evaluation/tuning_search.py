"""The search behind `persona_lib.evaluation.tuning.tune_recommenders`: scoring one setting on
validation folds under a budget, the grid and edge steps, and the blend step.

`TuningSearch` holds one run's state (the clock, the units spent, the scored rows, each family's
best); `search_blend` is step 4 of `tuning`'s module docstring, where the steps, budgets and
the choice rule are stated. `fold_scores` and `paired_check` are the two measurements every step
uses: per-member nDCG@k of a model fitted on each fold, and the paired 95 % interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import pandas as pd

from persona_lib.evaluation.ranking import ndcg_at_k, ndcg_per_member
from persona_lib.evaluation.tuning_space import KIND, CandidateGrid, Fold, extend_edges
from persona_lib.models.recommenders import BlendRecommender

__all__ = ["BLEND_WEIGHTS", "TuningSearch", "blend_members", "fold_scores", "paired_check",
           "search_blend"]  # fmt: skip

BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def fold_scores(make_model: Callable[[], object], folds: Sequence, n_users: int, n_titles: int,
                titles=None, k: int = 10) -> list[pd.Series]:  # fmt: skip
    """Per-member nDCG@k on each fold of ``make_model()`` fitted on that fold's rows.

    ``folds`` holds `Fold` objects or ``(fit, truth)`` pairs; the model recommends the ``k``
    best unseen titles to every member of ``truth``. The mean of a fold's series is its
    `ndcg_at_k`.
    """
    out = []
    for fold in folds:
        fit, truth = (fold.fit, fold.truth) if isinstance(fold, Fold) else fold
        model = make_model().fit(fit, n_users, n_titles, titles=titles)
        rec = model.recommend(np.unique(truth["user_id"].to_numpy()), k=k)
        out.append(ndcg_per_member(truth, rec, k=k))
    return out


class TuningSearch:
    """The state of one tuning run: the clock, the scored rows, each family's best."""

    def __init__(self, grids: dict[str, CandidateGrid], folds: list[Fold], shape, k, budget,
                 max_points: int | None = None):  # fmt: skip
        self.grids, self.folds, self.shape, self.k, self.budget = grids, folds, shape, k, budget
        self.max_points, self.units = max_points, 0
        self.start = time.perf_counter()
        self.rows, self.skipped, self.best, self.cost = [], [], {}, {}

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def refusal(self, expected: float) -> str | None:
        """Why a unit expected to take ``expected`` seconds may not start; None: it may."""
        if self.max_points is not None and self.units >= self.max_points:
            return f"the limit of {self.max_points} settings was reached"
        if self.budget is None or not self.rows:
            return None
        return None if self.elapsed() + expected <= self.budget else "time budget spent"

    def skip(self, name, stage, params, reason="time budget spent") -> None:
        self.skipped.append({"candidate": name, "stage": stage, "params": params,
                             "reason": reason})  # fmt: skip

    def record(self, name, stage, params, per_fold, seconds) -> float:
        means = [float(s.mean()) if len(s) else 0.0 for s in per_fold]
        mean = round(float(np.mean(means)), 6)
        sd = round(float(np.std(means, ddof=1)), 6) if len(means) > 1 else 0.0
        self.rows.append({"candidate": name, "stage": stage, "params": params, "fold_mean": mean,
                          "fold_sd": sd, "fold_scores": [round(m, 6) for m in means],
                          "seconds": round(seconds, 3)})  # fmt: skip
        return mean

    def score(self, name: str, params: dict, stage: str) -> float | None:
        """Validation score of one setting, or None when the budget does not allow it."""
        reason = self.refusal(self.cost.get(name, 0.0))
        if reason is not None:
            self.skip(name, stage, params, reason)
            return None
        self.units += 1
        began = time.perf_counter()
        per_fold = fold_scores(lambda: self.grids[name].make(params), self.folds, *self.shape,
                               k=self.k)  # fmt: skip
        self.cost[name] = time.perf_counter() - began
        mean = self.record(name, stage, params, per_fold, self.cost[name])
        if name not in self.best or mean > self.best[name]["fold_mean"]:
            self.best[name] = {"params": params, "fold_mean": mean,
                               "per_member": pd.concat(per_fold, ignore_index=True)}  # fmt: skip
        return mean

    def search_grids(self) -> None:
        centers = {name: grid.center() for name, grid in self.grids.items()}
        for name in self.grids:
            self.score(name, centers[name], "first")
        first = {n: self.best[n]["fold_mean"] for n in self.best}
        ranked = sorted(first, key=lambda n: -first[n])  # stable: family order breaks ties
        ranked += [n for n in self.grids if n not in first]
        for name in ranked:
            for point in self.grids[name].points():
                if point != centers[name]:
                    self.score(name, point, "grid")
        for name in ranked:
            if name in self.best:
                best = self.best[name]
                extend_edges(dict(self.grids[name].grid), best["params"], best["fold_mean"],
                             partial(self.score, name, stage="edge"))  # fmt: skip


def blend_members(best: dict) -> list[str]:
    """The best family of each kind, strongest first, at most three."""
    members, kinds = [], set()
    for name in sorted(best, key=lambda n: -best[n]["fold_mean"]):  # stable: family order
        if KIND[name] not in kinds:
            members.append(name)
            kinds.add(KIND[name])
    return members[:3]


def search_blend(search: TuningSearch) -> dict | None:
    """Step 4 of the module docstring on a finished `TuningSearch`; None when it is not run."""
    names = blend_members(search.best)
    if len(names) < 2:
        search.skip("blend", "blend", {"members": names}, "fewer than two kinds of model tuned")
        return None
    grid = {m: [1.0] if i == 0 else list(BLEND_WEIGHTS) for i, m in enumerate(names)}
    members = {m: search.grids[m].make(search.best[m]["params"]) for m in names}
    reason = search.refusal(sum(search.cost.get(m, 0.0) for m in names))
    if reason is not None:
        search.skip("blend", "blend", {"members": names}, reason)
        return None
    search.units += 1
    began, metric = time.perf_counter(), partial(ndcg_at_k, k=search.k)
    blends = [BlendRecommender(members).fit(f.fit, *search.shape) for f in search.folds]

    def table(weights: dict) -> pd.DataFrame:
        tables = [pd.DataFrame(b.fit_weights(f.truth, weights, metric, k=search.k).weight_scores_)
                  for b, f in zip(blends, search.folds, strict=True)]  # fmt: skip
        return pd.concat(tables).groupby(names, sort=False)["metric"].agg(["mean", "std"])

    scored = table(grid)
    for weights, row in scored.iterrows():
        search.rows.append({"candidate": "blend", "stage": "blend",
                            "params": dict(zip(names, map(float, weights), strict=True)),
                            "fold_mean": round(float(row["mean"]), 6),
                            "fold_sd": round(0.0 if np.isnan(row["std"]) else row["std"], 6),
                            "fold_scores": [], "seconds": 0.0})  # fmt: skip
    first = int(scored["mean"].to_numpy().argmax())
    weights = dict(zip(names, map(float, scored.index[first]), strict=True))
    weights, mean, extra = extend_edges(grid, weights, round(float(scored["mean"].iloc[first]), 6),
                                        lambda w: round(float(table({m: [w[m]] for m in names})
                                                        ["mean"].iloc[0]), 6))  # fmt: skip
    for row in extra:
        search.rows.append({"candidate": "blend", "stage": "edge",
                            "params": {m: row[m] for m in names},
                            "fold_mean": row["valid_ndcg_at_10"], "fold_sd": float("nan"),
                            "fold_scores": [], "seconds": 0.0})  # fmt: skip
    per_member = []
    for blend, fold in zip(blends, search.folds, strict=True):
        blend.weights_ = dict(weights)
        rec = blend.recommend(np.unique(fold.truth["user_id"].to_numpy()), k=search.k)
        per_member.append(ndcg_per_member(fold.truth, rec, k=search.k))
    search.rows[-1]["seconds"] = round(time.perf_counter() - began, 3)
    params = {"members": {m: search.best[m]["params"] for m in names}, "weights": weights}
    return {"params": params, "fold_mean": mean,
            "per_member": pd.concat(per_member, ignore_index=True)}  # fmt: skip


def paired_check(better: pd.Series, baseline: pd.Series) -> dict:
    """Mean and 95 % interval (mean +- 1.96 sd / sqrt(n)) of paired differences."""
    diff = better.to_numpy(np.float64) - baseline.to_numpy(np.float64)
    half = 1.96 * diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else np.inf
    mean = float(diff.mean())
    low, high = round(float(mean - half), 6), round(float(mean + half), 6)
    return {"diff": round(mean, 6), "ci95": [low, high]}

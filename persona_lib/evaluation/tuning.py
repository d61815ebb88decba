"""Tuning recommenders on validation folds carved from the training rows, under a budget of
time or of units.

`tune_recommenders` scores settings of each model family (`tuning_space.recommender_grids`,
grids scaled to the data) by nDCG@k on validation folds (`tuning_space.validation_folds`): a
setting's score is the mean over folds of the nDCG@k of a model fitted on the fold's rows,
recommending unseen titles to the fold's validation members. Units of work (one setting scored
on every fold) run in this stated order:

1. ``first``: each family's middle grid point, families in `FAMILY_ORDER`;
2. ``grid``: the rest of each family's grid, in grid order, families ordered by their
   ``first`` score (best first, so a short budget goes to the promising ones);
3. ``edge``, families in the same order: a numeric setting chosen at its grid's edge is
   pushed one geometric step further (``edge^2 / neighbour``) and kept while the score
   rises, at most ``EDGE_STEPS`` times (`extend_edges`);
4. ``blend``: the best model of each of the three strongest kinds (popularity, autoencoder,
   neighbourhood, factorization), strongest first with weight 1, the others weighted from
   ``BLEND_WEIGHTS`` by `BlendRecommender.fit_weights` on each fold (mean over folds), a
   weight chosen at the top of its list pushed outwards like step 3.

Time budget: a unit starts only if the seconds spent so far plus its expected seconds (the last
measured unit of the same family; for the blend, the sum of its members') stay within
``budget_seconds``; the very first unit always runs, so there is always a choice. What did not
start is listed in ``Tuning.skipped``. A unit of a family not yet measured counts as free, so
the budget can be overrun by one such unit.

Unit budget: with ``max_points``, at most that many units run (each setting scored on every
fold counts one, edge steps included; the whole blend search of step 4 counts one), in the
order above. Which units run then does not depend on the machine, so a search under
``max_points`` alone (``budget_seconds=None``) chooses the same settings everywhere, up to
floating point. Both budgets may be given; a unit starts only if both allow it.

Choice: the setting with the highest fold mean (ties: the earlier). The blend replaces it only
when its fold mean is higher *and* the 95 % interval (mean +- 1.96 se) of the per-(fold, member)
differences lies above zero; its weights were fitted on these folds, so the check is
optimistic, never pessimistic. Scores are deterministic for a given ``random_state`` and set of
units; with a finite ``budget_seconds``, which units run depends on the machine's speed
(``budget_seconds=None`` with ``max_points`` or without: the same units on every machine).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from persona_lib.evaluation.tuning_search import (
    TuningSearch,
    paired_check,
    search_blend,
)
from persona_lib.evaluation.tuning_space import (
    DEFAULT_MEMORY_BYTES,
    DataScale,
    recommender_grids,
    validation_folds,
)
from persona_lib.models.recommenders import BlendRecommender, as_interactions

DEFAULT_BUDGET_SECONDS = 20.0


@dataclass(frozen=True)
class Tuning:
    """The outcome of `tune_recommenders`.

    Attributes
    ----------
    chosen : str
        The chosen family (e.g. ``"ease"``) or ``"blend"``.
    params : dict
        Its settings; for a blend ``{"members": {name: params}, "weights": {name: w}}``.
    scores : DataFrame
        Every unit scored: ``candidate, stage, params, fold_mean, fold_sd, fold_scores,
        seconds`` (fold_mean: validation nDCG@k; fold_sd: standard deviation over folds).
    best : dict
        Family -> ``{"params", "fold_mean"}`` of its best setting.
    grids : dict
        Family -> `CandidateGrid` (to rebuild any tuned family with `make`).
    weights : dict or None
        The blend weights when a blend was chosen.
    skipped : DataFrame
        ``candidate, stage, params, reason`` of what was not scored (budget, size limit).
    elapsed_seconds, budget_seconds : float (budget None: no limit).
    max_points : int or None
        The unit budget (None: no limit); ``units`` : how many units ran.
    scale : DataScale of the training rows; folds : how the folds were carved; k : list length.
    blend_check : dict
        The blend tried (``params``, ``fold_mean``), its paired difference from the best single
        family (``vs``, ``diff``, ``ci95``) and whether it was ``chosen``; empty if not tried.
    """

    chosen: str
    params: dict
    scores: pd.DataFrame
    best: dict
    grids: dict
    weights: dict | None
    skipped: pd.DataFrame
    elapsed_seconds: float
    budget_seconds: float | None
    scale: DataScale
    folds: str
    k: int = 10
    blend_check: dict = field(default_factory=dict)
    max_points: int | None = None
    units: int = 0

    def __post_init__(self):
        if self.chosen != "blend" and self.chosen not in self.best:
            raise ValueError(f"chosen {self.chosen!r} is not a tuned family")
        if (self.chosen == "blend") != (self.weights is not None):
            raise ValueError("weights are given exactly when a blend is chosen")

    def make(self, name: str | None = None):
        """An unfitted model: the chosen one (default), a tuned family, or ``"blend"`` (the
        blend tried, whether chosen or not). A candidate family the budget left unscored gets
        its grid's middle point (it is listed in ``skipped``)."""
        name = self.chosen if name is None else name
        if name == "blend":
            if "params" not in self.blend_check:
                raise ValueError("no blend was tried")
            params = self.blend_check["params"]
            members = {m: self.grids[m].make(p) for m, p in params["members"].items()}
            return BlendRecommender(members, weights=params["weights"])
        if name in self.best:
            return self.grids[name].make(self.best[name]["params"])
        if name in self.grids:
            return self.grids[name].make(self.grids[name].center())
        raise ValueError(f"{name!r} is not a candidate; candidates: {sorted(self.grids)}")

    def refit(self, interactions, n_users=None, n_titles=None, titles=None):
        """The chosen model fitted on all the training rows (``Recommender.fit`` arguments)."""
        return self.make().fit(interactions, n_users, n_titles, titles=titles)

    def table(self) -> pd.DataFrame:
        """One row per candidate, best validation score first (never scored: last).

        Columns: ``candidate`` (family or ``"blend"``), ``settings`` (its best settings as
        text; for the blend its weights), ``valid_ndcg_at_<k>`` (fold mean, NaN if never
        scored), ``fold_sd``, ``scored`` and ``skipped`` (settings, or blend weightings, scored
        and left out), ``chosen``.
        """
        key = f"valid_ndcg_at_{self.k}"
        rows = self.scores.sort_values("fold_mean", ascending=False, kind="stable")
        top = rows.drop_duplicates("candidate").set_index("candidate")
        names = list(dict.fromkeys([*self.grids, *top.index, *self.skipped["candidate"]]))
        settings = {n: self.best[n]["params"] for n in self.best}
        if self.blend_check:
            settings["blend"] = self.blend_check["params"]["weights"]
        return pd.DataFrame({
            "candidate": names,
            "settings": [_settings_text(settings.get(n)) for n in names],
            key: [top["fold_mean"].get(n, np.nan) for n in names],
            "fold_sd": [top["fold_sd"].get(n, np.nan) for n in names],
            "scored": [int((self.scores["candidate"] == n).sum()) for n in names],
            "skipped": [int((self.skipped["candidate"] == n).sum()) for n in names],
            "chosen": [n == self.chosen for n in names],
        }).sort_values(key, ascending=False, kind="stable", na_position="last",
                       ignore_index=True)  # fmt: skip

    def to_dict(self) -> dict:
        scores = self.scores.assign(params=self.scores["params"].map(_json_params))
        return {"chosen": self.chosen, "params": _json_params(self.params),
                "weights": self.weights, "best": {n: {**b, "params": _json_params(b["params"])}
                                                  for n, b in self.best.items()},
                "scores": [{key: None if isinstance(v, float) and np.isnan(v) else v
                            for key, v in row.items()} for row in scores.to_dict("records")],
                "skipped": self.skipped.assign(
                    params=self.skipped["params"].map(_json_params)).to_dict("records"),
                "elapsed_seconds": round(self.elapsed_seconds, 3),
                "budget_seconds": self.budget_seconds, "max_points": self.max_points,
                "units": self.units, "scale": self.scale.to_dict(),
                "folds": self.folds, "k": self.k,
                "blend_check": _json_params(self.blend_check)}  # fmt: skip


def _settings_text(params: dict | None) -> str:
    """``{"l2": 1160.0, "binarize": True}`` -> ``"l2 = 1160, binarize = True"``."""
    if params is None:
        return ""
    if not params:
        return "(none)"
    return ", ".join(f"{key} = {value:g}" if isinstance(value, float) else f"{key} = {value}"
                     for key, value in params.items())  # fmt: skip


def _json_params(params):
    if isinstance(params, dict):
        return {str(key): _json_params(value) for key, value in params.items()}
    if isinstance(params, np.generic):
        return params.item()
    return params


def tune_recommenders(
    interactions: pd.DataFrame, n_users: int | None = None, n_titles: int | None = None, *,
    titles: pd.DataFrame | None = None, folds: str = "stratified", n_folds: int = 2,
    ratio: float = 0.75, valid_days: float = 7.0, families: Sequence[str] | None = None,
    budget_seconds: float | None = DEFAULT_BUDGET_SECONDS, max_points: int | None = None,
    k: int = 10, blend: bool = True, memory_bytes: float = DEFAULT_MEMORY_BYTES,
    random_state: int = 0,
) -> Tuning:  # fmt: skip
    """Choose a recommender and its settings on validation folds of the training rows.

    Parameters
    ----------
    interactions : the training rows only: ``user_id, title_id[, weight][, ts]`` or an events
        log (with ``titles``; turned into confidence weights per fold). Never the test rows.
    n_users, n_titles : shape of the member x title matrix (default: one past the largest id).
    titles : the titles table, needed for an events log.
    folds, n_folds, ratio, valid_days : how validation folds are carved (`validation_folds`):
        ``"stratified"`` by title (ratings tables) or ``"temporal"`` (events logs).
    families : model families to try (default `FAMILY_ORDER`); dense ones whose ``n x n``
        arrays exceed ``memory_bytes`` are left out and listed in ``skipped``.
    budget_seconds : seconds for the whole search, fold carving included; None: no limit.
    max_points : most units to run (module docstring, "Unit budget"); None: no limit. With
        ``budget_seconds=None`` the search is then the same on every machine.
    k : list length of the validation nDCG@k.
    blend : also try a blend of the tuned families (module docstring, step 4).
    random_state : seeds the stratified folds (``random_state + 1 + i``) and ALS/BPR.

    Returns
    -------
    Tuning

    Examples
    --------
    >>> tuning = tune_recommenders(train, n_users, n_titles, budget_seconds=60)  # doctest: +SKIP
    >>> model = tuning.refit(train, n_users, n_titles)  # doctest: +SKIP
    """
    if budget_seconds is not None and not budget_seconds >= 0:
        raise ValueError(f"budget_seconds must be >= 0 or None, got {budget_seconds!r}")
    if max_points is not None and (isinstance(max_points, bool) or not isinstance(
            max_points, int | np.integer) or max_points < 1):  # fmt: skip
        raise ValueError(f"max_points must be a positive integer or None, got {max_points!r}")
    start = time.perf_counter()
    matrix = as_interactions(interactions, n_users, n_titles, titles)
    shape, scale = matrix.shape, DataScale.from_matrix(matrix)
    grids, excluded = recommender_grids(scale, families, memory_bytes, random_state)
    if not grids:
        raise ValueError(f"no family can be tuned: {excluded}")
    carved = validation_folds(interactions, folds, n_folds, ratio, valid_days, random_state,
                              prepare=partial(as_interactions, n_users=shape[0],
                                              n_titles=shape[1], titles=titles))  # fmt: skip
    points = None if max_points is None else int(max_points)
    search = TuningSearch(grids, carved, shape, k, budget_seconds, points)
    search.start = start
    for name, reason in excluded.items():
        search.skip(name, "first", {}, reason)
    search.search_grids()
    chosen = max(search.best, key=lambda n: search.best[n]["fold_mean"])  # first of ties
    params, weights, check = search.best[chosen]["params"], None, {}
    tried = search_blend(search) if blend else None
    if tried is not None:
        paired = paired_check(tried["per_member"], search.best[chosen]["per_member"])
        check = {"params": tried["params"], "fold_mean": float(tried["fold_mean"]), "vs": chosen,
                 **paired}  # fmt: skip
        check["chosen"] = bool(tried["fold_mean"] > search.best[chosen]["fold_mean"]
                               and check["ci95"][0] > 0)  # fmt: skip
        if check["chosen"]:
            chosen, params, weights = "blend", tried["params"], tried["params"]["weights"]
    columns = ["candidate", "stage", "params", "reason"]
    return Tuning(
        chosen=chosen, params=params, scores=pd.DataFrame(search.rows),
        best={n: {"params": b["params"], "fold_mean": b["fold_mean"]}
              for n, b in search.best.items()},
        grids=grids, weights=weights, skipped=pd.DataFrame(search.skipped, columns=columns),
        elapsed_seconds=time.perf_counter() - start, budget_seconds=budget_seconds,
        scale=scale, folds=_describe(folds, n_folds, ratio, valid_days, random_state), k=k,
        blend_check=check, max_points=search.max_points, units=search.units,
    )  # fmt: skip


def _describe(folds: str, n_folds: int, ratio: float, valid_days: float, seed: int) -> str:
    if folds == "stratified":
        seeds = [seed + 1 + i for i in range(n_folds)]
        return f"stratified_split(train, {ratio}, by='title_id'), seeds {seeds}"
    return f"{n_folds} temporal windows of {valid_days} days at the end of the training rows"

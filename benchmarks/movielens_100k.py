"""MovieLens 100K under microsoft/recommenders' benchmark protocol; prints one JSON document.

Protocol of their benchmark table (recommenders 1.2.1): ``python_stratified_split`` by item,
ratio 0.75, seed 42 (75,066 train / 24,934 test rows, asserted); k = 10; every test rating is
relevant (binary); titles seen in training are never recommended; metrics averaged as
recommenders 1.2.1 does (`persona_lib.evaluation.ranking` follows it to 1e-12).

The result is the model chosen on validation, and only that one: the library's
`persona_lib.evaluation.tune_recommenders` searches the frozen model set below on stratified
validation folds carved from the training rows (``stratified_split(train, 0.75,
by="title_id")``, seeds 1 and 2), with no time budget, so the same settings are scored on every
machine. The chosen model is refitted on the whole training split and evaluated once on the
test split, with a 95 % bootstrap interval over the 943 members (2,000 replicates) and its
paired difference from EASE (same resampled members). Every other tuned family, the blend the
library tried and the two-stage ranker (fixed settings, scored on the same folds, not among
the candidates) get a test row too, for the table; nothing is chosen from those rows. Any
model that fails to fit or score fails the benchmark.

The published rows (``PUBLISHED_NDCG_AT_10``) are context, not opponents: they were run with
each library's defaults or the settings of recommenders' own benchmark notebook, with no
tuning on validation folds of this split, while every row here is tuned on them. The JSON
states this (``published_protocol_difference``) and compares no row with them. Nor does it
declare issue 3's targets on the test split (EASE >= 0.48, best row >= 0.50) met or missed:
each row's 95 % interval is about +-0.017 wide, wider than the distance to either figure.

How the frozen set came about, and why its test figure is not a clean hold-out: the model set
and grids grew over several sessions of issue 3 (November-December 2026): EASE, ALS, BPR,
item-kNN, popularity and a score blend first; then EDLAE and RP3beta; then settings chosen at
a grid edge pushed outwards; then ALS searching alpha with regularization; then the library's
tuner with grids scaled to the data replaced the benchmark's own grids. Each of those steps
was decided on validation folds, but the test nDCG@10 was read after most of them (0.4977,
0.4954, 0.4909 for the chosen model, against a target of 0.50 stated on the test split), and
whether to keep searching was decided knowing those readouts. So the test figure is a fair
estimate for each row given its settings, but mildly optimistic for the set as a whole. The
set and grids are frozen as of December 6, 2026 (``FROZEN_FAMILIES``, ``FROZEN_GRIDS``,
``FROZEN_SEARCH``, checked against the library before the search: a mismatch stops the
benchmark). Further changes to them are decided on the validation folds only, and the test
split is read once for each frozen set. ``CHOSEN_AT_FREEZE`` records what the frozen search
chose on validation at the freeze; a run that chooses otherwise (another machine's floating
point, or a library change) says so in ``frozen.choices_as_at_freeze``.

Inputs: every model fits on the training ratings as weights (ALS: confidence = alpha x rating,
Hu et al. 2008; EASE, EDLAE and RP3beta binarize them). Relevance in the test split is binary.

Usage: ``OPENBLAS_NUM_THREADS=1 python benchmarks/movielens_100k.py [--data FOLDER]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.datasets import load_movielens
from persona_lib.evaluation import (
    DataScale,
    bootstrap_means,
    fold_scores,
    map_at_k,
    map_full,
    ndcg_at_k,
    ndcg_per_member,
    precision_at_k,
    recall_at_k,
    recommender_grids,
    stratified_split,
    tune_recommenders,
    validation_folds,
)
from persona_lib.evaluation.tuning_search import BLEND_WEIGHTS
from persona_lib.evaluation.tuning_space import (
    EDGE_STEPS,
    extend_edges,  # noqa: F401  (re-exported)
)
from persona_lib.models.recommenders import TwoStageRanker, as_interactions

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from shared_inputs import require_dataset, rounded  # noqa: E402  (benchmarks/ is not a package)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/movielens/ml-100k"
K = 10
RATIO = 0.75
SPLIT_SEED = 42
EXPECTED_SPLIT = (75_066, 24_934)
TUNING_SEED = 0  # validation folds use seeds TUNING_SEED + 1 + i: 1 and 2, never 42
VALID_SEEDS = (TUNING_SEED + 1, TUNING_SEED + 2)
N_BOOT = 2000  # bootstrap replicates (members resampled) of the test intervals
RANKER_MEMBERS = ("ease", "als", "popularity")
RANKER_SETTINGS = {"n_candidates": 50, "holdout_fraction": 0.25, "random_state": 0}

# The frozen model set (module docstring): families, their grids on this training split (the
# library scales them to the data: fixed arguments, then the values searched) and the search.
FROZEN_FAMILIES = ("popularity", "ease", "item_knn", "rp3beta", "als", "edlae", "bpr")
FROZEN_GRIDS = {
    "popularity": ({}, {}),
    "ease": ({"binarize": True}, {"l2": [112.0, 223.0, 446.0, 893.0]}),
    "item_knn": ({}, {"similarity": ["bm25", "cosine"], "k_neighbors": [53, 105, 210]}),
    "rp3beta": ({}, {"alpha": [0.5, 1.0], "beta": [0.3, 0.5, 0.7]}),
    "als": ({"iterations": 15, "random_state": 0},
            {"factors": [32, 64], "alpha": [0.567, 1.7],
             "regularization": [17.9, 53.6, 179.0, 536.0]}),
    "edlae": ({"binarize": True},
              {"dropout": [0.5, 0.75], "l2": [112.0, 446.0], "max_diagonal": [0.0, None]}),
    "bpr": ({"factors": 64, "iterations": 100, "regularization": 0.01, "random_state": 0},
            {"learning_rate": [0.005, 0.01, 0.02]}),
}  # fmt: skip
FROZEN_SEARCH = {"budget_seconds": None, "edge_steps": 3,
                 "blend_weights": [0.0, 0.25, 0.5, 0.75, 1.0]}  # fmt: skip
FROZEN_ON = "2026-12-06"
# What the frozen search chose on validation at the freeze (each family's best settings, beyond
# the fixed arguments, and the blend); the regression test refits EASE and ALS at these.
CHOSEN_AT_FREEZE = {
    "popularity": {},
    "ease": {"l2": 446.0},
    "item_knn": {"similarity": "bm25", "k_neighbors": 840},
    "rp3beta": {"alpha": 0.5, "beta": 0.5},
    "als": {"factors": 256, "alpha": 1.7, "regularization": 53.6},
    "edlae": {"dropout": 0.5, "l2": 446.0, "max_diagonal": None},
    "bpr": {"learning_rate": 0.005},
    "blend": {"als": 1.0, "edlae": 0.25, "rp3beta": 0.0},
    "chosen": "blend",
}

# microsoft/recommenders benchmark table, MovieLens 100K, nDCG@10 (../shared/data/README.md)
PUBLISHED_NDCG_AT_10 = {"BiVAE": 0.4751, "BPR": 0.4420, "LightGCN": 0.4198, "NCF": 0.3961,
                        "SAR": 0.3825, "SVD": 0.0959, "ALS (Spark)": 0.0442}  # fmt: skip
PUBLISHED_PROTOCOL_DIFFERENCE = (
    "Same split, k, relevance and metric code, different tuning: the published rows use each "
    "library's default settings or those of recommenders' benchmark notebook, not tuned on "
    "this split; every row here has its settings chosen on validation folds of the training "
    "split. The published table is context, not a like-for-like ranking, and no row here is "
    "compared with it."
)
HOW_CHOSEN = {
    "grid": "persona_lib.evaluation.tune_recommenders: frozen grid (FROZEN_GRIDS), scored on "
    "validation folds carved from train (mean nDCG@10 over folds), edges extended",
    "none": "no hyperparameters",
    "blend": "tune_recommenders: best model of each kind, weights by "
    "BlendRecommender.fit_weights on the same folds; chosen only if its paired validation "
    "interval against the best single model lies above zero",
    "ranker": "fixed settings, tuned candidate models; validation score reported only",
}


def load_split(folder: Path):
    """Rated interactions of ml-100k (weight = the rating) split stratified by item."""
    require_dataset(folder / "u.data", "MovieLens 100K", "ml-100k folder")
    ml = load_movielens(folder)
    interactions = ml.to_interactions()
    train, test = stratified_split(interactions, RATIO, by="title_id", random_state=SPLIT_SEED)
    assert (len(train), len(test)) == EXPECTED_SPLIT, (len(train), len(test))
    return train, test, len(ml.user_index), len(ml.title_index)


def evaluate(model, truth: pd.DataFrame) -> tuple[dict[str, float], pd.Series]:
    """Top-k metrics of a fitted model on held-out rows (seen titles excluded), with a 95 %
    bootstrap interval of nDCG@10 over members; also returns each member's nDCG@10."""
    truth = truth[["user_id", "title_id"]]
    rec = model.recommend(np.unique(truth["user_id"].to_numpy()), k=K, exclude_seen=True)
    metrics = {"ndcg_at_10": ndcg_at_k, "precision_at_10": precision_at_k,
               "recall_at_10": recall_at_k, "map": map_full, "map_at_10": map_at_k}  # fmt: skip
    row = {name: round(f(truth, rec, k=K), 6) for name, f in metrics.items()}
    per_member = ndcg_per_member(truth, rec, k=K)
    _, low, high = bootstrap_means(per_member.to_numpy(), n_boot=N_BOOT)
    return {**row, "ndcg_at_10_ci95": rounded([low[0], high[0]])}, per_member


def point_ndcg(cls, params: dict, folds, shape) -> float:
    """Validation nDCG@10 of ``cls(**params)``: its mean over the folds."""
    per_fold = fold_scores(lambda: cls(**params), folds, *shape, k=K)
    return round(float(np.mean([s.mean() for s in per_fold])), 6)


def score_points(pool, cls, fixed: dict, grid_points: list[dict], folds, shape) -> list[float]:
    """`point_ndcg` of every grid point, on ``pool``'s workers (None: in this process)."""
    task = partial(point_ndcg, folds=folds, shape=shape)
    mapper = map if pool is None else pool.map
    return list(mapper(task, [cls] * len(grid_points), [{**fixed, **p} for p in grid_points]))


def grid_search(name: str, folds, shape, pool=None) -> dict:
    """One family tuned by the library on the training rows the folds were carved from (the
    union of a fold's two parts); kept for `spark_als_movielens.py`."""
    train = pd.concat(folds[0]).sort_index()
    tuning = tune_recommenders(train, *shape, families=[name], blend=False, budget_seconds=None,
                               k=K, random_state=TUNING_SEED)  # fmt: skip
    grid = tuning.grids[name]
    return {"params": {**grid.fixed, **tuning.best[name]["params"]}, "grid": dict(grid.grid),
            "valid_ndcg_at_10": tuning.best[name]["fold_mean"]}  # fmt: skip


def grids_as_frozen(grids: dict) -> dict:
    """The library's `CandidateGrid` objects in `FROZEN_GRIDS`' form."""
    return {name: (dict(g.fixed), {key: list(values) for key, values in g.grid.items()})
            for name, g in grids.items()}  # fmt: skip


def check_frozen(train: pd.DataFrame, shape) -> None:
    """Stop unless the library would search exactly the frozen set (module docstring)."""
    scale = DataScale.from_matrix(as_interactions(train, *shape))
    grids, excluded = recommender_grids(scale, FROZEN_FAMILIES, random_state=TUNING_SEED)
    search = {"budget_seconds": None, "edge_steps": EDGE_STEPS,
              "blend_weights": list(BLEND_WEIGHTS)}  # fmt: skip
    found = {"grids": grids_as_frozen(grids), "excluded": excluded, "search": search}
    frozen = {"grids": FROZEN_GRIDS, "excluded": {}, "search": FROZEN_SEARCH}
    if found != frozen:
        raise RuntimeError(
            "the library no longer searches the frozen MovieLens model set: "
            f"{json.dumps(found, default=str)} instead of {json.dumps(frozen, default=str)}. "
            "Changes to the set are decided on validation folds only; update FROZEN_* "
            "deliberately and say so (benchmarks/movielens_100k.py docstring)."
        )


def chosen_settings(tuning) -> dict:
    """What the search chose, in `CHOSEN_AT_FREEZE`'s form."""
    out = {name: dict(best["params"]) for name, best in tuning.best.items()}
    out["blend"] = dict(tuning.blend_check.get("params", {}).get("weights", {}))
    return {**out, "chosen": tuning.chosen}


def validation_rows(tuning, name: str) -> list[dict]:
    """Every unit the library scored for ``name``, as ``{**params, valid_ndcg_at_10, ...}``."""
    rows = tuning.scores[tuning.scores["candidate"] == name]
    return [{**r.params, "valid_ndcg_at_10": r.fold_mean, "fold_sd": r.fold_sd,
             "stage": r.stage} for r in rows.itertuples()]  # fmt: skip


def final_row(name: str, model, params: dict, how: str, grid: dict, validation: list,
              valid: float, train, test, shape) -> dict:  # fmt: skip
    """Refit on the whole training split, evaluate once on test."""
    start = time.perf_counter()
    model.fit(train, *shape)
    fit_seconds = time.perf_counter() - start
    metrics, per_member = evaluate(model, test)
    return {"name": name, "inputs": "ratings", "hyperparameters": params,
            "how_chosen": HOW_CHOSEN[how], "grid": grid, "validation": validation,
            "valid_ndcg_at_10": valid, **metrics, "fit_seconds": round(fit_seconds, 3),
            "per_member": per_member}  # fmt: skip


def model_rows(tuning, train, test, shape) -> list[dict]:
    """One test row per tuned family, then the blend the library tried."""
    rows = []
    for name, best in tuning.best.items():
        grid = tuning.grids[name]
        rows.append(final_row(name, tuning.make(name), {**grid.fixed, **best["params"]},
                              "grid" if grid.grid else "none", dict(grid.grid),
                              validation_rows(tuning, name), best["fold_mean"], train, test,
                              shape))  # fmt: skip
    if "params" in tuning.blend_check:
        rows.append(final_row("blend", tuning.make("blend"), tuning.blend_check["params"],
                              "blend", {}, validation_rows(tuning, "blend"),
                              tuning.blend_check["fold_mean"], train, test, shape))  # fmt: skip
    return rows


def ranker_row(tuning, train, test, shape) -> dict:
    """The two-stage LambdaRank ranker at fixed settings on the tuned members; a failure to fit
    or score it fails the benchmark."""
    fixed = {"candidate_models": {m: tuning.make(m) for m in RANKER_MEMBERS}, **RANKER_SETTINGS}
    folds = validation_folds(train, "stratified", 2, RATIO, random_state=TUNING_SEED)
    valid = score_points(None, TwoStageRanker, fixed, [{}], folds, shape)[0]
    params = {"members": {m: tuning.best[m]["params"] for m in RANKER_MEMBERS},
              "n_candidates": RANKER_SETTINGS["n_candidates"],
              "holdout_fraction": RANKER_SETTINGS["holdout_fraction"]}  # fmt: skip
    return final_row("two_stage_ranker", TwoStageRanker(**fixed), params, "ranker", {},
                     [{"valid_ndcg_at_10": valid}], valid, train, test, shape)  # fmt: skip


def run(folder: Path) -> dict:
    start = time.perf_counter()
    train, test, n_users, n_titles = load_split(folder)
    shape = (n_users, n_titles)
    check_frozen(train, shape)
    tuning = tune_recommenders(train, *shape, folds="stratified", n_folds=len(VALID_SEEDS),
                               ratio=RATIO, families=FROZEN_FAMILIES, budget_seconds=None,
                               k=K, random_state=TUNING_SEED)  # fmt: skip
    if grids_as_frozen(tuning.grids) != FROZEN_GRIDS or not tuning.skipped.empty:
        raise RuntimeError("the search did not run on the frozen grids in full")
    models = [*model_rows(tuning, train, test, shape), ranker_row(tuning, train, test, shape)]
    return summarize(models, tuning, start)


def paired_difference(model: dict, baseline: dict) -> dict:
    """Test nDCG@10 of ``model`` minus ``baseline`` with a 95 % bootstrap interval over members
    (the same resampled members for both): how far apart two rows of the table really are."""
    diff = model["per_member"] - baseline["per_member"]
    mean, low, high = bootstrap_means(diff.to_numpy(), n_boot=N_BOOT)
    return {"vs": baseline["name"], "diff": rounded(mean[0]), "ci95": rounded([low[0], high[0]])}


def summarize(models: list[dict], tuning, start: float) -> dict:
    chosen = next(m for m in models if m["name"] == tuning.chosen)
    ease_row = next(m for m in models if m["name"] == "ease")
    low, high = chosen["ndcg_at_10_ci95"]
    chosen_vs_ease = paired_difference(chosen, ease_row)
    for m in models:
        m.pop("per_member")
    summary = tuning.to_dict()
    settings = chosen_settings(tuning)
    return {
        "dataset": "MovieLens 100K",
        "protocol": {"split": "python_stratified_split by item", "ratio": RATIO,
                     "seed": SPLIT_SEED, "k": K, "relevance": "every test rating (binary)",
                     "seen_removed": True, "metrics": "recommenders 1.2.1 conventions",
                     "validation": f"{tuning.folds}; test split used only for the final "
                                   "numbers"},
        "split_rows": {"train": EXPECTED_SPLIT[0], "test": EXPECTED_SPLIT[1]},
        "chosen_by_validation": chosen["name"],
        "chosen_by_validation_hyperparameters": chosen["hyperparameters"],
        "chosen_by_validation_valid_ndcg_at_10": chosen["valid_ndcg_at_10"],
        "chosen_by_validation_ndcg_at_10": chosen["ndcg_at_10"],
        "chosen_by_validation_ndcg_at_10_ci95": [low, high],
        "chosen_by_validation_vs_ease": chosen_vs_ease,
        "models": models,
        "published_ndcg_at_10": PUBLISHED_NDCG_AT_10,
        "published_protocol_difference": PUBLISHED_PROTOCOL_DIFFERENCE,
        "frozen": {"on": FROZEN_ON, "families": list(FROZEN_FAMILIES), "search": FROZEN_SEARCH,
                   "choices_as_at_freeze": settings == CHOSEN_AT_FREEZE,
                   "choices": settings,
                   "test_readouts": "several during the set's development (docstring): the "
                                    "test figure is mildly optimistic for the set as a whole",
                   "changes": "decided on validation folds only"},
        "tuning": {key: summary[key] for key in ("elapsed_seconds", "budget_seconds", "units",
                                                 "scale", "skipped", "blend_check")},
        "total_seconds": round(time.perf_counter() - start, 2),
    }  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the ml-100k folder")
    args = parser.parse_args()
    print(json.dumps(run(args.data), indent=2))

"""MovieLens 100K under microsoft/recommenders' benchmark protocol; prints one JSON document.

Protocol of their benchmark table (recommenders 1.2.1): ``python_stratified_split`` by item,
ratio 0.75, seed 42 (75,066 train / 24,934 test rows, asserted); k = 10; every test rating is
relevant (binary); titles seen in training are never recommended; metrics averaged as
recommenders 1.2.1 does (`persona_lib.evaluation.ranking` follows it to 1e-12).

Hyperparameters are chosen on validation splits carved from the TRAINING rows only: each fold
is ``stratified_split(train, 0.75, by="title_id")`` with its own seed (``VALID_SEEDS``); a grid
point's score is its nDCG@10 on the fold's held-out quarter averaged over the folds. The best
point of each model (ties: the first in grid order) is refitted on the whole training split and
evaluated once on the test split. The blend
(`persona_lib.models.recommenders.blend.BlendRecommender`) takes
the validation-chosen EASE, ALS and item-kNN and fits its member weights on the same folds; the
second blend does the same for EDLAE, ALS on ratings and RP3beta. The test split is used for
nothing but the final numbers.

The grid of ALS on ratings searches ``alpha`` with ``regularization``: a scan on the validation
folds alone found the best settings on a narrow ridge (regularization about 30 at alpha 1, 50 at
alpha 2, 60 at alpha 3, falling 2-3 % either side of it), which a regularization-only grid at
alpha 1 could not reach. The same scan on folds carved from a fold (42K rows) put the peak at the
same place, so a setting chosen on the 56K-row folds carries over to the 75K-row training split.

Each test row carries a 95 % bootstrap interval of its nDCG@10 over the 943 members (2,000
replicates); the model chosen on validation also gets its paired difference from EASE. The
intervals say how far apart two rows of the table can be told (about +-0.017 for one row).
Grid points are scored on ``--workers`` processes (default 2); each point is seeded, so the
numbers do not depend on the worker count.

Inputs: most models fit on binary interactions (weight 1 per rating). The models in
``RATING_INPUTS`` fit on the training ratings themselves as weights (ALS: confidence = the
rating, Hu et al. 2008; EDLAE and RP3beta binarize them). Relevance in the test split stays
binary either way: the ratings only weigh the training rows.

Usage: ``OPENBLAS_NUM_THREADS=1 python benchmarks/movielens_100k.py [--data FOLDER] [--workers N]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.datasets import load_movielens
from persona_lib.evaluation import (
    bootstrap_means,
    map_at_k,
    map_full,
    ndcg_at_k,
    ndcg_per_member,
    precision_at_k,
    recall_at_k,
    stratified_split,
)
from persona_lib.models import (
    ALSRecommender,
    BPRRecommender,
    EASERecommender,
    EDLAERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    RP3betaRecommender,
)
from persona_lib.models.recommenders import BlendRecommender

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from shared_inputs import require_dataset, rounded  # noqa: E402  (benchmarks/ is not a package)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/movielens/ml-100k"
K = 10
RATIO = 0.75
SPLIT_SEED = 42
EXPECTED_SPLIT = (75_066, 24_934)
VALID_SEEDS = (1, 2)  # validation folds carved from train; never 42, the test split's seed
N_BOOT = 2000  # bootstrap replicates (members resampled) of the test intervals
EDGE_STEPS = 3  # geometric steps past a grid edge that a chosen setting may take (extend_edges)

# name -> (model class, fixed arguments, grid searched on validation)
GRIDS = {
    "popularity": (PopularityRecommender, {}, {}),
    "item_knn": (ItemKNNRecommender, {}, {"similarity": ["cosine", "bm25"],
                                          "k_neighbors": [50, 100, 200]}),
    "ease": (EASERecommender, {"binarize": True}, {"l2": [100.0, 250.0, 500.0, 1000.0]}),
    "als": (ALSRecommender, {"iterations": 15, "random_state": 0},
            {"factors": [16, 32], "regularization": [1.0, 10.0, 30.0]}),
    "bpr": (BPRRecommender, {"factors": 64, "iterations": 100, "regularization": 0.01,
                             "random_state": 0}, {"learning_rate": [0.005, 0.01]}),
    "edlae": (EDLAERecommender, {"binarize": True},
              {"dropout": [0.5, 0.67, 0.8], "l2": [100.0, 300.0], "max_diagonal": [0.0, None]}),
    "rp3beta": (RP3betaRecommender, {}, {"alpha": [0.5, 0.8, 1.0], "beta": [0.4, 0.5, 0.6]}),
    # alpha and regularization move together (the optimum lies on a ridge where regularization
    # rises with alpha: a validation-only scan, see docstring), so both are searched
    "als_ratings": (ALSRecommender, {"iterations": 15, "random_state": 0},
                    {"factors": [32, 64], "alpha": [1.0, 2.0, 3.0],
                     "regularization": [30.0, 40.0, 50.0, 60.0]}),
}  # fmt: skip
RATING_INPUTS = ("als_ratings", "edlae", "rp3beta")  # fitted on rating weights (see docstring)
# blend name -> (weight grid of its members, inputs); the first member's weight is fixed at 1
BLENDS = {
    "blend": ({"ease": [1.0], "als": [0.0, 0.25, 0.5, 0.75, 1.0],
               "item_knn": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary"),
    "blend_edlae_als_rp3": ({"edlae": [1.0], "als_ratings": [0.5, 1.0, 1.5, 2.0, 3.0],
                             "rp3beta": [0.0, 0.25, 0.5]}, "ratings"),
}  # fmt: skip
RANKER_MEMBERS = ("ease", "als", "popularity")

# microsoft/recommenders benchmark table, MovieLens 100K, nDCG@10 (../shared/data/README.md)
PUBLISHED_NDCG_AT_10 = {"BiVAE": 0.4751, "BPR": 0.4420, "LightGCN": 0.4198, "NCF": 0.3961,
                        "SAR": 0.3825, "SVD": 0.0959, "ALS (Spark)": 0.0442}  # fmt: skip


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


def points(grid: dict[str, list]) -> list[dict]:
    """Every combination of a grid, in grid order."""
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def fold_ndcg(make_model, folds, shape) -> float:
    """nDCG@10 on each fold's held-out rows of a model fitted on the rest, averaged over folds."""
    per_fold = []
    for fit, valid in folds:
        model = make_model().fit(fit, *shape)
        rec = model.recommend(np.unique(valid["user_id"].to_numpy()), k=K)
        per_fold.append(ndcg_at_k(valid, rec, k=K))
    return round(float(np.mean(per_fold)), 6)


def point_ndcg(cls, params: dict, folds, shape) -> float:
    """`fold_ndcg` of ``cls(**params)``: a module-level function, so a process pool can run it."""
    return fold_ndcg(lambda: cls(**params), folds, shape)


def score_points(pool, cls, fixed: dict, grid_points: list[dict], folds, shape) -> list[float]:
    """Validation nDCG@10 of every grid point, in grid order, computed on ``pool``'s workers
    (each point is independent and seeded, so the scores do not depend on the worker count);
    ``pool`` None scores them in this process."""
    task = partial(point_ndcg, folds=folds, shape=shape)
    mapper = map if pool is None else pool.map
    return list(mapper(task, [cls] * len(grid_points), [{**fixed, **p} for p in grid_points]))


def binary(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows with weight 1: every rating counts as one interaction."""
    return frame.assign(weight=np.float32(1.0))


def inputs(data: dict, name: str):
    """(train, folds) in the inputs a model fits on: "ratings" or "binary" (see docstring)."""
    return data["ratings" if name in RATING_INPUTS else "binary"]


def extend_edges(grid: dict, params: dict, score: float, score_of) -> tuple[dict, float, list]:
    """Push a numeric setting chosen at the end of its grid one geometric step further.

    A best value on the grid's edge says the optimum may lie beyond it. For each numeric
    parameter whose chosen value is its grid's largest (smallest, non-zero) value, the next
    value out, ``edge * edge / neighbour``, is scored on the validation folds with the other
    settings kept; it is kept only if it scores higher, and then the step repeats, at most
    ``EDGE_STEPS`` times. A fixed rule on validation scores only: no test number enters it.
    Returns the settings, their validation score and every extra point scored.
    """
    params, extra = dict(params), []
    for key, values in grid.items():
        nums = sorted(v for v in values if isinstance(v, int | float) and not isinstance(v, bool))
        whole = all(isinstance(v, int) for v in nums)
        for _ in range(EDGE_STEPS):
            value = params[key]
            if len(nums) < 2 or value not in (nums[0], nums[-1]) or value == 0:
                break
            neighbour = nums[-2] if value == nums[-1] else nums[1]
            step = value * value / neighbour
            step = int(round(step)) if whole else round(float(step), 6)
            try:
                trial = score_of({**params, key: step})
            except ValueError:  # outside the parameter's valid range: the edge stays
                break
            extra.append({**params, key: step, "valid_ndcg_at_10": trial, "edge_step": True})
            if trial <= score:
                break
            params[key], score = step, trial
            nums = sorted([*nums, step])
    return params, score, extra


def grid_search(name: str, folds, shape, pool=None) -> dict:
    """Validation nDCG@10 of every grid point of a model, averaged over the folds; settings
    chosen at a grid edge are then pushed outwards (`extend_edges`)."""
    cls, fixed, grid = GRIDS[name]
    scored = score_points(pool, cls, fixed, points(grid), folds, shape)
    scores = [{**p, "valid_ndcg_at_10": v} for p, v in zip(points(grid), scored, strict=True)]
    best = max(range(len(scores)), key=lambda i: (scores[i]["valid_ndcg_at_10"], -i))
    params, score, extra = extend_edges(
        grid, points(grid)[best], scores[best]["valid_ndcg_at_10"],
        lambda p: point_ndcg(cls, {**fixed, **p}, folds, shape),
    )  # fmt: skip
    return {"params": {**fixed, **params}, "grid": grid, "validation": scores + extra,
            "valid_ndcg_at_10": score}  # fmt: skip


def blend_search(grid: dict, chosen: dict, folds, shape) -> dict:
    """Blend weights on each fold by `BlendRecommender.fit_weights`, averaged over folds."""
    names = list(grid)
    members = {m: GRIDS[m][0](**chosen[m]["params"]) for m in names}
    tables = []
    for fit, valid in folds:
        blend = BlendRecommender(members).fit(fit, *shape)
        blend.fit_weights(valid, grid, partial(ndcg_at_k, k=K), k=K)
        tables.append(pd.DataFrame(blend.weight_scores_))
    table = pd.concat(tables).groupby(names, sort=False).mean().reset_index()
    best = int(table["metric"].to_numpy().argmax())  # the first maximum: grid order breaks ties
    weights = {m: float(table.loc[best, m]) for m in names}
    validation = [{**{m: float(row[m]) for m in names},
                   "valid_ndcg_at_10": round(float(row["metric"]), 6)}
                  for _, row in table.iterrows()]  # fmt: skip
    return {"params": {"members": {m: chosen[m]["params"] for m in names}, "weights": weights},
            "grid": grid, "validation": validation,
            "valid_ndcg_at_10": round(float(table.loc[best, "metric"]), 6)}  # fmt: skip


def extend_blend(choice: dict, grid: dict, chosen: dict, folds, shape) -> dict:
    """`extend_edges` for blend weights: a weight chosen at its grid's edge is pushed outwards."""

    def score_of(weights: dict) -> float:
        single = {m: [weights[m]] for m in grid}
        return blend_search(single, chosen, folds, shape)["valid_ndcg_at_10"]

    weights, score, extra = extend_edges(grid, choice["params"]["weights"],
                                         choice["valid_ndcg_at_10"], score_of)  # fmt: skip
    params = {**choice["params"], "weights": weights}
    return {**choice, "params": params, "validation": choice["validation"] + extra,
            "valid_ndcg_at_10": score}  # fmt: skip


def make_blend(params: dict) -> BlendRecommender:
    members = {m: GRIDS[m][0](**p) for m, p in params["members"].items()}
    return BlendRecommender(members, weights=params["weights"])


def make_ranker(params: dict):
    from persona_lib.models.recommenders import (
        TwoStageRanker,  # being written in parallel: optional
    )

    members = {m: GRIDS[m][0](**p) for m, p in params["members"].items()}
    return TwoStageRanker(members, n_candidates=params["n_candidates"],
                          holdout_fraction=params["holdout_fraction"], random_state=0)  # fmt: skip


def ranker_search(chosen: dict, folds, shape) -> dict:
    """The two-stage LambdaRank ranker at fixed settings, scored on the folds (no grid)."""
    params = {"members": {m: chosen[m]["params"] for m in RANKER_MEMBERS},
              "n_candidates": 50, "holdout_fraction": 0.25}  # fmt: skip
    score = fold_ndcg(lambda: make_ranker(params), folds, shape)
    return {"params": params, "grid": {}, "validation": [{"valid_ndcg_at_10": score}],
            "valid_ndcg_at_10": score}  # fmt: skip


HOW_CHOSEN = {
    "grid": "grid search on validation folds carved from train (mean nDCG@10 over folds); "
    "a numeric setting chosen at its grid's edge is pushed one geometric step further while "
    "the validation score rises (at most 3 steps; rows marked edge_step)",
    "none": "no hyperparameters",
    "blend": "members: each one's validation-chosen settings; weights: grid search of "
    "BlendRecommender.fit_weights on the same validation folds (first member's weight fixed "
    "at 1), a weight at its grid's edge pushed outwards like the models' settings",
    "ranker": "fixed settings, validation-chosen candidate models; its LambdaRank stage trains "
    "on a per-member holdout of the rows it is fitted on; validation score reported only",
}


def final_row(name: str, model, choice: dict, how: str, train, test, shape) -> dict:
    """Refit on the whole training split, evaluate once on test."""
    start = time.perf_counter()
    model.fit(train, *shape)
    fit_seconds = time.perf_counter() - start
    rated = name in RATING_INPUTS or BLENDS.get(name, ({}, "binary"))[1] == "ratings"
    metrics, per_member = evaluate(model, test)
    return {"name": name, "inputs": "ratings" if rated else "binary",
            "hyperparameters": choice["params"], "how_chosen": HOW_CHOSEN[how],
            "grid": choice["grid"], "validation": choice["validation"],
            "valid_ndcg_at_10": choice["valid_ndcg_at_10"], **metrics,
            "fit_seconds": round(fit_seconds, 3), "per_member": per_member}  # fmt: skip


def run(folder: Path, workers: int = 2) -> dict:
    start = time.perf_counter()
    rated, test, n_users, n_titles = load_split(folder)
    shape = (n_users, n_titles)
    folds = [stratified_split(rated, RATIO, by="title_id", random_state=s) for s in VALID_SEEDS]
    data = {"ratings": (rated, folds),
            "binary": (binary(rated), [(binary(f), binary(v)) for f, v in folds])}  # fmt: skip
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        chosen = {name: grid_search(name, inputs(data, name)[1], shape, pool) for name in GRIDS}
    for name, (grid, kind) in BLENDS.items():
        chosen[name] = extend_blend(blend_search(grid, chosen, data[kind][1], shape), grid,
                                    chosen, data[kind][1], shape)  # fmt: skip
    models = []
    for name, (cls, _, grid) in GRIDS.items():
        model = cls(**chosen[name]["params"])
        models.append(final_row(name, model, chosen[name], "grid" if grid else "none",
                               inputs(data, name)[0], test, shape))  # fmt: skip
    for name, (_, kind) in BLENDS.items():
        models.append(final_row(name, make_blend(chosen[name]["params"]), chosen[name],
                               "blend", data[kind][0], test, shape))  # fmt: skip
    train, folds = data["binary"]
    try:  # optional: the ranker module is under development by another engineer
        choice = ranker_search(chosen, folds, shape)
        models.append(final_row("two_stage_ranker", make_ranker(choice["params"]), choice,
                               "ranker", train, test, shape))  # fmt: skip
    except Exception as error:  # reported in the JSON, not hidden
        models.append({"name": "two_stage_ranker", "error": f"{type(error).__name__}: {error}"})
    return summarize(models, start)


def paired_difference(model: dict, baseline: dict) -> dict:
    """Test nDCG@10 of ``model`` minus ``baseline`` with a 95 % bootstrap interval over members
    (the same resampled members for both): how far apart two rows of the table really are."""
    diff = model["per_member"] - baseline["per_member"]
    mean, low, high = bootstrap_means(diff.to_numpy(), n_boot=N_BOOT)
    return {"vs": baseline["name"], "diff": rounded(mean[0]), "ci95": rounded([low[0], high[0]])}


def summarize(models: list[dict], start: float) -> dict:
    scored = [m for m in models if "ndcg_at_10" in m]
    by_valid = max(scored, key=lambda m: m["valid_ndcg_at_10"])
    best_test = max(m["ndcg_at_10"] for m in scored)
    ease_row = next(m for m in scored if m["name"] == "ease")
    ease = ease_row["ndcg_at_10"]
    low, high = by_valid["ndcg_at_10_ci95"]
    chosen_vs_ease = paired_difference(by_valid, ease_row)
    for m in scored:
        m.pop("per_member")
    return {
        "dataset": "MovieLens 100K",
        "protocol": {"split": "python_stratified_split by item", "ratio": RATIO,
                     "seed": SPLIT_SEED, "k": K, "relevance": "every test rating (binary)",
                     "seen_removed": True, "metrics": "recommenders 1.2.1 conventions",
                     "validation": f"stratified_split(train, {RATIO}, by='title_id'), seeds "
                                   f"{list(VALID_SEEDS)}; test split used only for the final "
                                   "numbers"},
        "split_rows": {"train": EXPECTED_SPLIT[0], "test": EXPECTED_SPLIT[1]},
        "models": models,
        "chosen_by_validation": by_valid["name"],
        "chosen_by_validation_ndcg_at_10": by_valid["ndcg_at_10"],
        "chosen_by_validation_ndcg_at_10_ci95": [low, high],
        "chosen_by_validation_vs_ease": chosen_vs_ease,
        "target_0.50_inside_chosen_ci95": bool(low <= 0.50 <= high),
        "published_ndcg_at_10": PUBLISHED_NDCG_AT_10,
        "targets": {"best_ndcg_at_10_ge_0.50": best_test >= 0.50,
                    "ease_ndcg_at_10_ge_0.48": ease >= 0.48,
                    "best_above_every_published_row":
                        best_test > max(PUBLISHED_NDCG_AT_10.values())},
        "total_seconds": round(time.perf_counter() - start, 2),
    }  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the ml-100k folder")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="processes scoring grid points (the numbers do not depend on it)",
    )
    args = parser.parse_args()
    print(json.dumps(run(args.data, args.workers), indent=2))

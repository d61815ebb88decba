"""Spark MLlib ALS against implicit's ALS on MovieLens 100K; prints one JSON document.

Same protocol as ``benchmarks/movielens_100k.py`` (its loader, split and metrics are imported):
``stratified_split`` by item, ratio 0.75, seed 42; binary relevance; seen titles excluded;
k = 10. Both models get the hyperparameters of that benchmark's ALS row: chosen by its grid
search on validation folds carved from the training rows (rerun here, implicit's ALS only),
then `persona_lib.models.recommenders.spark_als.SparkALS` maps them to MLlib's ``rank``,
``regParam``,
``alpha`` and ``maxIter`` (see its docstring). The target: Spark's nDCG@10 within 5 %
(relative) of implicit's.

Usage: ``OPENBLAS_NUM_THREADS=1 python benchmarks/spark_als_movielens.py [--data FOLDER]``
(needs the ``spark`` extra and Java 17+).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from movielens_100k import (  # noqa: E402  (benchmarks/ is not a package)
    DEFAULT_DATA,
    RATIO,
    SPLIT_SEED,
    VALID_SEEDS,
    evaluate,
    grid_search,
    load_split,
)

from persona_lib.evaluation import stratified_split  # noqa: E402
from persona_lib.models import ALSRecommender  # noqa: E402
from persona_lib.models.recommenders import SparkALS  # noqa: E402

TOLERANCE = 0.05  # relative nDCG@10 gap allowed between the two


def timed_row(name: str, model, train, test, shape) -> dict:
    """Fit on the training split (timed), evaluate once on the test split."""
    start = time.perf_counter()
    model.fit(train, *shape)
    fit_seconds = time.perf_counter() - start
    metrics, _ = evaluate(model, test)
    return {"name": name, **metrics, "fit_seconds": round(fit_seconds, 3)}


def run(folder: Path) -> dict:
    start = time.perf_counter()
    train, test, n_users, n_titles = load_split(folder)
    shape = (n_users, n_titles)
    folds = [stratified_split(train, RATIO, by="title_id", random_state=s) for s in VALID_SEEDS]
    params = grid_search("als", folds, shape)["params"]

    from persona_lib.signals.sql.spark_engine import local_session

    session_start = time.perf_counter()
    spark = local_session("local[2]")
    session_seconds = time.perf_counter() - session_start
    SparkALS(**params, spark=spark).fit(train, *shape)  # warm-up: JIT and first-job costs
    implicit_row = timed_row("implicit_als", ALSRecommender(**params), train, test, shape)
    spark_model = SparkALS(**params, spark=spark)
    spark_row = timed_row("spark_als", spark_model, train, test, shape)
    spark_row["reg_param"] = round(spark_model.reg_param_, 6)
    gap = (spark_row["ndcg_at_10"] - implicit_row["ndcg_at_10"]) / implicit_row["ndcg_at_10"]
    return {
        "dataset": "MovieLens 100K",
        "protocol": {"split": "stratified_split by item", "ratio": RATIO, "seed": SPLIT_SEED,
                     "k": 10, "relevance": "every test rating (binary)", "seen_removed": True},
        "hyperparameters": params,
        "how_chosen": "the ALS row of movielens_100k.py: grid search of implicit's ALS on "
                      "validation folds carved from train",
        "spark_version": spark.version,
        "spark_master": spark.sparkContext.master,
        "models": [implicit_row, spark_row],
        "ndcg_at_10_relative_gap": round(gap, 4),
        "within_tolerance": abs(gap) <= TOLERANCE,
        "tolerance": TOLERANCE,
        "note": "fit_seconds of Spark excludes JVM start-up (one warm-up fit before timing)",
        "session_start_seconds": round(session_seconds, 2),
        "total_seconds": round(time.perf_counter() - start, 2),
    }  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the ml-100k folder")
    args = parser.parse_args()
    print(json.dumps(run(args.data), indent=2))

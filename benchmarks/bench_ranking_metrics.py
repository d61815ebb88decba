"""Ranking metrics and the stratified split against microsoft/recommenders 1.2.1; prints JSON.

recommenders pins pandas<3, so it never enters the project: this script builds a throwaway venv
in a temp dir (``python3.11 -m venv``; ``pip install --no-deps recommenders==1.2.1`` plus the
binary wheels its evaluation and splitter modules import: pandas<3, numpy, scikit-learn, scipy),
writes one seeded score table (ties included) to ``.npz`` and runs their functions on it in a
subprocess. Reported: median-of-3 wall seconds of each metric for both implementations (and
the speed ratio of process CPU seconds, which other jobs on a shared machine distort less), the
values side by side, the largest absolute difference, the speed ratio, and whether our
`stratified_split` selects the same test rows as their ``python_stratified_split`` on
MovieLens 100K (by item, ratio 0.75, seed 42).

Their ``map`` and ``map_at_k`` memoise an intermediate on the input frames (``lru_cache_df``);
the cache is cleared before every timed call so that each call does its full work.

Usage: ``python benchmarks/bench_ranking_metrics.py [--users 150000] [--k 5]
[--reference-python PATH]`` (PATH: a Python that already has recommenders 1.2.1; skips the venv).
Exits 1 when any value differs by more than 1e-12 or the split differs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from persona_lib.evaluation import ranking, stratified_split

ML_100K = Path(__file__).resolve().parents[1].parent / "shared/data/movielens/ml-100k/u.data"
REFERENCE_PACKAGES = (
    ["--no-deps", "recommenders==1.2.1"],
    ["--only-binary=:all:", "pandas<3", "numpy", "scikit-learn", "scipy"],
)
# our name -> (their function, extra keyword arguments)
PAIRS = {
    "precision_at_k": ("precision_at_k", {}),
    "recall_at_k": ("recall_at_k", {}),
    "ndcg_at_k": ("ndcg_at_k", {}),
    "ndcg_at_k_graded": ("ndcg_at_k", {"score_type": "raw"}),
    "map_at_k": ("map_at_k", {}),
    "map_full": ("map", {}),
}
TOLERANCE = 1e-12

# Runs inside the reference venv: argv = data.npz, k, names JSON, ml-100k path, split output.
REFERENCE_SCRIPT = r"""
import json, statistics, sys, time
from pathlib import Path
import numpy as np, pandas as pd
import recommenders
from recommenders.evaluation import python_evaluation as pe
from recommenders.datasets.python_splitters import python_stratified_split

data, k, pairs = np.load(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
truth = pd.DataFrame({"userID": data["truth_user"], "itemID": data["truth_title"],
                      "rating": data["truth_gain"]})
pred = pd.DataFrame({"userID": data["pred_user"], "itemID": data["pred_title"],
                     "prediction": data["pred_score"]})
out = {"versions": {"recommenders": recommenders.__version__, "pandas": pd.__version__,
                    "numpy": np.__version__}, "metrics": {}}
for name, (function, kwargs) in pairs.items():
    wall, cpu, value = [], [], None
    for _ in range(3):
        pe._get_reciprocal_rank.cache_clear()
        began, began_cpu = time.perf_counter(), time.process_time()
        value = getattr(pe, function)(truth, pred, k=k, **kwargs)
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    out["metrics"][name] = {"value": float(value), "seconds": statistics.median(wall),
                            "cpu_seconds": statistics.median(cpu)}
ml = Path(sys.argv[4])
if ml.exists():
    frame = pd.read_csv(ml, sep="\t", names=["userID", "itemID", "rating", "timestamp"])
    train, test = python_stratified_split(frame, ratio=0.75, filter_by="item", seed=42)
    np.save(sys.argv[5], np.sort(test.index.to_numpy()))
    out["split_rows"] = {"train": len(train), "test": len(test)}
print(json.dumps(out))
"""


def make_case(n_users: int, per_user: int = 10, n_titles: int = 2_000, random_state: int = 0):
    """Seeded truth and predictions: ``per_user`` (at least 5) distinct titles per member with
    scores on a 0.05 grid, so ties are common; each predicted title is relevant with chance 0.2,
    plus 0-4 relevant titles that were not predicted; 1% of members have truth only and 1%
    predictions only."""
    rng = np.random.default_rng(random_state)
    start = rng.integers(0, n_titles, n_users)[:, None]
    steps = np.cumsum(rng.integers(1, 150, (n_users, per_user)), axis=1)  # < 1,500: distinct
    titles = (start + steps) % n_titles
    scores = rng.integers(0, 20, (n_users, per_user)) / 20
    users = np.repeat(np.arange(n_users), per_user).reshape(n_users, per_user)
    predicted = rng.random((n_users, per_user)) < 0.2
    extra = np.arange(5)[None, :] < rng.integers(0, 5, n_users)[:, None]
    unseen = (start + 1_600 + np.arange(5)[None, :]) % n_titles  # never among the predictions
    truth = pd.DataFrame(
        {
            "user_id": np.concatenate([users[predicted], users[:, :5][extra]]),
            "title_id": np.concatenate([titles[predicted], unseen[extra]]),
        }
    )
    truth = truth[truth["user_id"] % 100 != 1]  # members with predictions but no truth
    truth = truth.assign(gain=rng.integers(1, 6, len(truth)).astype(np.float64))
    keep = users.ravel() % 100 != 2  # members with truth but no predictions
    predictions = pd.DataFrame(
        {"user_id": users.ravel(), "title_id": titles.ravel(), "score": scores.ravel()}
    )[keep]
    shuffle = rng.permutation(len(predictions))  # row order decides ties, so make it arbitrary
    return truth.reset_index(drop=True), predictions.iloc[shuffle].reset_index(drop=True)


def time_ours(truth: pd.DataFrame, predictions: pd.DataFrame, k: int) -> dict:
    calls = {
        "precision_at_k": lambda: ranking.precision_at_k(truth, predictions, k),
        "recall_at_k": lambda: ranking.recall_at_k(truth, predictions, k),
        "ndcg_at_k": lambda: ranking.ndcg_at_k(truth, predictions, k),
        "ndcg_at_k_graded": lambda: ranking.ndcg_at_k(truth, predictions, k, gain_col="gain"),
        "map_at_k": lambda: ranking.map_at_k(truth, predictions, k),
        "map_full": lambda: ranking.map_full(truth, predictions, k),
    }
    out = {}
    for name, call in calls.items():
        wall, cpu = [], []
        for _ in range(3):
            began, began_cpu = time.perf_counter(), time.process_time()
            value = call()
            wall.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
        out[name] = {
            "value": value,
            "seconds": statistics.median(wall),
            "cpu_seconds": statistics.median(cpu),
        }
    return out


def build_reference(root: Path) -> Path:
    """A throwaway venv with recommenders 1.2.1 and what its evaluation modules import."""
    subprocess.run(["python3.11", "-m", "venv", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    for packages in REFERENCE_PACKAGES:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return python


def run_reference(python: Path, work: Path, truth, predictions, k: int) -> dict:
    np.savez(
        work / "case.npz",
        truth_user=truth["user_id"].to_numpy(),
        truth_title=truth["title_id"].to_numpy(),
        truth_gain=truth["gain"].to_numpy(),
        pred_user=predictions["user_id"].to_numpy(),
        pred_title=predictions["title_id"].to_numpy(),
        pred_score=predictions["score"].to_numpy(),
    )
    script = work / "reference.py"
    script.write_text(REFERENCE_SCRIPT)
    argv = [str(python), str(script), str(work / "case.npz"), str(k), json.dumps(PAIRS)]
    argv += [str(ML_100K), str(work / "split_test_index.npy")]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def compare_split(work: Path, reference: dict) -> dict:
    if "split_rows" not in reference:
        return {"split_identical": None, "split_note": f"{ML_100K} absent"}
    frame = pd.read_csv(ML_100K, sep="\t", names=["user_id", "title_id", "rating", "ts"])
    train, test = stratified_split(frame, ratio=0.75, by="title_id", random_state=42)
    theirs = np.load(work / "split_test_index.npy")
    identical = bool(np.array_equal(np.sort(test.index.to_numpy()), theirs))
    return {
        "split_identical": identical and reference["split_rows"]["train"] == len(train),
        "split_rows_ours": {"train": len(train), "test": len(test)},
        "split_rows_theirs": reference["split_rows"],
    }


def main(n_users: int, k: int, reference_python: str | None) -> dict:
    truth, predictions = make_case(n_users)
    ties = predictions.duplicated(["user_id", "score"], keep=False).mean()
    ours = time_ours(truth, predictions, k)
    work = Path(tempfile.mkdtemp(prefix="bench_ranking_"))
    try:
        python = Path(reference_python) if reference_python else build_reference(work)
        reference = run_reference(python, work, truth, predictions, k)
        split = compare_split(work, reference)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    metrics = {}
    for name, mine in ours.items():
        theirs = reference["metrics"][name]
        metrics[name] = {
            "ours": mine["value"],
            "theirs": theirs["value"],
            "abs_diff": abs(mine["value"] - theirs["value"]),
            "seconds_ours": round(mine["seconds"], 4),
            "seconds_theirs": round(theirs["seconds"], 3),
            "speedup": round(theirs["seconds"] / mine["seconds"], 1),
            "speedup_cpu": round(theirs["cpu_seconds"] / mine["cpu_seconds"], 1),
        }
    total_ours = sum(m["seconds"] for m in ours.values())
    total_theirs = sum(m["seconds"] for m in reference["metrics"].values())
    max_diff = max(m["abs_diff"] for m in metrics.values())
    return {
        "prediction_rows": len(predictions),
        "truth_rows": len(truth),
        "users": n_users,
        "k": k,
        "share_of_rows_with_tied_score": round(float(ties), 3),
        "reference": reference["versions"] | {"their_name_for_map_full": "map"},
        "metrics": metrics,
        "max_abs_diff": max_diff,
        "identical_to_1e-12": max_diff <= TOLERANCE,
        "seconds_ours_total": round(total_ours, 3),
        "seconds_theirs_total": round(total_theirs, 3),
        "speedup_total": round(total_theirs / total_ours, 1),
        "speedup_min": min(m["speedup"] for m in metrics.values()),
        "speedup_cpu_min": min(m["speedup_cpu"] for m in metrics.values()),
    } | split


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=150_000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--reference-python", default=None)
    args = parser.parse_args()
    result = main(args.users, args.k, args.reference_python)
    print(json.dumps(result, indent=2))
    failed = not result["identical_to_1e-12"] or result["split_identical"] is False
    sys.exit(1 if failed else 0)

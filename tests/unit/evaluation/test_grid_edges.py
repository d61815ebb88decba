"""The MovieLens benchmark's grid-edge rule: a setting chosen at a grid's edge is pushed outwards
on validation scores only, one geometric step at a time, and kept only while it scores higher;
and its helpers: grid scores independent of the worker pool, paired differences over members."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "movielens_100k.py"


@pytest.fixture(scope="module")
def extend_edges():
    spec = importlib.util.spec_from_file_location("movielens_100k_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.extend_edges


def test_a_peak_past_the_upper_edge_is_followed_until_the_score_falls(extend_edges):
    calls = []

    def score_of(p):  # peaks at l2 = 900, indifferent to k
        calls.append(dict(p))
        return -abs(p["l2"] - 900.0) / 1000

    grid = {"l2": [100.0, 300.0], "k": [10, 20], "kind": ["a", "b"]}
    params, score, extra = extend_edges(grid, {"l2": 300.0, "k": 10, "kind": "a"}, -0.6, score_of)
    assert params == {"l2": 900.0, "k": 10, "kind": "a"}  # k = 5 only ties: the edge stays
    assert [c["l2"] for c in calls] == [900.0, 2700.0, 900.0]  # 300 * 300 / 100, then 900 * 3
    assert calls[-1]["k"] == 5  # 10 * 10 / 20, with l2 at its new best
    assert all(row["edge_step"] for row in extra)
    assert score == 0.0


def test_interior_choices_zero_and_invalid_steps_stay(extend_edges):
    def never(p):
        raise AssertionError("no point should be scored")

    grid = {"w": [0.0, 0.5, 1.0], "f": [16, 32, 64]}
    assert extend_edges(grid, {"w": 0.0, "f": 32}, 0.3, never) == ({"w": 0.0, "f": 32}, 0.3, [])

    def invalid(p):
        raise ValueError("dropout must be < 1")

    assert extend_edges({"d": [0.5, 0.8]}, {"d": 0.8}, 0.2, invalid) == ({"d": 0.8}, 0.2, [])


def test_a_lower_edge_steps_down_and_integers_stay_integers(extend_edges):
    params, _, extra = extend_edges({"f": [16, 32]}, {"f": 16}, 0.1, lambda p: 0.05)
    assert params == {"f": 16}
    assert extra == [{"f": 8, "valid_ndcg_at_10": 0.05, "edge_step": True}]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("movielens_100k_bench_helpers", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_folds():
    import numpy as np
    import pandas as pd

    from persona_lib.evaluation import stratified_split

    rng = np.random.default_rng(3)
    users = rng.integers(0, 60, 1500)
    titles = np.minimum(rng.geometric(0.05, 1500) - 1, 79)  # skewed popularity, 80 titles
    frame = pd.DataFrame({"user_id": users, "title_id": titles}).drop_duplicates()
    frame = frame.assign(weight=np.float32(1.0)).reset_index(drop=True)
    return [stratified_split(frame, 0.75, by="title_id", random_state=s) for s in (1, 2)]


def test_grid_scores_do_not_depend_on_the_pool(bench):
    from concurrent.futures import ThreadPoolExecutor

    from persona_lib.models import EASERecommender

    folds, points = tiny_folds(), [{"l2": 1.0}, {"l2": 10.0}, {"l2": 100.0}]
    alone = bench.score_points(None, EASERecommender, {}, points, folds, (60, 80))
    with ThreadPoolExecutor(2) as pool:
        pooled = bench.score_points(pool, EASERecommender, {}, points, folds, (60, 80))
    assert pooled == alone
    assert len(set(alone)) > 1  # the grid points are told apart


def test_paired_difference_of_a_model_with_itself_is_exactly_zero(bench):
    import pandas as pd

    per_member = pd.Series([0.1, 0.5, 0.9, 0.3], index=[1, 2, 3, 4])
    row = {"name": "ease", "per_member": per_member}
    assert bench.paired_difference(row, row) == {"vs": "ease", "diff": 0.0, "ci95": [0.0, 0.0]}
    shifted = {"name": "blend", "per_member": per_member + 0.05}
    out = bench.paired_difference(shifted, row)
    assert out["diff"] == pytest.approx(0.05) and out["ci95"] == pytest.approx([0.05, 0.05])

"""The MovieLens benchmark's grid-edge rule: a setting chosen at a grid's edge is pushed outwards
on validation scores only, one geometric step at a time, and kept only while it scores higher."""

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

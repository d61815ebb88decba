"""Tolerances for comparing floating-point results, derived from the arithmetic that made them.

A float result is reproducible only up to the order of its operations, and that order is not
fixed across machines: OpenBLAS picks a kernel per CPU (another blocking of every dot product,
``gemv`` where another CPU uses ``gemm``), and numpy picks SIMD loops per CPU (see the
shared TOOLCHAIN.md, "Floating point across machines"). A test comparing floats
therefore names the precision it relies on, as keyword arguments of
``np.testing.assert_allclose(actual, desired, **FLOAT32)`` or through ``approx32(x)`` and its
siblings for ``pytest.approx``:

FLOAT32 = rtol 1e-5, atol 1e-5
    Results that pass through float32 arithmetic: implicit's ALS and BPR factors and anything
    scored through them (blends, the two-stage ranker's features, `HomepageScorer` pages, page
    policies), SparkALS, the float32 title-title weights of EASE, EDLAE and RP3beta, BM25
    weights, and the simulator's float32 tables (propensities, prices, probabilities, watch
    seconds). Float32 keeps 24
    bits: eps32 = 2**-23 = 1.19e-7, unit roundoff u = eps32 / 2. A k-term dot product is within
    ``gamma_k * sum_i |x_i y_i|`` of the exact value, ``gamma_k = k u / (1 - k u)`` (Higham,
    "Accuracy and Stability of Numerical Algorithms", 2nd ed., section 3.1), so two kernels that
    accumulate in different orders agree within ``2 gamma_k ~ k eps32`` of ``sum |x_i y_i|``:
    7.6e-6 for k = 64 factors (the default), 1.9e-6 for the 16 used in tests. Without
    cancellation ``sum |x_i y_i|`` is about ``|x . y|`` and rtol = 1e-5 covers it; where
    scores cancel to about zero the error stays relative to the terms, which are of order one
    for scores, z-scores and probabilities: atol = 1e-5. Standardizing (z-scores) divides that
    error by the row's standard deviation, about the scores' own size for recommenders. A
    float64 value rounded to float32 once is within u = 6e-8 relative, inside both. Measured:
    an ALS blend's ``score`` and ``recommend`` differ by 2.1e-7 (Haswell kernel, z-scores up to
    10), a one-member ALS page and the batch page by up to 1.1e-6 (so atol = 1e-6 would fail
    at a z-score near zero). For quantities far from order one, scale ``atol`` by their size.

FLOAT64 = rtol 1e-9, atol 1e-12
    Float64 results computed along different code paths: another summation order (pandas vs
    DuckDB vs Spark SQL, a groupby vs a cumulative sum), BLAS ``gemm`` vs ``gemv``, LAPACK
    solves, a library routine vs our implementation of the same statistic. eps64 = 2**-52 =
    2.2e-16; n terms summed in two orders agree within ``n eps64`` relative to ``sum |terms|``:
    rtol = 1e-9 holds for n up to 4.5e6 terms, and for a linear solve with condition number up
    to 1e6 (error ``kappa eps64``). atol = 1e-12 covers results that cancel to about zero from
    order-one terms, up to ~4,500 terms in the worst case and far more with the usual
    ``sqrt(n)`` growth of rounding errors. Any float32 step in the path invalidates this: then
    use FLOAT32.

CLOSED_FORM = rtol 1e-12, atol 1e-14
    A float64 formula evaluated elementwise (no BLAS, no long sums) compared with the same
    formula written out in the test, in another order of a few dozen operations: each rounds by
    at most u64 = 1.1e-16, and libm's ``exp``/``log``/``erf`` are within a few ulp, so the two
    agree within ~1e-14 relative; rtol = 1e-12 leaves a factor of 100. atol = 1e-14 is for
    results that are exactly zero on paper (about 90 roundings of an order-one term).

Comparisons without tolerance arguments keep the library defaults (``assert_allclose``: rtol
1e-7; ``pytest.approx``: rel 1e-6, abs 1e-12): they suit float64 values checked against
hand-computed numbers (looser than FLOAT64 and CLOSED_FORM), never float32 paths (a float32 dot
product or sum can miss rel 1e-6). Statistical tolerances (Monte Carlo error, solver
convergence) are written out where they are used, with their reason. Exact equality is kept
for integers and counts and for a computation repeated on identical inputs (determinism).

Unit tests import this module as ``from tolerances import FLOAT32``: ``tests/unit/conftest.py``
puts ``tests/`` on ``sys.path`` (``--import-mode=importlib`` adds no test directory).
"""

from __future__ import annotations

import numpy as np
import pytest

FLOAT32 = {"rtol": 1e-5, "atol": 1e-5}
FLOAT64 = {"rtol": 1e-9, "atol": 1e-12}
CLOSED_FORM = {"rtol": 1e-12, "atol": 1e-14}


def _approx(expected, tolerance: dict):
    return pytest.approx(expected, rel=tolerance["rtol"], abs=tolerance["atol"])


def approx32(expected):
    """``pytest.approx`` at FLOAT32 tolerances."""
    return _approx(expected, FLOAT32)


def approx64(expected):
    """``pytest.approx`` at FLOAT64 tolerances."""
    return _approx(expected, FLOAT64)


def approx_closed_form(expected):
    """``pytest.approx`` at CLOSED_FORM tolerances."""
    return _approx(expected, CLOSED_FORM)


def assert_equal_up_to_ties(ids, scores, other_ids, other_scores, *, rtol: float, atol: float):
    """Two orderings of scored items agree, except where scores tie within (rtol, atol).

    Items whose float scores tie within their precision may come out in either order on
    another CPU, so position by position the scores must agree, and so must the score of every
    item found in both; an item may then differ at a position only from one it ties with.
    ``ids`` are unique within each ordering (one member's list or page); an id may be a tuple,
    given as a last axis of ``ids`` beyond the shape of ``scores``.
    """
    ids, other_ids = np.asarray(ids), np.asarray(other_ids)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    other_scores = np.asarray(other_scores, dtype=np.float64).ravel()
    keys = [tuple(x) for x in ids.reshape(scores.size, -1).tolist()]
    other_keys = [tuple(x) for x in other_ids.reshape(other_scores.size, -1).tolist()]
    np.testing.assert_allclose(
        scores, other_scores, rtol=rtol, atol=atol, err_msg="scores differ at a position"
    )
    score_of = dict(zip(other_keys, other_scores, strict=True))
    common = [i for i, key in enumerate(keys) if key in score_of]
    np.testing.assert_allclose(
        scores[common],
        [score_of[keys[i]] for i in common],
        rtol=rtol,
        atol=atol,
        err_msg="an item's score differs between the two",
    )

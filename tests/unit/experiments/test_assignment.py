import time

import numpy as np
import pytest
from scipy import stats
from tolerances import approx64

from persona_lib.experiments import assign, assignment_uniform, srm_check

SALT = "homepage-row-v2"


def test_pinned_values_are_stable_across_runs_and_machines():
    # pure integer arithmetic (BLAKE2b of the salt, splitmix64 rounds): these must never change
    np.testing.assert_allclose(
        assignment_uniform([0, 1, 2, 123456789], SALT),
        [0.657661245745381, 0.3456596984101427, 0.6657835904000413, 0.17041017520730412],
        rtol=0, atol=1e-15,
    )  # fmt: skip
    np.testing.assert_allclose(
        assignment_uniform(["u1", "member-42"], SALT),
        [0.5444367316728354, 0.4649279016818026],
        rtol=0,
        atol=1e-15,
    )
    assert assign(list(range(6)), SALT).tolist() == [
        "treatment", "control", "treatment", "treatment", "treatment", "control",
    ]  # fmt: skip


def test_a_string_id_hashes_the_same_in_any_batch():
    alone = assignment_uniform(["a"], SALT)
    batched = assignment_uniform(["a", "a-much-longer-user-identifier", "b"], SALT)
    assert alone[0] == batched[0]
    assert len(set(assignment_uniform(["a", "a\x01", "ab", "ba"], SALT))) == 4


def test_shares_match_weights_within_sampling_error():
    ids = np.arange(200_000)
    arms = assign(ids, SALT, weights=(0.2, 0.3, 0.5), arms=("a", "b", "c"))
    for arm, w in zip(("a", "b", "c"), (0.2, 0.3, 0.5), strict=True):
        share = np.mean(arms == arm)
        assert abs(share - w) < 4 * np.sqrt(w * (1 - w) / ids.size)


def test_string_ids_split_evenly():
    ids = np.array([f"member-{i}" for i in range(100_000)])
    share = np.mean(assign(ids, SALT) == "treatment")
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / ids.size)


def test_independent_across_salts():
    ids = np.arange(200_000)
    a = assign(ids, "exp-a") == "treatment"
    b = assign(ids, "exp-b") == "treatment"
    r = np.corrcoef(a, b)[0, 1]
    assert abs(r) < 4 / np.sqrt(ids.size)
    # and consecutive ids are not correlated either (no structure leaks through the hash)
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 4 / np.sqrt(ids.size)


def test_million_ids_in_well_under_a_second():
    ids = np.arange(1_000_000)
    start = time.perf_counter()
    assign(ids, SALT)
    assert time.perf_counter() - start < 0.5


def test_rejects_bad_weights():
    with pytest.raises(ValueError, match="one per arm"):
        assign([1, 2], SALT, weights=(0.5, 0.3, 0.2))
    with pytest.raises(ValueError, match="must be 1-D"):
        assign([[1, 2]], SALT)


def test_srm_matches_scipy_chisquare():
    counts, weights = np.array([5000, 5400]), np.array([0.5, 0.5])
    result = srm_check(counts, weights)
    ref = stats.chisquare(counts, counts.sum() * weights)
    assert result.statistic == approx64(ref.statistic)
    assert result.p_value == approx64(ref.pvalue)
    assert result.mismatch


def test_srm_three_arms_and_no_mismatch():
    counts, weights = np.array([2010, 2950, 5040]), np.array([0.2, 0.3, 0.5])
    result = srm_check(counts, weights)
    ref = stats.chisquare(counts, counts.sum() * weights)
    assert result.p_value == approx64(ref.pvalue)
    assert not result.mismatch
    assert result.to_dict()["mismatch"] is False


def test_srm_on_hashed_assignment_rarely_flags():
    ids = np.arange(100_000)
    arms = assign(ids, SALT, weights=(0.1, 0.9))
    counts = [np.sum(arms == "control"), np.sum(arms == "treatment")]
    assert not srm_check(counts, (0.1, 0.9)).mismatch


def test_srm_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        srm_check([10, 20, 30], [0.5, 0.5])

"""Counter-based random numbers: pure functions of their keys, with the right distributions."""

import numpy as np
import pytest

from persona_lib.data import keyed_random as kr


def test_uniform_is_a_pure_function_of_its_key():
    users = np.arange(1000)
    a = kr.uniform(7, kr.Stream.SESSIONS, users, 3, 0)
    b = kr.uniform(7, kr.Stream.SESSIONS, users[::-1], 3, 0)[::-1]
    assert np.array_equal(a, b)
    # one member's draw does not depend on who else is in the batch
    assert kr.uniform(7, kr.Stream.SESSIONS, np.array([42]), 3, 0)[0] == a[42]


def test_keys_and_streams_give_different_numbers():
    u = np.arange(500)
    base = kr.uniform(0, kr.Stream.TILES, u, 1)
    for other in (
        kr.uniform(1, kr.Stream.TILES, u, 1),
        kr.uniform(0, kr.Stream.PLAYS, u, 1),
        kr.uniform(0, kr.Stream.TILES, u, 2),
    ):
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.15
        assert not np.any(base == other)


def test_hash_chain_can_be_extended_from_a_prefix():
    users, day, slots = np.arange(10), 4, np.arange(6)
    prefix = kr.hash_keys(3, kr.Stream.TILES, users, day)
    full = kr.hash_keys(3, kr.Stream.TILES, users[:, None], day, slots)
    assert np.array_equal(kr.hash_keys(slots, base=prefix[:, None]), full)


def test_uniforms_are_inside_the_open_interval_and_uniform():
    u = kr.uniform(0, 1, np.arange(200_000))
    assert u.min() > 0 and u.max() < 1
    hist = np.histogram(u, bins=20, range=(0, 1))[0]
    assert np.all(np.abs(hist / 10_000 - 1) < 0.05)
    assert abs(u.mean() - 0.5) < 0.005


def test_normal_poisson_categorical_beta_match_their_moments():
    u = kr.uniform(1, 2, np.arange(100_000))
    z = kr.normal(u)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    lam = np.where(np.arange(100_000) % 2 == 0, 0.3, 4.0)
    k = kr.poisson(lam, u)
    for value in (0.3, 4.0):
        draws = k[lam == value]
        assert abs(draws.mean() - value) < 0.05 * value + 0.01
        assert abs(draws.var() - value) < 0.1 * value + 0.01
    counts = np.bincount(kr.categorical(u, np.array([1.0, 2.0, 7.0])), minlength=3) / u.size
    np.testing.assert_allclose(counts, [0.1, 0.2, 0.7], atol=0.01)
    rows = kr.categorical(u[:4], np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1.0]]))
    assert rows.tolist() == [0, 1, 2, 2]
    b = kr.beta(2.0, 6.0, u)
    assert abs(b.mean() - 0.25) < 0.005


@pytest.mark.parametrize("lam", [0.0, 1e-6, 25.0])
def test_poisson_edge_rates(lam):
    k = kr.poisson(np.full(20_000, lam), kr.uniform(5, 5, np.arange(20_000)))
    assert abs(k.mean() - lam) <= 0.05 * lam + 1e-3

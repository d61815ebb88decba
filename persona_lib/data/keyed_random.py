"""Counter-based random numbers: every draw is a pure hash of its key.

A uniform is ``hash(seed, stream, user_id, day, slot)`` (splitmix64 finalizer, chained over the
key parts, in numpy ``uint64`` arithmetic). A member's draws therefore never depend on what happened
to other members, on the order of computation or on the serving policy, which gives *common random
numbers*: the same world run under two policies differs only where the policies' choices differ.

Other distributions are inverse transforms of these uniforms: normals through
``scipy.special.ndtri``, Poisson and categorical through their inverse CDFs, Beta through
``scipy.special.betaincinv``.

References: Steele, Lea & Flood (2014), "Fast splittable pseudorandom number generators"
(splitmix64); Salmon et al. (2011), "Parallel random numbers: as easy as 1, 2, 3" (counter-based
generators).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from scipy import special

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 2.0**-53


class Stream(IntEnum):
    """Named streams: one per kind of decision, so draws for different decisions never collide."""

    POPULATION = 1
    TITLES = 2
    ARTWORKS = 3
    SESSIONS = 10
    SESSION_ATTRS = 11
    TILES = 12
    SEARCH = 13
    PLAYS = 14
    BILLING = 20
    REACTIVATION = 21
    NOTIFICATIONS = 22
    SIGNUP = 23
    POLICY = 30
    # the sales extension (`simulate_sales`), forward from the end of a finished world's log
    SALES_HOUSEHOLDS = 40
    SALES_UPGRADES = 41
    SALES_WINBACK = 42
    SALES_GAMES = 43
    SALES_ADS = 44
    SALES_AD_LOAD = 45


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer of a ``uint64`` array (a bijection with good avalanche)."""
    z = np.asarray(x, dtype=np.uint64) + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def hash_keys(*keys, base: np.ndarray | int | None = None) -> np.ndarray:
    """Chain ``mix`` over key parts (broadcast together); ``base`` continues an earlier chain.

    ``hash_keys(c, base=hash_keys(a, b))`` equals ``hash_keys(a, b, c)``, so a session-level
    prefix can be hashed once and extended per tile.
    """
    h = np.uint64(0) if base is None else np.asarray(base, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in keys:
            h = mix(h ^ np.asarray(k).astype(np.int64).astype(np.uint64))
    return h


def to_uniform(h: np.ndarray) -> np.ndarray:
    """Map ``uint64`` hashes to float64 uniforms strictly inside (0, 1)."""
    return ((h >> _S11).astype(np.float64) + 0.5) * _TO_UNIT


def uniform(seed: int, stream: int, *keys) -> np.ndarray:
    """Uniforms in (0, 1) that are a pure function of ``(seed, stream, *keys)``.

    Examples
    --------
    >>> u = uniform(0, Stream.SESSIONS, np.arange(3), 5)
    >>> bool(np.all((u > 0) & (u < 1)))
    True
    """
    return to_uniform(hash_keys(seed, stream, *keys))


def normal(u: np.ndarray) -> np.ndarray:
    """Standard normals from uniforms (inverse CDF)."""
    return special.ndtri(u)


def poisson(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson counts with means ``lam`` from uniforms ``u`` (inverse CDF, exact search)."""
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), np.shape(u))
    p = np.exp(-lam)
    cdf = p.copy()
    k = np.zeros(np.shape(u), dtype=np.int64)
    todo = np.flatnonzero(u > cdf)
    n = 0
    while todo.size:
        n += 1
        p[todo] = p[todo] * lam[todo] / n
        cdf[todo] += p[todo]
        k[todo] = n
        todo = todo[(u[todo] > cdf[todo]) & (p[todo] > 1e-300)]
    return k


def categorical(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Category index per uniform from weights: shared ``(K,)`` or one row per draw ``(n, K)``."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w, axis=-1)
    if w.ndim == 1:
        idx = np.searchsorted(cum / cum[-1], u, side="right")
        return np.minimum(idx, w.size - 1)
    idx = (u[:, None] * cum[:, -1:] >= cum).sum(axis=1)
    return np.minimum(idx, w.shape[1] - 1)


def beta(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Beta(a, b) draws from uniforms (inverse regularized incomplete beta)."""
    return special.betaincinv(a, b, u)


def gumbel(u: np.ndarray) -> np.ndarray:
    """Standard Gumbel draws from uniforms."""
    return -np.log(-np.log(u))

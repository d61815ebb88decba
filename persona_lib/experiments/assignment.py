"""Deterministic arm assignment by hashing, and the sample ratio mismatch (SRM) check.

A unit's arm is a pure function of ``(salt, user_id)``: the salt is hashed once with BLAKE2b into
two 64-bit keys, and each id goes through two rounds of the splitmix64 finalizer keyed by them
(vectorized ``uint64`` numpy, about 30 ms for 1M integer ids). The top 53 bits give a uniform in
(0, 1) that is cut at the cumulative weights. Same salt and id give the same arm on every run and
machine; different salts give independent assignments, so overlapping experiments do not
confound each other. A string id is first folded into 64 bits: its Unicode code points, two per
64-bit word, are chained through splitmix64 starting from its length (about 0.25 s for 1M ids of
12 characters, 0.7 s for 1M UUID strings).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from scipy import stats

from persona_lib.data.keyed_random import mix, to_uniform

__all__ = ["SRMResult", "assign", "assignment_uniform", "srm_check"]


def _salt_keys(salt: str) -> tuple[np.uint64, np.uint64]:
    digest = hashlib.blake2b(str(salt).encode("utf-8"), digest_size=16).digest()
    return (
        np.uint64(int.from_bytes(digest[:8], "little")),
        np.uint64(int.from_bytes(digest[8:], "little")),
    )


def _string_bits(ids: np.ndarray) -> np.ndarray:
    """64-bit fold of each string; independent of the other strings in the batch."""
    text = ids.astype(str)
    width = text.dtype.itemsize // 4
    codes = text.view(np.uint32).reshape(text.size, width)
    if width % 2:
        codes = np.pad(codes, ((0, 0), (0, 1)))
    length = np.strings.str_len(text)
    n_words = (length + 1) // 2
    h = length.astype(np.uint64)
    with np.errstate(over="ignore"):
        for j in range(codes.shape[1] // 2):  # loop over word position, vectorized over ids
            word = codes[:, 2 * j].astype(np.uint64) | (
                codes[:, 2 * j + 1].astype(np.uint64) << np.uint64(32)
            )
            live = j < n_words
            h = mix(h ^ word) if live.all() else np.where(live, mix(h ^ word), h)
    return h


def _id_bits(user_ids) -> np.ndarray:
    ids = np.asarray(user_ids)
    if ids.ndim != 1:
        raise ValueError(f"user_ids must be 1-D, got shape {ids.shape}")
    if ids.dtype.kind in "iub":
        return ids.astype(np.int64).astype(np.uint64)
    return _string_bits(ids)


def assignment_uniform(user_ids, salt: str) -> np.ndarray:
    """Uniforms in (0, 1), one per id: ``u = mix(mix(id ^ k1) ^ k2) / 2^64`` with ``k = H(salt)``.

    Examples
    --------
    >>> u = assignment_uniform([1, 2, 3], "exp-1")
    >>> bool(np.all((u > 0) & (u < 1)))
    True
    """
    k1, k2 = _salt_keys(salt)
    with np.errstate(over="ignore"):
        return to_uniform(mix(mix(_id_bits(user_ids) ^ k1) ^ k2))


def assign(
    user_ids,
    salt: str,
    weights: tuple[float, ...] = (0.5, 0.5),
    arms: tuple[str, ...] = ("control", "treatment"),
) -> np.ndarray:
    """The arm of each user id, shape (n,): deterministic in ``(salt, user_id)``.

    Parameters
    ----------
    user_ids : array of int or str, shape (n,)
    salt : experiment name; each experiment needs its own so assignments stay independent.
    weights : traffic share of each arm (normalized to sum 1).
    arms : arm labels, same length as ``weights``.

    Examples
    --------
    >>> assign([10, 11, 12, 13], "homepage-row-v2").tolist() == assign([10, 11, 12, 13],
    ...     "homepage-row-v2").tolist()
    True
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size != len(arms) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be non-negative, one per arm, with a positive sum")
    cuts = np.cumsum(w) / w.sum()
    idx = np.searchsorted(cuts, assignment_uniform(user_ids, salt), side="right")
    return np.asarray(arms)[np.minimum(idx, w.size - 1)]


@dataclass(frozen=True)
class SRMResult:
    """Sample ratio mismatch check: chi-square goodness of fit of arm counts to the design."""

    statistic: float
    p_value: float
    threshold: float
    mismatch: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "statistic": float(self.statistic),
            "p_value": float(self.p_value),
            "threshold": float(self.threshold),
            "mismatch": bool(self.mismatch),
        }


def srm_check(counts, expected_weights, threshold: float = 0.001) -> SRMResult:
    """Pearson chi-square test of observed arm counts against the designed weights.

    ``X^2 = sum_k (n_k - N w_k)^2 / (N w_k)`` with ``K - 1`` degrees of freedom. A p-value below
    ``threshold`` (0.001 by convention, since the check runs on every experiment) flags a broken
    assignment or logging pipeline: the experiment's effects should not be trusted.

    Examples
    --------
    >>> srm_check([5000, 5400], (0.5, 0.5)).mismatch
    True
    """
    n = np.asarray(counts, dtype=np.float64)
    w = np.asarray(expected_weights, dtype=np.float64)
    if n.shape != w.shape or n.ndim != 1 or n.size < 2:
        raise ValueError("counts and expected_weights must be 1-D with the same length (>= 2)")
    if np.any(n < 0) or np.any(w <= 0):
        raise ValueError("counts must be non-negative and expected_weights positive")
    expected = n.sum() * w / w.sum()
    statistic = float(np.sum((n - expected) ** 2 / expected))
    p_value = float(stats.chi2.sf(statistic, df=n.size - 1))
    return SRMResult(statistic, p_value, threshold, p_value < threshold)

"""Stable merge of sorted runs by final positions, without a global sort.

The simulator produces one run of events per day, each sorted by timestamp; only runs whose
time ranges overlap (sessions that spill past midnight) interleave. `RunMerger` gives, for each
run, the positions its elements take in ``argsort(concatenate(runs), kind="stable")``, so every
column can be written straight into one preallocated array and each run freed right after.
"""

from __future__ import annotations

import numpy as np

MIN_BLOCK = 4096  # consecutive positions copied as one slice (fancy indexing is ~10x slower)


class Placement:
    """Where a run's elements go: long consecutive stretches as slices, the rest by index."""

    def __init__(self, pos: np.ndarray | slice):
        if isinstance(pos, slice):
            self.blocks, self.src, self.dst = [(slice(0, pos.stop - pos.start), pos)], None, None
            return
        breaks = np.flatnonzero(np.diff(pos) != 1) + 1
        starts = np.concatenate([[0], breaks])
        ends = np.concatenate([breaks, [pos.size]])
        long = ends - starts >= MIN_BLOCK
        self.blocks = [
            (slice(a, b), slice(int(pos[a]), int(pos[a]) + b - a))
            for a, b in zip(starts[long], ends[long], strict=True)
        ]
        rest = np.ones(pos.size, dtype=bool)
        for src, _ in self.blocks:
            rest[src] = False
        self.src = np.flatnonzero(rest)
        self.dst = pos[self.src]

    def put(self, out: np.ndarray, values: np.ndarray) -> None:
        """``out[pos] = values``."""
        for src, dst in self.blocks:
            out[dst] = values[src]
        if self.src is not None and self.src.size:
            out[self.dst] = values[self.src]


class RunMerger:
    """Final positions of the elements of sorted runs in their stable merge.

    Parameters
    ----------
    keys : one nondecreasing array per run; ties go to the earlier run, then to the earlier
        element of a run, exactly as a stable sort of the concatenation.

    Examples
    --------
    >>> m = RunMerger([np.array([1, 3, 5]), np.array([2, 3, 9])])
    >>> m.positions(0), m.positions(1)
    (array([0, 2, 4]), array([1, 3, 5]))
    """

    def __init__(self, keys: list[np.ndarray]):
        self.keys: list[np.ndarray | None] = list(keys)
        sizes = np.array([k.size for k in keys], dtype=np.int64)
        self.total = int(sizes.sum())
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        full = sizes > 0
        lo = np.array([k[0] if k.size else 0 for k in keys])
        hi = np.array([k[-1] if k.size else 0 for k in keys])
        n = len(keys)
        later = np.arange(n)[None, :] > np.arange(n)[:, None]
        # overlap[a, b] for a < b: some element of a sorts after some element of b
        upper = later & (hi[:, None] > lo[None, :]) & full[:, None] & full[None, :]
        self.overlap = upper | upper.T
        idx = np.arange(n)
        self.last_use = np.where(self.overlap.any(1), (self.overlap * idx).max(1), 0)
        self.last_use = np.maximum(self.last_use, idx)

    def positions(self, i: int) -> np.ndarray | slice:
        """Positions of run ``i`` (a slice when no other run interleaves with it)."""
        k = self.keys[i]
        start = int(self.starts[i])
        others = np.flatnonzero(self.overlap[i])
        if not others.size:
            return slice(start, start + k.size)
        pos = np.arange(start, start + k.size, dtype=np.int64)
        for e in others:
            ke = self.keys[e]
            if e < i:  # elements of an earlier run that are > t come after t
                m = int(np.searchsorted(k, ke[-1], side="left"))
                pos[:m] -= ke.size - np.searchsorted(ke, k[:m], side="right")
            else:  # elements of a later run that are < t come before t
                m = int(np.searchsorted(k, ke[0], side="right"))
                pos[m:] += np.searchsorted(ke, k[m:], side="left")
        return pos

    def release(self, i: int) -> None:
        """Forget the keys no longer needed once runs ``0..i`` have been placed."""
        for e in np.flatnonzero(self.last_use <= i):
            self.keys[e] = None


def merge_runs(keys: list[np.ndarray]) -> np.ndarray:
    """``argsort(concatenate(keys), kind="stable")`` for sorted runs (a reference helper)."""
    merger = RunMerger(keys)
    order = np.empty(merger.total, dtype=np.int64)
    for i in range(len(keys)):
        start = int(merger.starts[i])
        order[merger.positions(i)] = np.arange(start, start + keys[i].size)
    return order

"""Train / test splits of an interaction table: stratified, global temporal, leave-last-n.

Each function returns ``(train, test)``: two row subsets of the input in its original row order
with its index kept, together holding every row exactly once. The input is never modified.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.evaluation.ranking import USER

STRATA = ("user_id", "title_id")


def _require(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"frame is missing column(s) {missing}")


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")


def _position_in_group(codes: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows visited in ``order`` (grouped by code): 1-based position and group size."""
    sorted_codes = codes[order]
    new = np.empty(sorted_codes.size, bool)
    new[:1] = True
    np.not_equal(sorted_codes[1:], sorted_codes[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    position = np.arange(1, sorted_codes.size + 1) - starts[run]
    sizes = np.diff(np.append(starts, sorted_codes.size))
    return position, sizes[run]


def _split_by_mask(frame: pd.DataFrame, order: np.ndarray, in_test: np.ndarray):
    test = np.zeros(len(frame), bool)
    test[order[in_test]] = True
    return frame[~test], frame[test]


def stratified_split(
    frame: pd.DataFrame, ratio: float = 0.75, by: str = "user_id", random_state: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random split within each member (or title): a share ``ratio`` of its rows goes to train.

    Reproduces microsoft/recommenders 1.2.1 ``python_stratified_split(data, ratio,
    filter_by=..., seed=random_state)`` row for row: draw ``u ~ U(0, 1)`` per row from the legacy
    Mersenne Twister ``numpy.random.RandomState(random_state).rand`` in input row order, sort
    rows by (group, u), and send a group's first ``round(ratio * size)`` rows (round half to
    even) to train, the rest to test. The legacy generator, not ``default_rng``, is used only so
    that published splits (e.g. MovieLens 100K by item at 0.75, seed 42: 75,066 / 24,934 rows)
    come out identical; no global seed is set.

    Parameters
    ----------
    frame : interactions with ``by`` among its columns.
    ratio : share of each group's rows in train, strictly between 0 and 1.
    by : ``"user_id"`` or ``"title_id"``: the column to stratify on.
    random_state : seed of the row draws.

    Returns
    -------
    (train, test) in the input's row order.

    Examples
    --------
    >>> frame = pd.DataFrame({"user_id": [1] * 4 + [2] * 2, "title_id": range(6)})
    >>> train, test = stratified_split(frame, ratio=0.5, by="user_id", random_state=0)
    >>> len(train), len(test)
    (3, 3)
    """
    if by not in STRATA:
        raise ValueError(f"by must be one of {STRATA}, got {by!r}")
    _check_fraction("ratio", ratio)
    _require(frame, (by,))
    draws = np.random.RandomState(random_state).rand(len(frame))
    codes = pd.factorize(frame[by])[0]
    if (codes < 0).any():
        raise ValueError(f"{by} has missing values")
    order = np.lexsort((draws, codes))
    position, size = _position_in_group(codes, order)
    return _split_by_mask(frame, order, position > np.round(ratio * size))


def temporal_split(
    frame: pd.DataFrame, test_fraction: float, ts_col: str = "ts"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Global time cut: the latest ``test_fraction`` of rows form the test set.

    The cut time ``t*`` is the timestamp of the row at position ``ceil((1 - f) * n)`` (0-based)
    in time order; train is ``ts < t*`` and test is ``ts >= t*``, so rows sharing the cut
    timestamp all go to test and nothing in train happens at or after anything in test. The
    test share can therefore exceed ``f`` slightly when timestamps tie.

    Parameters
    ----------
    frame : interactions with a sortable ``ts_col`` (datetime or numeric), no nulls.
    test_fraction : target share of rows in test, strictly between 0 and 1.
    ts_col : timestamp column.

    Returns
    -------
    (train, test) in the input's row order.

    Examples
    --------
    >>> frame = pd.DataFrame({"user_id": [1, 2, 1, 2], "ts": [3, 1, 4, 2]})
    >>> train, test = temporal_split(frame, test_fraction=0.5)
    >>> test["ts"].tolist()
    [3, 4]
    """
    _check_fraction("test_fraction", test_fraction)
    _require(frame, (ts_col,))
    ts = frame[ts_col]
    if ts.isna().any():
        raise ValueError(f"{ts_col} has missing values")
    if len(frame) == 0:
        return frame, frame
    # rounded first so that e.g. 0.7 * 10 = 7.000000000000001 does not become 8
    position = min(int(np.ceil(round((1.0 - test_fraction) * len(frame), 9))), len(frame) - 1)
    cut = ts.sort_values().iloc[position]
    test = (ts >= cut).to_numpy()
    return frame[~test], frame[test]


def leave_last_n(
    frame: pd.DataFrame, n: int = 1, ts_col: str = "ts"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per member, the latest ``n`` interactions form the test set (leave-one-out when n = 1).

    Rows are ordered by ``ts_col`` within a member, ties broken by row order (a later row is
    later). A member with ``n`` or fewer interactions keeps them all in train, so every test
    member has history to learn from.

    Parameters
    ----------
    frame : interactions with ``user_id`` and ``ts_col``, no null timestamps.
    n : interactions held out per member, a positive integer.
    ts_col : timestamp column.

    Returns
    -------
    (train, test) in the input's row order.

    Examples
    --------
    >>> frame = pd.DataFrame({"user_id": [1, 1, 1, 2], "title_id": [5, 6, 7, 8],
    ...                       "ts": [2, 3, 1, 9]})
    >>> train, test = leave_last_n(frame, n=1)
    >>> test["title_id"].tolist()
    [6]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    _require(frame, (USER, ts_col))
    ts = frame[ts_col]
    if ts.isna().any():
        raise ValueError(f"{ts_col} has missing values")
    codes = pd.factorize(frame[USER], use_na_sentinel=False)[0]
    # rank(method="first") orders any sortable dtype and breaks ties by row order
    order = np.lexsort((ts.rank(method="first").to_numpy(), codes))
    position, size = _position_in_group(codes, order)
    return _split_by_mask(frame, order, (size > n) & (position > size - n))

"""Implicit-feedback confidence weights for (user, title) pairs, and the sparse matrix they fill.

Binary "played" throws away how much was watched. Following Hu, Koren & Volinsky (2008),
"Collaborative Filtering for Implicit Feedback Datasets", each observed pair gets a preference
of 1 and a confidence ``c = 1 + alpha * r`` that grows with the evidence ``r`` built from the
watch fraction, completion, rewatch and a penalty for having scrolled past the title first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from persona_lib.signals.engagement import COMPLETION_THRESHOLD, play_outcomes

PAIR = ["user_id", "title_id"]


def _scrolled_before_play(events: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Per row of ``pairs``: did the member scroll past the title before its first play?"""
    et = events["event_type"]
    first_scroll = events.loc[et.eq("scroll_past"), [*PAIR, "ts"]].groupby(PAIR)["ts"].min()
    scroll = pairs.join(first_scroll.rename("first_scroll"), on=PAIR)["first_scroll"]
    return (scroll < pairs["first_play"]).to_numpy(dtype=bool)


def confidence_weights(
    events: pd.DataFrame,
    titles: pd.DataFrame,
    alpha: float = 40.0,
    completion_bonus: float = 1.0,
    rewatch_bonus: float = 1.0,
    scroll_past_penalty: float = 0.5,
    threshold: float = COMPLETION_THRESHOLD,
) -> pd.DataFrame:
    """Confidence weight per played (user, title) pair, from how it was watched.

    With ``W`` the runtimes watched (sum over the pair's plays of each play's watch fraction,
    capped at 1 per play, so a series watched episode after episode keeps growing), ``C`` =
    1 if any play completed, ``R`` = 1 if any play was a rewatch and ``S`` = 1 if the member
    scrolled past the title before first playing it::

        r = log(1 + W) + completion_bonus * C + rewatch_bonus * R - scroll_past_penalty * S
        weight = 1 + alpha * max(r, 0)

    The weight is non-decreasing in ``W``, ``C`` and ``R`` (Hu, Koren & Volinsky 2008 use
    ``c = 1 + alpha * r`` with ``alpha = 40``; the log damps heavy series watching).

    Parameters
    ----------
    events, titles : DataFrame
        Canonical events and titles tables.
    alpha : float
        Confidence scale, >= 0.
    completion_bonus, rewatch_bonus, scroll_past_penalty : float
        Evidence added for a completion, a rewatch, and removed for an earlier scroll-past.
    threshold : float
        Completion threshold as a share of the runtime.

    Returns
    -------
    DataFrame
        ``user_id``, ``title_id``, ``plays``, ``watch_fraction`` (W), ``completed``,
        ``rewatched``, ``scrolled_past``, ``weight``; one row per pair with a play.

    Examples
    --------
    >>> w = confidence_weights(events, titles)  # doctest: +SKIP
    >>> interaction_matrix(w, n_users, n_titles)  # doctest: +SKIP
    """
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    plays = play_outcomes(events, titles, threshold)
    out = plays.groupby(PAIR, sort=True).agg(
        plays=("event_id", "size"),
        watch_fraction=("watch_fraction", "sum"),
        completed=("completed", "any"),
        rewatched=("rewatch", "any"),
        first_play=("ts", "min"),
    )
    out = out.reset_index()
    out["scrolled_past"] = _scrolled_before_play(events, out)
    evidence = (
        np.log1p(out["watch_fraction"].to_numpy())
        + completion_bonus * out["completed"].to_numpy()
        + rewatch_bonus * out["rewatched"].to_numpy()
        - scroll_past_penalty * out["scrolled_past"].to_numpy()
    )
    out["weight"] = 1.0 + alpha * np.maximum(evidence, 0.0)
    return out.drop(columns="first_play")


def interaction_matrix(
    weights: pd.DataFrame, n_users: int, n_titles: int, value: str = "weight"
) -> sp.csr_matrix:
    """A users x titles ``scipy.sparse.csr_matrix`` of a weight column (duplicates summed).

    A ``csr_matrix`` rather than a ``csr_array``: ``implicit`` rejects the latter in
    ``recommend``.

    Parameters
    ----------
    weights : DataFrame
        ``user_id``, ``title_id`` and ``value`` columns, e.g. from `confidence_weights`.
    n_users, n_titles : int
        Matrix shape; ids must lie in ``[0, n_users)`` and ``[0, n_titles)``.
    value : str
        The column to place in the matrix.

    Returns
    -------
    scipy.sparse.csr_matrix
        float32, shape ``(n_users, n_titles)``.
    """
    rows = weights["user_id"].to_numpy().astype("int64")
    cols = weights["title_id"].to_numpy().astype("int64")
    for name, ids, n in (("user_id", rows, n_users), ("title_id", cols, n_titles)):
        if len(ids) and (ids.min() < 0 or ids.max() >= n):
            raise ValueError(f"{name} out of range [0, {n}): found {ids.min()}..{ids.max()}")
    data = weights[value].to_numpy().astype("float32")
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(n_users, n_titles), dtype=np.float32)
    matrix.sum_duplicates()
    return matrix

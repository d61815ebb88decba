"""Beyond-accuracy metrics: how much of the catalog recommendations and plays reach.

`catalog_coverage` and `novelty` describe recommendation lists; `effective_catalog_size`
describes where plays (or hours) actually go, the measure Netflix uses to tell whether
personalization spreads viewing beyond the few most popular titles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from persona_lib.evaluation.ranking import TITLE, keep_top_k


def _titles(predictions: pd.DataFrame, k: int | None) -> pd.Series:
    if TITLE not in predictions.columns:
        raise ValueError(f"predictions is missing column(s) {[TITLE]}")
    return (predictions if k is None else keep_top_k(predictions, k))[TITLE]


def catalog_coverage(
    predictions: pd.DataFrame, catalog: pd.Series | np.ndarray | list, k: int | None = None
) -> float:
    """Catalog coverage: the share of catalog titles recommended to at least one member.

    ``coverage = |{titles in the lists} & C| / |C|`` for catalog C (Ge et al. 2010, "Beyond
    accuracy"). Recommended titles outside the catalog are ignored.

    Parameters
    ----------
    predictions : ``title_id`` (and ``user_id, score`` when ``k`` is given).
    catalog : title ids available to recommend; repeats are ignored.
    k : keep each member's k best-scored rows first; None uses every row.

    Returns
    -------
    float in [0, 1].

    Examples
    --------
    >>> predictions = pd.DataFrame({"user_id": [1, 2], "title_id": [7, 7], "score": [1.0, 1.0]})
    >>> catalog_coverage(predictions, catalog=[7, 8, 9, 10])
    0.25
    """
    catalog = pd.unique(pd.Series(np.asarray(catalog)))
    if catalog.size == 0:
        raise ValueError("catalog is empty")
    shown = pd.unique(_titles(predictions, k))
    return float(np.isin(catalog, shown).sum() / catalog.size)


def novelty(predictions: pd.DataFrame, interactions: pd.DataFrame, k: int | None = None) -> float:
    """Novelty: mean self-information -log2 p(i) of the recommended titles.

    ``p(i) = n_i / n`` is title i's share of the ``interactions`` rows (the item-choice model of
    Vargas & Castells 2011, "Rank and relevance in novelty and diversity metrics"), and novelty
    is the mean of ``-log2 p(i)`` over recommended rows, in bits: 0 when every list holds a
    title that takes all interactions, higher for long-tail lists. Recommended titles with no
    interactions have unbounded self-information and are left out of the mean (recommenders
    1.2.1 counts them as 0 instead).

    Parameters
    ----------
    predictions : ``title_id`` (and ``user_id, score`` when ``k`` is given).
    interactions : ``title_id`` of past plays, one row per play (e.g. the training set).
    k : keep each member's k best-scored rows first; None uses every row.

    Returns
    -------
    float >= 0, in bits; NaN when no recommended title has interactions.

    Examples
    --------
    >>> history = pd.DataFrame({"title_id": [7, 7, 7, 8]})
    >>> predictions = pd.DataFrame({"user_id": [1], "title_id": [8], "score": [1.0]})
    >>> novelty(predictions, history)  # -log2(1/4)
    2.0
    """
    if TITLE not in interactions.columns:
        raise ValueError(f"interactions is missing column(s) {[TITLE]}")
    share = interactions[TITLE].value_counts(normalize=True)
    bits = -np.log2(share.reindex(_titles(predictions, k)).to_numpy(np.float64))
    known = ~np.isnan(bits)
    return float(bits[known].mean()) if known.any() else float("nan")


def effective_catalog_size(plays: pd.DataFrame, weight_col: str | None = None) -> float:
    """ECS (effective catalog size): how many titles the plays are effectively spread over.

    With titles sorted by descending share of plays ``p_1 >= p_2 >= ...``,
    ``ECS = 2 * sum_i i * p_i - 1`` (i from 1; Gomez-Uribe & Hunt 2016, "The Netflix
    recommender system", ACM TMIS 6(4)). ECS is 1 when one title takes all plays and N when N
    titles share them equally; titles without plays do not change it.

    Parameters
    ----------
    plays : ``title_id``, one row per play, or any rows with a ``weight_col``.
    weight_col : column to sum per title (e.g. hours watched); None counts rows.

    Returns
    -------
    float in [1, number of titles played].

    Examples
    --------
    >>> effective_catalog_size(pd.DataFrame({"title_id": [1, 1, 2, 2, 3, 3]}))
    3.0
    """
    columns = [TITLE] + ([weight_col] if weight_col else [])
    missing = [c for c in columns if c not in plays.columns]
    if missing:
        raise ValueError(f"plays is missing column(s) {missing}")
    if weight_col is None:
        totals = plays[TITLE].value_counts().to_numpy(np.float64)
    else:
        totals = plays.groupby(TITLE, sort=False)[weight_col].sum().to_numpy(np.float64)
    if (totals < 0).any() or totals.sum() <= 0:
        raise ValueError("plays need a positive total and no negative weights")
    share = np.sort(totals)[::-1] / totals.sum()
    return float(2.0 * np.dot(np.arange(1, share.size + 1), share) - 1.0)

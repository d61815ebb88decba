"""Offline evaluation of recommenders on a viewing log: a time cut, then top-k metrics.

The protocol mirrors how a recommender is used: fit on everything watched before a cut time,
recommend to every member, and count as relevant the titles each member started after the cut
that they had not played before it (re-plays are not something to recommend).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from persona_lib.evaluation.catalog import catalog_coverage, effective_catalog_size, novelty
from persona_lib.evaluation.ranking import (
    hit_rate_at_k,
    map_at_k,
    map_full,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)

PLAY = "play_start"


@dataclass(frozen=True)
class Holdout:
    """A log cut in time: ``train`` events before ``cutoff``, ``truth`` (user_id, title_id) of
    titles first started at or after it, and the members to recommend to (``users``)."""

    train: pd.DataFrame
    truth: pd.DataFrame
    cutoff: pd.Timestamp
    users: np.ndarray

    def to_dict(self) -> dict:
        return {
            "cutoff": str(self.cutoff),
            "train_events": len(self.train),
            "truth_pairs": len(self.truth),
            "users": int(self.users.size),
        }


def temporal_holdout(events: pd.DataFrame, test_days: float) -> Holdout:
    """Split an events log at ``max(ts) - test_days``.

    Relevant titles are those a member started (``play_start``) at or after the cut and had not
    started before it; members with at least one such title are evaluated.

    Examples
    --------
    >>> holdout = temporal_holdout(world.events, test_days=14)  # doctest: +SKIP
    """
    if test_days <= 0:
        raise ValueError(f"test_days must be positive, got {test_days}")
    cutoff = events["ts"].max() - pd.Timedelta(days=test_days)
    before = events["ts"] < cutoff
    train = events[before]
    plays = events.loc[~before & (events["event_type"] == PLAY), ["user_id", "title_id"]]
    seen = train.loc[train["event_type"] == PLAY, ["user_id", "title_id"]].drop_duplicates()
    truth = plays.drop_duplicates().merge(seen, how="left", indicator=True)
    truth = truth.loc[truth["_merge"] == "left_only", ["user_id", "title_id"]]
    truth = truth.sort_values(["user_id", "title_id"], ignore_index=True)
    if truth.empty:
        raise ValueError(f"no new plays after the cut {cutoff}: use a larger test_days")
    return Holdout(train, truth, cutoff, np.unique(truth["user_id"].to_numpy()))


def score_recommendations(
    recommendations: pd.DataFrame,
    truth: pd.DataFrame,
    train_plays: pd.DataFrame,
    catalog: np.ndarray,
    k: int = 10,
) -> dict[str, float]:
    """Accuracy at k (precision, recall, nDCG, MAP@k, MAP, hit rate, MRR) and beyond-accuracy
    figures (catalog coverage, novelty in bits, effective catalog size of the lists)."""
    out = {
        f"precision_at_{k}": precision_at_k(truth, recommendations, k),
        f"recall_at_{k}": recall_at_k(truth, recommendations, k),
        f"ndcg_at_{k}": ndcg_at_k(truth, recommendations, k),
        f"map_at_{k}": map_at_k(truth, recommendations, k),
        "map": map_full(truth, recommendations, k),
        f"hit_rate_at_{k}": hit_rate_at_k(truth, recommendations, k),
        f"mrr_at_{k}": mrr_at_k(truth, recommendations, k),
    }
    top = recommendations[recommendations["rank"] <= k]
    out["coverage"] = catalog_coverage(top, catalog)
    out["novelty_bits"] = novelty(top, train_plays)
    out["effective_catalog_size"] = effective_catalog_size(top)
    return out


def evaluate_recommenders(
    models: dict,
    holdout: Holdout,
    titles: pd.DataFrame,
    n_users: int,
    k: int = 10,
    ks: tuple[int, ...] = (1, 5, 10, 20),
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Fit every model on the holdout's training events and score its top-k lists.

    Parameters
    ----------
    models : name -> unfitted `Recommender`.
    holdout : from `temporal_holdout`.
    titles : the catalog (runtimes for confidence weights, ids for coverage).
    n_users : size of the member id space.
    k : the cut-off of the main table; ``ks`` the cut-offs of the accuracy-vs-k table.

    Returns
    -------
    (table, by_k, fitted): one row per model with the metrics of `score_recommendations` and
    ``fit_seconds``; nDCG and recall per model and k; name -> fitted model.
    """
    train_plays = holdout.train.loc[holdout.train["event_type"] == PLAY, ["title_id"]]
    catalog = titles["title_id"].to_numpy()
    rows, by_k, fitted = [], [], {}
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(holdout.train, n_users=n_users, n_titles=len(titles), titles=titles)
        fit_s = time.perf_counter() - start
        recs = model.recommend(holdout.users, k=max(max(ks), k))
        rows.append(
            {
                "model": name,
                **score_recommendations(recs, holdout.truth, train_plays, catalog, k),
                "fit_seconds": fit_s,
            }
        )
        for cut in ks:
            by_k.append(
                {
                    "model": name,
                    "k": cut,
                    "ndcg": ndcg_at_k(holdout.truth, recs, cut),
                    "recall": recall_at_k(holdout.truth, recs, cut),
                }
            )
        fitted[name] = model
    return pd.DataFrame(rows), pd.DataFrame(by_k), fitted

"""Learners fitted on logs, one subpackage per family; none of them reads the simulator's truth.

- `recommenders`: every recommender behind the `Recommender` contract, blends, the ranker;
- `homepage`: the page builder, the personalized page policy, the scorer and the play model;
- `retention`: churn, completion, survival, hazard and uplift models;
- `sales`: upgrade offers, win-back titles, games cross-sell, ad targeting;
- `artwork`: contextual bandits and the artwork serving policy;
- `frames`: the feature-frame alignment the tabular models share.

Families import downwards only (retention <- recommenders <- homepage <- artwork; sales uses
recommenders and retention). The recommenders are re-exported here, the names most callers want:
``from persona_lib.models import EASERecommender``.
"""

from persona_lib.models import artwork, frames, homepage, recommenders, retention, sales
from persona_lib.models.recommenders import (
    ALSRecommender,
    BlendRecommender,
    BPRRecommender,
    ContentRecommender,
    EASERecommender,
    EDLAERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    Recommender,
    RP3betaRecommender,
    TwoStageRanker,
    as_interactions,
    bm25_weight,
    cosine_neighbours,
    title_vectors,
    top_k,
)

__all__ = [
    "ALSRecommender",
    "BPRRecommender",
    "BlendRecommender",
    "ContentRecommender",
    "EASERecommender",
    "EDLAERecommender",
    "ItemKNNRecommender",
    "PopularityRecommender",
    "RP3betaRecommender",
    "Recommender",
    "TwoStageRanker",
    "artwork",
    "as_interactions",
    "bm25_weight",
    "cosine_neighbours",
    "frames",
    "homepage",
    "recommenders",
    "retention",
    "sales",
    "title_vectors",
    "top_k",
]

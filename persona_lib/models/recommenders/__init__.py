"""Recommenders behind one contract (`Recommender.fit` / `recommend` / `score`): popularity,
item-kNN, EASE, EDLAE, RP3beta, ALS and BPR (implicit), Spark ALS (MLlib, imported when used),
content, blends and the two-stage LambdaRank ranker.
"""

from persona_lib.models.recommenders.base import Recommender, as_interactions, top_k
from persona_lib.models.recommenders.blend import BlendRecommender, standardize_rows
from persona_lib.models.recommenders.content import ContentRecommender, title_vectors
from persona_lib.models.recommenders.ease import EASERecommender
from persona_lib.models.recommenders.edlae import EDLAERecommender
from persona_lib.models.recommenders.factorization import ALSRecommender, BPRRecommender
from persona_lib.models.recommenders.item_knn import (
    ItemKNNRecommender,
    bm25_weight,
    cosine_neighbours,
)
from persona_lib.models.recommenders.popularity import PopularityRecommender
from persona_lib.models.recommenders.ranker import TwoStageRanker
from persona_lib.models.recommenders.rp3beta import RP3betaRecommender
from persona_lib.models.recommenders.spark_als import SparkALS

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
    "SparkALS",
    "TwoStageRanker",
    "as_interactions",
    "bm25_weight",
    "cosine_neighbours",
    "standardize_rows",
    "title_vectors",
    "top_k",
]

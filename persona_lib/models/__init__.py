"""Recommenders and rankers: every recommender shares the verbs of `base.Recommender`.

The play model lives in `persona_lib.models.play_model` (imported on demand: it loads LightGBM).
"""

from persona_lib.models.base import Recommender, as_interactions, top_k
from persona_lib.models.blend import BlendRecommender
from persona_lib.models.content import ContentRecommender, title_vectors
from persona_lib.models.ease import EASERecommender
from persona_lib.models.edlae import EDLAERecommender
from persona_lib.models.factorization import ALSRecommender, BPRRecommender
from persona_lib.models.item_knn import ItemKNNRecommender, bm25_weight, cosine_neighbours
from persona_lib.models.popularity import PopularityRecommender
from persona_lib.models.ranker import TwoStageRanker
from persona_lib.models.rp3beta import RP3betaRecommender

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
    "as_interactions",
    "bm25_weight",
    "cosine_neighbours",
    "title_vectors",
    "top_k",
]

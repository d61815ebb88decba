"""Artwork personalization: contextual bandits that report their propensities, the logged rounds
they learn from, and the artwork chooser served inside the page policy.
"""

from persona_lib.models.artwork.bandits import (
    CHUNK,
    BanditPolicy,
    BernoulliThompsonPolicy,
    GreedySupervisedPolicy,
    LinUCBPolicy,
    UniformRandomPolicy,
    outer_features,
)
from persona_lib.models.artwork.policy import ArtworkPolicy, personalized_service
from persona_lib.models.artwork.rounds import (
    REWARDS,
    ArtworkCatalog,
    ArtworkRounds,
    artwork_rounds,
    impression_rewards,
)

__all__ = [
    "ArtworkCatalog",
    "ArtworkPolicy",
    "BanditPolicy",
    "BernoulliThompsonPolicy",
    "CHUNK",
    "GreedySupervisedPolicy",
    "LinUCBPolicy",
    "ArtworkRounds",
    "REWARDS",
    "UniformRandomPolicy",
    "artwork_rounds",
    "impression_rewards",
    "outer_features",
    "personalized_service",
]

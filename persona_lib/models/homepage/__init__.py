"""The homepage: rows of titles built from recommenders, the member history the page reads, the
personalized page as a serving policy, the real-time scorer and the play model.
"""

from persona_lib.models.homepage.page import title_grid
from persona_lib.models.homepage.play_model import PlayPredictor
from persona_lib.models.homepage.policy import PersonalizedPagePolicy
from persona_lib.models.homepage.scorer import HomepageScorer

__all__ = ["HomepageScorer", "PersonalizedPagePolicy", "PlayPredictor", "title_grid"]

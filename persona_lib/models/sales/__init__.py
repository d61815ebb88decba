"""Sales models fitted on logs only: upgrade-offer uplift, win-back titles, games cross-sell by
viewing taste, ad-category targeting.
"""

from persona_lib.models.sales.ad_targeting import AdCategoryModel, estimate_ad_load_arms
from persona_lib.models.sales.cross_sell import GameAffinityModel, GamePopularity
from persona_lib.models.sales.upsell import (
    UPSELL_FEATURES,
    cross_fit_uplift,
    random_share,
    top_share,
)
from persona_lib.models.sales.winback import (
    FeaturedTitleChooser,
    ReactivationModel,
    popular_title,
    random_titles,
)

__all__ = [
    "AdCategoryModel",
    "FeaturedTitleChooser",
    "GameAffinityModel",
    "GamePopularity",
    "ReactivationModel",
    "UPSELL_FEATURES",
    "cross_fit_uplift",
    "estimate_ad_load_arms",
    "popular_title",
    "random_share",
    "random_titles",
    "top_share",
]

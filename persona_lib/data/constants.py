"""Constants that the simulator, the learners, the evaluation and the money arithmetic share.

Defined once, at the bottom layer, so that a model fitted on logs (`models`) and the simulator
that made them (`sim`) agree without either importing the other.
"""

from __future__ import annotations

__all__ = ["AD_CATEGORIES", "DAYS_PER_MONTH", "PRICES", "Z95"]

# Monthly price per plan in USD, Netflix US from January 2025 (ads 7.99, basic 11.99 for members
# who keep it, standard 17.99, premium 24.99; Netflix's 2025 price announcement).
PRICES = {"ads": 7.99, "basic": 11.99, "standard": 17.99, "premium": 24.99}

# Ad categories of the ads tier (an ASSUMPTION: twelve broad advertiser verticals).
AD_CATEGORIES: tuple[str, ...] = (
    "auto", "beauty", "fashion", "finance", "food", "gaming",
    "health", "retail", "sports", "tech", "toys", "travel",
)  # fmt: skip

DAYS_PER_MONTH = 365.25 / 12  # 30.4375: the mean Gregorian month, so 12 months = 1 year

Z95 = 1.959963984540054  # the two-sided 95 % normal quantile Phi^-1(0.975), as scipy.stats.norm.ppf

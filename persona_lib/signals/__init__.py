"""Funnel, position, engagement and feedback signals computed from event logs."""

from persona_lib.signals.attribution import tile_outcomes
from persona_lib.signals.browsing import (
    browsing_speed,
    member_browsing_speed,
    play_rate_by_browsing_speed,
)
from persona_lib.signals.engagement import (
    completion_and_rewatch,
    hours_by_source,
    play_outcomes,
    session_summary,
    time_of_day_profile,
)
from persona_lib.signals.feedback import confidence_weights, interaction_matrix
from persona_lib.signals.funnel import compute_funnel, funnel_steps
from persona_lib.signals.impressions import (
    IMPRESSION_FEATURES,
    impression_table,
)
from persona_lib.signals.position import position_bias_curve, position_heatmap
from persona_lib.signals.scroll_past import scroll_past_signal
from persona_lib.signals.subscriptions import (
    monthly_churn,
    renewal_loss_probability,
)
from persona_lib.signals.viewing import ViewingTime, member_days, viewing_time

__all__ = [
    "IMPRESSION_FEATURES",
    "ViewingTime",
    "browsing_speed",
    "completion_and_rewatch",
    "compute_funnel",
    "confidence_weights",
    "funnel_steps",
    "hours_by_source",
    "impression_table",
    "interaction_matrix",
    "member_browsing_speed",
    "member_days",
    "monthly_churn",
    "play_outcomes",
    "play_rate_by_browsing_speed",
    "position_bias_curve",
    "position_heatmap",
    "renewal_loss_probability",
    "scroll_past_signal",
    "session_summary",
    "tile_outcomes",
    "time_of_day_profile",
    "viewing_time",
]

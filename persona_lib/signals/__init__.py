"""Funnel, position, engagement and feedback signals computed from event logs."""

from persona_lib.signals.engagement import (
    browsing_speed,
    completion_and_rewatch,
    hours_by_source,
    play_outcomes,
    play_rate_by_browsing_speed,
    scroll_past_signal,
    session_summary,
    time_of_day_profile,
)
from persona_lib.signals.feedback import confidence_weights, interaction_matrix
from persona_lib.signals.funnel import compute_funnel, funnel_steps, tile_outcomes
from persona_lib.signals.impressions import (
    IMPRESSION_FEATURES,
    impression_table,
    temporal_split,
)
from persona_lib.signals.position import position_bias_curve, position_heatmap

__all__ = [
    "IMPRESSION_FEATURES",
    "browsing_speed",
    "completion_and_rewatch",
    "compute_funnel",
    "confidence_weights",
    "funnel_steps",
    "hours_by_source",
    "impression_table",
    "interaction_matrix",
    "play_outcomes",
    "play_rate_by_browsing_speed",
    "position_bias_curve",
    "position_heatmap",
    "scroll_past_signal",
    "session_summary",
    "temporal_split",
    "tile_outcomes",
    "time_of_day_profile",
]

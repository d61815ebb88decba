"""Retention models: churn (calibrated logistic and LightGBM), completion at play start,
Kaplan-Meier survival, the discrete-time hazard model and uplift learners.
"""

from persona_lib.models.retention.capacity import CapacitySearch, MarginCalibrator
from persona_lib.models.retention.churn import CalibratedClassifier, ChurnConfig, ChurnModel
from persona_lib.models.retention.completion import (
    COMPLETION_FEATURES,
    LABEL,
    CompletionModel,
    PlayHistory,
    completion_examples,
    play_history_features,
    summarize_play_history,
)
from persona_lib.models.retention.hazard import DiscreteTimeHazard
from persona_lib.models.retention.survival import (
    SurvivalCurve,
    kaplan_meier,
    kaplan_meier_by,
    logrank_test,
    survival_table,
)
from persona_lib.models.retention.uplift import (
    BoosterParams,
    ClassTransformation,
    SendHourModel,
    TLearner,
    XLearner,
    best_send_hour,
)

__all__ = [
    "BoosterParams",
    "COMPLETION_FEATURES",
    "CalibratedClassifier",
    "CapacitySearch",
    "ChurnConfig",
    "ChurnModel",
    "ClassTransformation",
    "CompletionModel",
    "DiscreteTimeHazard",
    "LABEL",
    "MarginCalibrator",
    "PlayHistory",
    "SendHourModel",
    "SurvivalCurve",
    "TLearner",
    "XLearner",
    "best_send_hour",
    "completion_examples",
    "kaplan_meier",
    "kaplan_meier_by",
    "logrank_test",
    "play_history_features",
    "summarize_play_history",
    "survival_table",
]

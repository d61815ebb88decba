"""Evaluation: ranking and catalog metrics, splits, offline and online comparisons, classification
and uplift metrics, sales studies, and checks of estimates against the simulator's truth.
`evaluation.ope` holds the off-policy estimators.
"""

from persona_lib.evaluation.artwork_online import (
    fit_artwork_reward_model,
    impression_truth,
    lift_by_heterogeneity,
    member_rate,
    regret_curve,
    run_artwork_policies,
    segment_preferences,
    split_rounds,
    true_policy_value,
)
from persona_lib.evaluation.campaigns import (
    CampaignAnalysis,
    analyze_campaign,
    campaign_features,
    offer_campaign,
    offer_truth_table,
    select_campaign,
)
from persona_lib.evaluation.catalog import effective_catalog_size
from persona_lib.evaluation.churn_cv import (
    ChurnCV,
    cross_validate_churn,
    expected_calibration_error,
)
from persona_lib.evaluation.classification import (
    calibration_table,
    classification_report,
    cumulative_gains,
    top_decile_capture,
)
from persona_lib.evaluation.offline import evaluate_recommenders, temporal_holdout
from persona_lib.evaluation.online import (
    compare_policies,
    linearized_interval,
    member_metrics,
    member_outcomes,
    paired_difference_pp,
    ratio_estimate,
)
from persona_lib.evaluation.ranking import (
    map_at_k,
    map_full,
    ndcg_at_k,
    ndcg_per_member,
    precision_at_k,
    recall_at_k,
)
from persona_lib.evaluation.sales import (
    bootstrap_means,
    cross_sell_study,
    upsell_study,
    winback_study,
)
from persona_lib.evaluation.sales_ads import ad_load_study, ad_targeting_study, ads_tier_arpu_study
from persona_lib.evaluation.selection import Selection, choose_on_validation, choose_uplift_learner
from persona_lib.evaluation.splits import leave_last_n, stratified_split, temporal_split
from persona_lib.evaluation.truth import expected_churn, funnel_against_truth, true_completion_prob
from persona_lib.evaluation.tuning import Tuning, tune_recommenders
from persona_lib.evaluation.tuning_search import fold_scores
from persona_lib.evaluation.tuning_space import (
    DataScale,
    dense_title_limit,
    recommender_grids,
    validation_folds,
)
from persona_lib.evaluation.uplift import (
    auuc,
    hour_accuracy,
    qini_coefficient,
    qini_curve,
    targeting_value,
    true_notification_effect,
    true_qini_coefficient,
    true_targeting_value,
)

__all__ = [
    "CampaignAnalysis",
    "ChurnCV",
    "Selection",
    "DataScale",
    "Tuning",
    "dense_title_limit",
    "fold_scores",
    "recommender_grids",
    "tune_recommenders",
    "validation_folds",
    "choose_on_validation",
    "choose_uplift_learner",
    "ad_load_study",
    "ad_targeting_study",
    "analyze_campaign",
    "campaign_features",
    "ads_tier_arpu_study",
    "auuc",
    "bootstrap_means",
    "calibration_table",
    "classification_report",
    "compare_policies",
    "cross_sell_study",
    "cross_validate_churn",
    "cumulative_gains",
    "effective_catalog_size",
    "evaluate_recommenders",
    "expected_calibration_error",
    "expected_churn",
    "fit_artwork_reward_model",
    "funnel_against_truth",
    "hour_accuracy",
    "impression_truth",
    "lift_by_heterogeneity",
    "linearized_interval",
    "map_at_k",
    "map_full",
    "member_metrics",
    "member_rate",
    "member_outcomes",
    "offer_campaign",
    "offer_truth_table",
    "paired_difference_pp",
    "ratio_estimate",
    "ndcg_at_k",
    "ndcg_per_member",
    "precision_at_k",
    "qini_coefficient",
    "qini_curve",
    "recall_at_k",
    "regret_curve",
    "run_artwork_policies",
    "segment_preferences",
    "select_campaign",
    "split_rounds",
    "stratified_split",
    "temporal_split",
    "leave_last_n",
    "targeting_value",
    "temporal_holdout",
    "top_decile_capture",
    "true_completion_prob",
    "true_notification_effect",
    "true_policy_value",
    "true_qini_coefficient",
    "true_targeting_value",
    "upsell_study",
    "winback_study",
]

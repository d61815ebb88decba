"""A/B test analysis: assignment, two-arm and A/B/n tests on plain tables or logged events,
variance reduction, power and sequential tests."""

from persona_lib.experiments.assignment import SRMResult, assign, assignment_uniform, srm_check
from persona_lib.experiments.choice import ExperimentChoice, choose_experiment
from persona_lib.experiments.frame import ArmsAnalysis, analyze_arms
from persona_lib.experiments.logged import (
    analyze_logged_experiment,
    compute_logged_outcomes,
    cumulative_daily_hours,
)
from persona_lib.experiments.multiple import benjamini_hochberg, holm
from persona_lib.experiments.power import (
    mde_means,
    mde_proportions,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from persona_lib.experiments.readout import (
    analyze_readout,
    detectable_effects,
    metric_kind,
    outcome_figures,
    readout_units,
)
from persona_lib.experiments.results import TestResult
from persona_lib.experiments.sequential import (
    DEFAULT_TAU_STD,
    SequentialTest,
    msprt_cumulative,
    msprt_means,
    msprt_proportions,
)
from persona_lib.experiments.stats import (
    CupedAdjustment,
    bootstrap_quantile_difference,
    cuped,
    cuped_difference,
    difference_in_means,
    difference_in_proportions,
    effects_by_segment,
    ratio_metric,
)

__all__ = [
    "DEFAULT_TAU_STD",
    "ArmsAnalysis",
    "CupedAdjustment",
    "ExperimentChoice",
    "SRMResult",
    "SequentialTest",
    "TestResult",
    "analyze_arms",
    "analyze_logged_experiment",
    "analyze_readout",
    "assign",
    "assignment_uniform",
    "benjamini_hochberg",
    "bootstrap_quantile_difference",
    "choose_experiment",
    "compute_logged_outcomes",
    "cumulative_daily_hours",
    "cuped",
    "cuped_difference",
    "detectable_effects",
    "difference_in_means",
    "difference_in_proportions",
    "effects_by_segment",
    "holm",
    "mde_means",
    "mde_proportions",
    "metric_kind",
    "msprt_cumulative",
    "msprt_means",
    "msprt_proportions",
    "outcome_figures",
    "power_means",
    "power_proportions",
    "ratio_metric",
    "readout_units",
    "sample_size_means",
    "sample_size_proportions",
    "srm_check",
]

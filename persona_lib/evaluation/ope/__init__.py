"""Off-policy evaluation: estimators (replay, IPS, SNIPS, DM, DR, SNDR, switch-DR) as small frozen
dataclasses, their bootstrap intervals, input checks, the cross-fitted reward model and the
simulation studies that measure their coverage (a synthetic bandit, and the streaming simulator's
own artwork rounds in `WorldBandit`).
"""

from persona_lib.evaluation.ope.bootstrap import Interval, RoundTerms, bootstrap_interval
from persona_lib.evaluation.ope.estimators import (
    DirectMethod,
    DoublyRobust,
    InverseProbabilityWeighting,
    OffPolicyEstimator,
    ReplayMethod,
    SelfNormalizedDoublyRobust,
    SelfNormalizedIPW,
    SwitchDoublyRobust,
    effective_sample_size,
    importance_weights,
    standard_estimators,
)
from persona_lib.evaluation.ope.inputs import LoggedInputs, check_inputs
from persona_lib.evaluation.ope.reward_model import fit_reward_model
from persona_lib.evaluation.ope.study import (
    LoggedRounds,
    SyntheticBandit,
    coverage_by_size,
    make_synthetic_bandit,
    run_study,
    simulate_estimates,
    summarize_estimates,
)
from persona_lib.evaluation.ope.world import WorldBandit, uniform_logging

__all__ = [
    "DirectMethod",
    "DoublyRobust",
    "Interval",
    "InverseProbabilityWeighting",
    "LoggedInputs",
    "LoggedRounds",
    "OffPolicyEstimator",
    "ReplayMethod",
    "RoundTerms",
    "SelfNormalizedDoublyRobust",
    "SelfNormalizedIPW",
    "SwitchDoublyRobust",
    "SyntheticBandit",
    "WorldBandit",
    "bootstrap_interval",
    "check_inputs",
    "coverage_by_size",
    "effective_sample_size",
    "fit_reward_model",
    "importance_weights",
    "make_synthetic_bandit",
    "run_study",
    "simulate_estimates",
    "standard_estimators",
    "summarize_estimates",
    "uniform_logging",
]

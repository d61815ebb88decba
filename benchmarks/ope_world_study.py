"""Off-policy estimators against exact truths in the streaming simulator; prints one JSON document.

The world is the ``default`` preset (seed 0) capped at 5,000 members and 30 days, the logged
world of notebook 03 (the full preset's rounds do not fit the study in memory). Its homepage
impressions of titles with two or more artworks are split in log order: the first half trains the
evaluated policy (the greedy supervised artwork policy, logistic, reward = click), the second half
is the pool the logging runs draw from (`persona_lib.evaluation.ope.world.WorldBandit`). The truth
of every value is exact on the pool (the simulator's click probability of every candidate artwork
on every pool impression). Two logging policies, both fixed before looking at any estimate:

- ``uniform``: the service's own logging (a uniformly random artwork; weights at most the
  number of artworks of the title, 8);
- ``skewed``: 70 % on the title's first artwork, 30 % uniform: a logging policy far from the
  evaluated one, whose weights reach ``k / 0.3`` (up to about 27), where clipping and switching
  at ``TAU = 10`` start to matter.

For each logging policy and log size, ``--n-runs`` (default 200) independent logging runs;
every estimator runs on the same logs (`persona_lib.evaluation.ope.study.run_study`). Bias,
variance, MSE and relative RMSE per estimator and size (the shape of Saito et al. 2021, sec.
5), and the coverage of the 95 % percentile-bootstrap intervals (200 replicates). Issue target:
DR and IPW intervals cover the truth in at least 90 % of runs. The DM interval resamples rounds
with the fitted reward model held fixed, so it ignores the model's own error and is expected to
undercover; it is reported, not targeted.

Usage: ``python benchmarks/ope_world_study.py [--n-runs 200] [--n-bootstrap 200]
[--preset default] [--users 5000] [--days 30]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from persona_lib.evaluation import split_rounds
from persona_lib.evaluation.ope import (
    WorldBandit,
    coverage_by_size,
    run_study,
    standard_estimators,
    uniform_logging,
)
from persona_lib.models.artwork import GreedySupervisedPolicy, artwork_rounds
from persona_lib.sim import load_preset, simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from shared_inputs import rounded  # noqa: E402  (benchmarks/ is not a package)

SEED = 0
TAU = 10.0  # weight threshold of clipped IPW and Switch-DR, fixed in advance
SAMPLE_SIZES = (1000, 2000, 4000, 8000)
SKEW = 0.7  # share of the skewed logging policy on each title's first artwork
COVERAGE_TARGET = 0.90


def skewed_logging(candidates: np.ndarray, skew: float = SKEW) -> np.ndarray:
    """``skew`` on the first candidate slot plus ``1 - skew`` spread uniformly over all."""
    dist = (1.0 - skew) * uniform_logging(candidates)
    dist[:, 0] += skew
    return dist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-runs", type=int, default=200)
    parser.add_argument("--n-bootstrap", type=int, default=200)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--users", type=int, default=5000, help="cap on the preset's members")
    parser.add_argument("--days", type=int, default=30, help="cap on the preset's days")
    args = parser.parse_args()
    started = time.perf_counter()
    preset = load_preset(args.preset)
    config = preset.replace(random_state=SEED, n_users=min(args.users, preset.n_users),
                            n_days=min(args.days, preset.n_days))  # fmt: skip
    world = simulate(config)
    rounds = artwork_rounds(world)
    train, pool = split_rounds(rounds, 0.5)
    policy = GreedySupervisedPolicy(model="logistic", random_state=SEED)
    policy.bind_actions(rounds.action_features).update(train.context, train.action, train.click)
    action_dist = policy.action_probabilities(pool.context, pool.candidates)
    report = {
        "preset": args.preset,
        "members": config.n_users,
        "days": config.n_days,
        "pool_rounds": len(pool),
        "evaluated_policy": "greedy supervised (logistic, click), fitted on the first half",
        "n_runs": args.n_runs,
        "n_bootstrap": args.n_bootstrap,
        "alpha": 0.05,
        "tau": TAU,
        "sample_sizes": list(SAMPLE_SIZES),
        "scenarios": {},
    }
    for name, logging in (("uniform", None), ("skewed", skewed_logging(pool.candidates))):
        env = WorldBandit.from_world(world, pool, action_dist, logging_dist=logging)
        weights = np.where(
            env.logging_dist > 0, env.action_dist / np.maximum(env.logging_dist, 1e-12), 0
        )
        table = run_study(
            standard_estimators(tau=TAU),
            SAMPLE_SIZES,
            n_runs=args.n_runs,
            random_state=SEED,
            n_bootstrap=args.n_bootstrap,
            env=env,
        )
        coverage = coverage_by_size(table)
        report["scenarios"][name] = {
            "truth_policy_value": round(env.policy_value(), 6),
            "truth_logging_policy_value": round(env.policy_value(env.logging_dist), 6),
            "max_importance_weight": round(float(weights.max()), 3),
            "table": [rounded(r) for r in table.drop(columns="truth").to_dict("records")],
            "coverage": coverage,
            "coverage_target_met": all(
                c >= COVERAGE_TARGET for v in coverage.values() for c in v.values()
            ),
        }
    report["coverage_target"] = COVERAGE_TARGET
    report["seconds"] = round(time.perf_counter() - started, 1)
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()

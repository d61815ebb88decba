"""Cookie Cats A/B test: retention, sample ratio and game rounds per arm; prints one JSON document.

The mobile game Cookie Cats moved its first gate from level 30 (``gate_30``, control) to level 40
(``gate_40``, treatment) for a random half of 90,189 new players. Everything is computed by
`persona_lib.experiments` on the file as `load_cookie_cats` reads it; differences are
treatment minus control (gate_40 - gate_30):

- ``retention_1`` / ``retention_7``: share per arm, and `difference_in_proportions` (unpooled
  Wald 95 % interval, pooled two-sided z-test p-value).
- Sample ratio: `srm_check` of the arm counts against the designed 50/50 (Pearson chi-square, 1
  degree of freedom; flagged below p 0.001).
- ``sum_gamerounds`` (rounds in the first 14 days; very skewed, one gate_30 player has 49,854):
  Welch `difference_in_means`, the same without that one player (a sensitivity check, not the
  main figure), and `bootstrap_quantile_difference` of the medians (percentile interval,
  ``N_BOOT`` resamples, seed ``SEED``).

Every figure of the reference in ``../shared/data/README.md`` is compared with ours: a figure is
``reproduced`` when ours lies within ``tolerance`` of it, half a unit of its last printed digit
(ours rounds to the printed figure); the counts must match exactly.

Usage: ``python benchmarks/cookie_cats.py [--data CSV]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy

from persona_lib.datasets import (
    CONTROL,
    COOKIE_CATS_FILE,
    RETENTION_COLUMNS,
    TREATMENT,
    load_cookie_cats,
)
from persona_lib.experiments import (
    bootstrap_quantile_difference,
    difference_in_means,
    difference_in_proportions,
    srm_check,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere

from shared_inputs import require_dataset, rounded  # noqa: E402  (benchmarks/ is not a package)

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1].parent / "shared/data/cookie_cats" / COOKIE_CATS_FILE
)
SHA256 = "75790e24d93c35a5b90aeaa9029845d8b2fed26ae2062c9a26171e7ea4f7be0f"  # the data README's
SEED = 0
ALPHA = 0.05
N_BOOT = 2000
SRM_THRESHOLD = 0.001

# ../shared/data/README.md: figure -> (published value, tolerance). Percentages and percentage
# points as printed; the tolerance is half a unit of the last printed digit.
REFERENCE = {
    "n_gate_30": (44_700, 0),
    "n_gate_40": (45_489, 0),
    "retention_7_gate_30_pct": (19.02, 0.005),
    "retention_7_gate_40_pct": (18.20, 0.005),
    "retention_7_difference_pp": (-0.82, 0.005),
    "retention_7_ci95_low_pp": (-1.33, 0.005),
    "retention_7_ci95_high_pp": (-0.31, 0.005),
    "retention_7_p_value": (0.0016, 0.00005),
    "srm_chi_square": (6.90, 0.005),
    "srm_p_value": (0.0086, 0.00005),
}


def _result(result) -> dict:
    """A `TestResult` as JSON-safe, rounded values."""
    return {k: rounded(v) for k, v in result.to_dict().items()}


def retention_test(cats: pd.DataFrame, arm: np.ndarray, column: str):
    """`difference_in_proportions` of ``column`` (treatment minus control) and the counts
    ``[(retained, players) of control, (retained, players) of treatment]``."""
    kept = cats[column].to_numpy()
    counts = [(int(kept[~arm].sum()), int((~arm).sum())), (int(kept[arm].sum()), int(arm.sum()))]
    test = difference_in_proportions(*counts[0], *counts[1], alpha=ALPHA, metric=column)
    return test, counts


def retention(cats: pd.DataFrame, arm: np.ndarray) -> dict:
    """Retention per arm and the difference in proportions, for retention_1 and retention_7."""
    out = {}
    for column in RETENTION_COLUMNS:
        test, counts = retention_test(cats, arm, column)
        out[column] = {
            "retained": {CONTROL: counts[0][0], TREATMENT: counts[1][0]},
            "rate_pct": {CONTROL: round(100 * test.control_mean, 4),
                         TREATMENT: round(100 * test.treatment_mean, 4)},
            "difference_pp": round(100 * test.estimate, 4),
            "ci95_pp": [round(100 * test.ci_low, 4), round(100 * test.ci_high, 4)],
            "p_value": rounded(test.p_value),
            "test": _result(test),
        }  # fmt: skip
    return out


def game_rounds(cats: pd.DataFrame, arm: np.ndarray) -> dict:
    """Welch difference of mean rounds (with and without the top player) and the median's."""
    rounds = cats["sum_gamerounds"].to_numpy(np.float64)
    x_c, x_t = rounds[~arm], rounds[arm]
    top = int(np.argmax(rounds))
    keep = np.arange(len(rounds)) != top
    start = time.perf_counter()
    median = bootstrap_quantile_difference(
        x_c, x_t, q=0.5, n_boot=N_BOOT, alpha=ALPHA, random_state=SEED, metric="sum_gamerounds"
    )
    return {
        "max": {CONTROL: int(x_c.max()), TREATMENT: int(x_t.max())},
        "second_largest_overall": int(np.sort(rounds)[-2]),
        "welch_mean_difference": _result(
            difference_in_means(x_c, x_t, alpha=ALPHA, metric="sum_gamerounds")
        ),
        "welch_mean_difference_without_top_player": _result(
            difference_in_means(
                rounds[keep & ~arm], rounds[keep & arm], alpha=ALPHA, metric="sum_gamerounds"
            )
        ),  # fmt: skip
        "top_player": {
            "userid": int(cats["userid"].iloc[top]),
            "version": str(cats["version"].iloc[top]),
            "sum_gamerounds": int(rounds[top]),
        },  # fmt: skip
        "bootstrap_median_difference": _result(median),
        "bootstrap": {
            "n_boot": N_BOOT,
            "random_state": SEED,
            "seconds": round(time.perf_counter() - start, 2),
        },  # fmt: skip
    }


def compare(ours: dict[str, float]) -> dict:
    """Each reference figure beside ours, the tolerance and whether ours lies within it."""
    out = {}
    for name, (published, tolerance) in REFERENCE.items():
        value = ours[name]
        out[name] = {
            "published": published,
            "ours": rounded(value),
            "tolerance": tolerance,
            "reproduced": bool(abs(value - published) <= tolerance + 1e-12),
        }
    return out


def load(path: Path) -> pd.DataFrame:
    return load_cookie_cats(require_dataset(path, "Cookie Cats CSV", COOKIE_CATS_FILE))


def treatment_arm(cats: pd.DataFrame) -> np.ndarray:
    """True for the players of the treatment arm (gate_40)."""
    return (cats["version"] == TREATMENT).to_numpy()


def sample_ratio(arm: np.ndarray):
    """`srm_check` of the arm counts (control, treatment) against the designed 50/50."""
    return srm_check([int((~arm).sum()), int(arm.sum())], (0.5, 0.5), threshold=SRM_THRESHOLD)


def reference_figures(cats: pd.DataFrame) -> dict[str, float]:
    """Our value of every figure in ``REFERENCE``, unrounded (percentages as percentages)."""
    arm = treatment_arm(cats)
    srm = sample_ratio(arm)
    r7, _ = retention_test(cats, arm, "retention_7")
    return {
        "n_gate_30": int((~arm).sum()),
        "n_gate_40": int(arm.sum()),
        "retention_7_gate_30_pct": 100 * r7.control_mean,
        "retention_7_gate_40_pct": 100 * r7.treatment_mean,
        "retention_7_difference_pp": 100 * r7.estimate,
        "retention_7_ci95_low_pp": 100 * r7.ci_low,
        "retention_7_ci95_high_pp": 100 * r7.ci_high,
        "retention_7_p_value": r7.p_value,
        "srm_chi_square": srm.statistic,
        "srm_p_value": srm.p_value,
    }


def run(path: Path) -> dict:
    start = time.perf_counter()
    cats = load(path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    arm = treatment_arm(cats)
    counts = [int((~arm).sum()), int(arm.sum())]
    srm = sample_ratio(arm)
    kept = retention(cats, arm)
    reference = compare(reference_figures(cats))
    return {
        "dataset": "Cookie Cats mobile game A/B test",
        "file_sha256": sha256,
        "file_sha256_matches_readme": sha256 == SHA256,
        "n_players": len(cats),
        "arms": {"control": CONTROL, "treatment": TREATMENT},
        "n_per_arm": {CONTROL: counts[0], TREATMENT: counts[1]},
        "alpha": ALPHA,
        "sample_ratio_check": {
            "expected_weights": [0.5, 0.5],
            **{k: rounded(v) for k, v in srm.to_dict().items()},
        },
        "retention": kept,
        "sum_gamerounds": game_rounds(cats, arm),
        "reference": reference,
        "reproduced_all": all(r["reproduced"] for r in reference.values()),
        "notes": [
            "differences are gate_40 minus gate_30",
            "proportions: unpooled Wald interval, pooled z-test p-value (the published interval "
            "is the unpooled one; pooled and unpooled p agree to 4 decimals here)",
            "tolerance: half a unit of the published figure's last digit",
        ],
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
        },  # fmt: skip
        "total_seconds": round(time.perf_counter() - start, 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the Cookie Cats CSV")
    args = parser.parse_args()
    print(json.dumps(run(args.data), indent=2))

"""Notebook 05 runs on the exported logs of its own simulated experiment.

As `test_own_logs.py` does for the other notebooks, with the export a team running 05 would
have: the experiment world's logs without the truth (`export_logs`) and, beside them, the
experiment's ``assignments`` table (every member, its arm, assigned at the start of the
experiment: `experiment_assignments`, passed as ``extra_tables``). The experiment world is
simulated again here exactly as `run_simulated_experiment` does inside the notebook. Checks: the
run on the logs succeeds without simulating; it records no truth figure; every figure it
records equals the simulated run's (counts exactly, floats to 1e-9), the headline estimates
included; the report names what the left-out sections need.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from own_logs_checks import assert_logs_figures_match, markdown_text, result_of

from persona_lib.data import PopularityGenrePolicy
from persona_lib.experiments import assign
from persona_lib.experiments.simulated import ARMS, SplitPolicy, experiment_assignments
from persona_lib.models.artwork import personalized_service
from persona_lib.report.parameters import parameter_defaults
from persona_lib.report.runner import run_notebooks
from persona_lib.sim import export_logs, load_preset, simulate

NAME = "05_experiments"
SEED = 0
ESTIMATES = (
    "members", "treated_share_pct", "srm_p_value", "play_rate_diff_pp", "hours_diff",
    "hours_cuped_diff", "churn_diff_pp", "revenue_diff_usd", "cuped_variance_reduction_pct",
    "aa_false_positive_rate_pct", "peeking_naive_fpr_pct", "peeking_msprt_fpr_pct",
    "hours_mde_at_this_size", "churn_mde_pp_at_this_size", "experiment_days",
)  # fmt: skip

pytestmark = pytest.mark.slow


def _experiment_export(root, folder):
    """The notebook's experiment world and its assignments, exported as a team would."""
    p = parameter_defaults(root / "notebooks" / f"{NAME}.ipynb")
    config = load_preset("smoke").replace(
        random_state=SEED, n_users=p["EXPERIMENT_USERS"], n_days=p["EXPERIMENT_DAYS"]
    )
    share, start_day = p["TREATMENT_SHARE"], p["START_DAY"]
    arm = assign(np.arange(config.n_users), p["SALT"], weights=(1 - share, share), arms=ARMS)
    policy = SplitPolicy(PopularityGenrePolicy(), personalized_service(random_state=SEED),
                         arm == ARMS[1], start_day)  # fmt: skip
    world = simulate(config, policy)
    start = np.datetime64(config.start, "ms") + np.timedelta64(start_day, "D")  # as the run's
    assignments = experiment_assignments(arm, start, p["SALT"])
    export_logs(world, folder, extra_tables={"assignments": assignments})


@pytest.fixture(scope="module")
def runs(tmp_path_factory, smoke_run):
    root = Path(__file__).resolve().parents[2]
    tmp = tmp_path_factory.mktemp("own_logs_05")
    simulated = result_of(smoke_run, NAME)  # the session's simulated run of 05
    _experiment_export(root, tmp / "logs")
    on_logs = run_notebooks(
        preset="smoke", seed=SEED, out_dir=tmp / "logs-run", only=[NAME[:2]],
        parameters={"DATA_DIR": str(tmp / "unused-cache")}, progress=False, data=tmp / "logs",
    )  # fmt: skip
    return tmp, simulated, on_logs


def test_05_on_its_exported_experiment_equals_the_simulated_run(runs):
    tmp, simulated, on_logs = runs
    assert simulated.status == "ok", simulated.error
    assert not on_logs.failed, [nb.error for nb in on_logs.notebooks]
    assert not any((tmp / "unused-cache").glob("*/manifest.json")), "the run on logs simulated"
    sim_metrics = simulated.metrics
    log_metrics = on_logs.notebooks[0].metrics
    missing = [k for k in ESTIMATES if k not in log_metrics]
    assert not missing, f"estimates not computed on the logs: {missing}"
    assert_logs_figures_match(sim_metrics, log_metrics)
    record = json.loads((tmp / "logs-run" / "run.json").read_text())
    assert record["data"]["source"] == "folder"
    text = markdown_text(tmp / "logs-run" / f"{NAME}.ipynb")
    assert "Not computed on these logs: this section needs the simulator's true values" in text
    assert "### The true effect of launching" in text


def test_05_on_logs_without_assignments_says_what_each_section_needs(runs):
    tmp = runs[0]
    folder = tmp / "no-assignments"
    folder.mkdir()
    for f in (tmp / "logs").iterdir():  # the same export without its assignments table
        if f.is_file() and not f.name.startswith("assignments."):
            (folder / f.name).symlink_to(f)
    assert not list(folder.glob("assignments.*"))
    result = run_notebooks(
        preset="smoke", seed=SEED, out_dir=tmp / "no-assignments-run", only=[NAME[:2]],
        parameters={"DATA_DIR": str(tmp / "unused-cache")}, progress=False, data=folder,
    )  # fmt: skip
    assert not result.failed, [nb.error for nb in result.notebooks]
    assert result.notebooks[0].metrics == {}
    text = markdown_text(tmp / "no-assignments-run" / f"{NAME}.ipynb")
    for heading in ("## 1. The experiment", "## 2. How big", "## 3. Is the toolkit honest",
                    "## 4. Peeking", "## 5. Many metrics"):  # fmt: skip
        assert heading in text
    assert text.count("Not computed on these logs: this section needs an `assignments` table") == 5

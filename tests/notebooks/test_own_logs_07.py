"""Notebook 07 runs on the exported logs of its own simulated world plus its offer campaign.

As `test_own_logs.py` does for the other notebooks, with the export a team running 07 would
have: the world's logs without the truth (`export_logs`) and, beside them, the sales
simulator's randomized upgrade offer as a ``campaigns`` table (`offer_campaign`, validated and
written as ``campaigns.parquet``). Checks: the run on the logs succeeds; it records no truth
figure; every figure it records equals the simulated run's (counts exactly, floats to 1e-9); the
report names what the left-out sections need; and without a ``campaigns`` table the upsell
section says that it needs one.
"""

import json

import pytest
from own_logs_checks import assert_logs_figures_match, markdown_text, result_of

from persona_lib.data import validate
from persona_lib.data.io import write_parquet
from persona_lib.evaluation import offer_campaign
from persona_lib.report.runner import run_notebooks
from persona_lib.sim import export_logs, load_world
from persona_lib.sim.sales import SalesConfig, simulate_sales

NAME = "07_sales_conversions"
SEED = 0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory, smoke_run, smoke_data_dir):
    tmp = tmp_path_factory.mktemp("own_logs_07")
    simulated = result_of(smoke_run, NAME)  # the session's simulated run of 07
    assert simulated.status == "ok", simulated.error
    assert len(simulated.worlds) == 1, f"{NAME} opened the worlds {simulated.worlds}"
    world = load_world(smoke_data_dir / simulated.worlds[0])
    export_logs(world, tmp / "logs")
    sales = simulate_sales(world, SalesConfig(random_state=SEED))  # as the notebook does
    campaigns = offer_campaign(sales.tables["upgrade_offers"], sales.campaign_date)
    write_parquet(validate(campaigns, "campaigns"), tmp / "logs" / "campaigns.parquet")

    def on(folder, out):
        return run_notebooks(
            preset="smoke", seed=SEED, out_dir=tmp / out, only=[NAME[:2]],
            parameters={"DATA_DIR": str(tmp / "unused-cache")}, progress=False, data=folder,
        )  # fmt: skip

    with_campaigns = on(tmp / "logs", "logs-run")
    (tmp / "logs" / "campaigns.parquet").unlink()
    without = on(tmp / "logs", "no-campaigns-run")
    return tmp, simulated, with_campaigns, without


def test_07_on_logs_with_campaigns_equals_the_simulated_run(runs):
    tmp, simulated, on_logs, _ = runs
    assert not on_logs.failed, [nb.error for nb in on_logs.notebooks]
    assert not any((tmp / "unused-cache").glob("*/manifest.json")), "the run on logs simulated"
    sim_metrics = simulated.metrics
    log_metrics = on_logs.notebooks[0].metrics
    assert_logs_figures_match(sim_metrics, log_metrics)
    # the upsell study ran on the logged campaign: its figures are there
    for key in ("members", "upsell_eligible", "upsell_top_upgrades_per_1k",
                "upsell_top_upgrades_ci_low", "upsell_top_upgrades_ci_high",
                "upsell_top_vs_random_per_1k"):  # fmt: skip
        assert key in log_metrics, key
    record = json.loads((tmp / "logs-run" / "run.json").read_text())
    assert record["data"]["source"] == "folder"
    text = markdown_text(tmp / "logs-run" / f"{NAME}.ipynb")
    assert "Not computed on these logs: this section needs" in text
    assert "## 2. Upsell" in text


def test_07_on_logs_without_campaigns_says_what_the_upsell_needs(runs):
    tmp, simulated, _, without = runs
    assert not without.failed, [nb.error for nb in without.notebooks]
    metrics = without.notebooks[0].metrics
    assert set(metrics) == {"members"}
    assert metrics["members"] == simulated.metrics["members"]
    text = markdown_text(tmp / "no-campaigns-run" / f"{NAME}.ipynb")
    assert "this section needs a `campaigns` table" in text

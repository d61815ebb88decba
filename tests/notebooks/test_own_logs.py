"""Every notebook that takes ``DATA`` runs on the exported logs of its own simulated world.

For each such notebook: take the one cached world it opened in the session's smoke run
(`NotebookResult.worlds`, noted by ``open_world``), export that world's logs without the truth
(`export_logs`), run the notebook again with ``persona run --data`` on the export, and check
that

- it succeeds although nothing in the folder (and nothing it can reach: `Logs.truth` raises)
  carries the truth;
- no truth figure is recorded (absent, not zero);
- every figure it records equals the simulated run's: counts exactly, floats to 1e-9;
- the report names what each left-out section would need.
"""

import json
from pathlib import Path

import pytest
from own_logs_checks import assert_logs_figures_match, markdown_text, result_of

from persona_lib.report.parameters import parameter_defaults
from persona_lib.report.runner import discover_notebooks, run_notebooks
from persona_lib.sim import export_logs, load_world

ROOT = Path(__file__).resolve().parents[2]
# tested on their own export with extra tables: test_own_logs_<stem>.py
CUSTOM_EXPORT = {"05_experiments", "07_sales_conversions"}
NOTEBOOKS = [
    p for p in discover_notebooks(ROOT / "notebooks")
    if "DATA" in parameter_defaults(p) and p.stem not in CUSTOM_EXPORT
]  # fmt: skip

pytestmark = pytest.mark.slow


def test_some_notebook_takes_data():
    assert NOTEBOOKS, "no notebook declares DATA in its parameters cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_on_its_exported_logs(path, tmp_path, smoke_run, smoke_data_dir):
    simulated = result_of(smoke_run, path.stem)
    assert simulated.status == "ok", simulated.error
    assert len(simulated.worlds) == 1, f"{path.stem} opened the worlds {simulated.worlds}"
    export_logs(load_world(smoke_data_dir / simulated.worlds[0]), tmp_path / "logs")

    on_logs = run_notebooks(
        preset="smoke", seed=0, out_dir=tmp_path / "logs-run", only=[path.stem[:2]],
        parameters={"DATA_DIR": str(tmp_path / "unused-cache")}, progress=False,
        data=tmp_path / "logs",
    )  # fmt: skip
    assert not on_logs.failed, [nb.error for nb in on_logs.notebooks]
    assert not (tmp_path / "unused-cache").exists() or not any(
        (tmp_path / "unused-cache").glob("*/manifest.json")
    ), "the run on logs simulated a world"
    sim_metrics = simulated.metrics
    log_metrics = on_logs.notebooks[0].metrics
    assert_logs_figures_match(sim_metrics, log_metrics)
    assert log_metrics, "nothing computed on the logs"

    record = json.loads((tmp_path / "logs-run" / "run.json").read_text())
    assert record["data"]["source"] == "folder"
    text = markdown_text(tmp_path / "logs-run" / f"{path.stem}.ipynb")
    left_out = [k for k in sim_metrics if k not in log_metrics]
    if left_out:
        assert "Not computed on these logs: this section needs" in text

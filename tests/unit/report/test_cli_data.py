"""``persona run --data`` and ``persona export``: a bad folder stops the run with one line and
exit 2 before anything is written; a good one reaches the notebooks that declare ``DATA`` and is
recorded in run.json as typed. Notebooks never start a kernel here (`_run_one` is replaced)."""

import json
import os
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from persona_lib.data import SchemaError, validate_folder
from persona_lib.report import runner
from persona_lib.report.cli import main
from persona_lib.report.runner import NotebookResult
from persona_lib.sim import SimulationConfig, export_logs, simulate

TINY = SimulationConfig(n_users=40, n_titles=20, n_days=3, random_state=4)


@pytest.fixture(scope="module")
def tiny_world():
    return simulate(TINY)


@pytest.fixture
def logs(tmp_path, tiny_world, monkeypatch):
    """A CSV export of the tiny world in ``tmp_path/logs``; the working directory is tmp_path,
    so the folder is typed as the relative ``logs``."""
    export_logs(tiny_world, tmp_path / "logs", format="csv")
    monkeypatch.chdir(tmp_path)
    return Path("logs")


def write_notebook(path: Path, parameters: str) -> None:
    cells = [new_code_cell(parameters, metadata={"tags": ["parameters"]}), new_code_cell("1")]
    nbformat.write(new_notebook(cells=cells), path)


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    write_notebook(folder / "01_takes_data.ipynb", 'SEED = 0\nPRESET = "smoke"\nDATA = ""')
    write_notebook(folder / "02_simulated_only.ipynb", 'SEED = 0\nPRESET = "smoke"')
    return folder


@pytest.fixture
def ran(monkeypatch):
    """Replace the kernel: record each notebook's parameters, report it as ok."""
    seen = {}

    def fake_run_one(path, out_dir, parameters, hide_code, progress, tables=None):
        seen[path.stem] = {**parameters, "tables": tables}
        return NotebookResult(path.stem, "ok", 0.0, 0.0, None, None)

    monkeypatch.setattr(runner, "_run_one", fake_run_one)
    return seen


def run(notebooks, out, *extra):
    args = ["run", "--preset", "smoke", "--notebooks", str(notebooks), "--out", str(out)]
    return main([*args, "--no-progress", "--jobs", "1", *extra])  # the fake runs in this process


# --- bad folders: one case each ------------------------------------------------------------


def edit_csv(path: Path, change) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame).to_csv(path, index=False)


def set_event(folder: Path, row: int, column: str, value: str) -> None:
    """Overwrite one cell of events.csv (row = data row, 0 for the first after the header)."""
    edit_csv(
        folder / "events.csv", lambda f: f.assign(**{column: f[column].mask(f.index == row, value)})
    )


def wrong_dtype(folder):
    set_event(folder, 5, "dwell_ms", "fast")
    return (
        "events.csv: table 'events', column 'dwell_ms': cannot parse 'fast' as uint16 "
        "in rows [5] (1 row)"
    )


def duplicate_event_ids(folder):
    set_event(folder, 3, "event_id", "2")
    return "events.csv: table 'events', column 'event_id': duplicate key 2 in rows [2, 3] (2 rows)"


def unknown_member(folder):
    set_event(folder, 7, "user_id", "999")
    return (
        "events.csv: table 'events', column 'user_id': value 999 not found in users.user_id "
        "in rows [7] (1 row)"
    )


def empty_events(folder):
    edit_csv(folder / "events.csv", lambda f: f.iloc[:0])
    return "events.csv: table 'events': no rows; the folder needs at least one event"


def missing_events(folder):
    (folder / "events.csv").unlink()
    return "no events table; expected events.csv, events.csv.gz, events.parquet, events.pq"


def two_files_for_events(folder):
    pd.read_csv(folder / "events.csv").to_parquet(folder / "events.parquet", index=False)
    return "two files for table 'events': events.csv and events.parquet; keep one"


def unknown_title(folder):
    set_event(folder, 4, "title_id", "5000")
    return (
        "events.csv: table 'events', column 'title_id': value 5000 not found in titles.title_id "
        "in rows [4] (1 row)"
    )


BAD_FOLDERS = [
    wrong_dtype, duplicate_event_ids, unknown_member, empty_events, missing_events,
    two_files_for_events, unknown_title,
]  # fmt: skip


@pytest.mark.parametrize("corrupt", BAD_FOLDERS, ids=lambda f: f.__name__)
def test_a_bad_folder_stops_the_run_before_anything_is_written(
    corrupt, logs, notebooks, tmp_path, capsys, ran
):
    expected = corrupt(logs)
    with pytest.raises(SchemaError) as error:
        validate_folder(logs)
    message = str(error.value)
    assert message.startswith("logs/") or message.startswith("logs:")  # the file, as typed
    assert expected in message and "\n" not in message
    if "column" in expected:
        assert " in rows [" in message
    out = tmp_path / "reports"
    assert run(notebooks, out, "--data", "logs") == 2
    captured = capsys.readouterr()
    assert captured.err == f"persona run: {message}\n"
    assert captured.out == ""
    assert not out.exists() and ran == {}


def test_a_missing_data_folder_is_a_usage_error(notebooks, tmp_path, capsys, ran, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(notebooks, tmp_path / "reports", "--data", "nowhere") == 2
    assert capsys.readouterr().err == "persona run: --data nowhere: no such folder\n"
    assert not (tmp_path / "reports").exists()


def test_data_and_a_data_parameter_together_are_refused(logs, notebooks, tmp_path, capsys, ran):
    assert run(notebooks, tmp_path / "reports", "--data", "logs", "-p", "DATA", "'x'") == 2
    assert "DATA is set by --data" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


# --- a good folder -------------------------------------------------------------------------


def test_data_reaches_only_the_notebooks_that_declare_it(logs, notebooks, tmp_path, ran):
    assert run(notebooks, tmp_path / "reports", "--data", "logs") == 0
    assert ran["01_takes_data"]["DATA"] == str((tmp_path / "logs").resolve())
    assert os.path.isabs(ran["01_takes_data"]["DATA"])
    assert "DATA" not in ran["02_simulated_only"]
    # the notebook that reads the logs runs pruned to the tables present; the other runs whole
    assert set(ran["01_takes_data"]["tables"]) >= {"events", "users"}
    assert ran["02_simulated_only"]["tables"] is None


def test_run_json_records_the_folder_as_typed_and_each_table(logs, notebooks, tmp_path, ran):
    assert run(notebooks, tmp_path / "reports", "--data", "logs") == 0
    record = json.loads((tmp_path / "reports" / "run.json").read_text())["data"]
    summary = validate_folder(logs).to_dict()
    assert record == {"source": "folder", "folder": "logs", **summary}
    assert record["tables"]["events"]["layout"] == "file"
    assert record["tables"]["events"]["file"] == "events.csv"
    assert record["tables"]["events"]["rows"] == len(pd.read_csv(logs / "events.csv"))
    assert set(record["tables"]) == {
        "events", "titles", "artworks", "users", "billing", "notifications", "propensities",
    }  # fmt: skip
    assert all(len(t["sha256"]) == 64 for t in record["tables"].values())
    text = json.dumps(record)
    assert str(tmp_path) not in text and str(tmp_path.resolve()) not in text
    assert "DATA" not in json.loads((tmp_path / "reports" / "run.json").read_text())["parameters"]


def test_run_json_without_data_names_the_simulated_world(notebooks, tmp_path, ran):
    assert run(notebooks, tmp_path / "reports", "--seed", "3") == 0
    record = json.loads((tmp_path / "reports" / "run.json").read_text())["data"]
    assert record == {"source": "simulated", "preset": "smoke", "seed": 3}
    assert "DATA" not in ran["01_takes_data"]


# --- persona export and persona validate on a folder ---------------------------------------


def test_export_writes_a_folder_that_run_accepts(tmp_path, capsys, monkeypatch, notebooks, ran):
    monkeypatch.chdir(tmp_path)
    args = ["export", "--preset", "smoke", "--seed", "0", "--out", "mine", "--data-dir", "cache"]
    assert main([*args, "--layout", "store", "--truth", "truth"]) == 0
    assert "-> mine; truth -> truth" in capsys.readouterr().out
    assert (tmp_path / "mine" / "events").is_dir()
    assert (tmp_path / "truth" / "export.json").is_file()
    assert not (tmp_path / "mine" / "truth").exists()
    assert validate_folder("mine")["events"].layout == "store"
    assert run(notebooks, tmp_path / "reports", "--data", "mine") == 0
    assert main([*args[:-2], "--data-dir", "cache", "--format", "csv", "--layout", "store"]) == 2
    assert capsys.readouterr().err.startswith("persona export: layout 'store' writes Parquet")


def test_export_refuses_a_folder_that_is_not_an_export(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    args = ["export", "--preset", "smoke", "--seed", "0", "--out", "busy", "--data-dir", "cache"]
    assert main(args) == 2
    assert "busy: not empty and not a previous persona export" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]


def test_validate_a_folder(logs, capsys):
    assert main(["validate", "logs"]) == 0
    assert capsys.readouterr().out.startswith("ok: logs: events ")
    unknown_member(logs)
    assert main(["validate", "logs"]) == 1
    assert "column 'user_id': value 999 not found" in capsys.readouterr().err

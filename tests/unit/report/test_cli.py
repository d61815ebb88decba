"""The persona command: run, validate and simulate wiring, exit codes and messages."""

import json

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from persona_lib.report.cli import main, parse_scalar

PARAMETERS = 'SEED = 0\nPRESET = "default"\nOUT_DIR = "."\nRATE = 0.0\nLABEL = None'


def write_notebook(path, source):
    params = new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[params, new_code_cell(source)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-2", -2),
        ("0.25", 0.25),
        ("1e3", 1000.0),
        ("-1.5E-3", -0.0015),
        ("true", True),
        ("False", False),
        ("null", None),
        ("smoke", "smoke"),
        ("", ""),
        ("[1, 2]", "[1, 2]"),
        ("a: b", "a: b"),
        ("2024-01-01", "2024-01-01"),
        ("'007'", "007"),
    ],
)
def test_parse_scalar(text, value):
    parsed = parse_scalar(text)
    assert parsed == value and type(parsed) is type(value)


def test_run_reports_failures_and_exit_code(tmp_path, capsys):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(
        notebooks / "01_ok.ipynb",
        "import json, pathlib\npathlib.Path(OUT_DIR, '01_ok.seen.json').write_text("
        "json.dumps([SEED, PRESET, RATE, LABEL]))",
    )
    write_notebook(notebooks / "02_bad.ipynb", "1 / 0")
    out = tmp_path / "out"
    argv = [
        "run",
        "--preset",
        "smoke",
        "--seed",
        "7",
        "--out",
        str(out),
        "--notebooks",
        str(notebooks),
        "-p",
        "RATE",
        "0.5",
        "-p",
        "LABEL",
        "on",
        "--no-progress",
    ]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "FAILED 02_bad: ZeroDivisionError: division by zero" in captured.err
    assert "1 failed: 02_bad" in captured.err
    assert str(out / "index.html") in captured.out
    assert json.loads((out / "01_ok.seen.json").read_text()) == [7, "smoke", 0.5, True]

    assert main([*argv, "--only", "01"]) == 0


def test_run_unknown_notebook_is_a_usage_error(tmp_path, capsys):
    assert (
        main(["run", "--notebooks", str(tmp_path), "--only", "nope", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "no notebook named ['nope']" in capsys.readouterr().err
    assert main(["run", "--notebooks", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no notebooks named NN_*.ipynb found" in capsys.readouterr().err


def test_run_rejects_unknown_preset(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("PERSONA_PRESETS_DIR", raising=False)
    assert main(["run", "--preset", "huge", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (
        "persona run: unknown preset 'huge'; choose from smoke, default, large\n"
    )
    assert not (tmp_path / "o").exists()


NOTIFICATIONS = pd.DataFrame(
    {
        "user_id": [0, 1],
        "ts": ["2024-01-01 10:00:00", "2024-01-02 11:00:00"],
        "hour": [10, 11],
        "opened": ["true", "false"],
    }
)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_validate_accepts_a_valid_file(tmp_path, capsys, suffix):
    path = tmp_path / f"notifications{suffix}"
    if suffix == ".csv":
        NOTIFICATIONS.to_csv(path, index=False)
    else:
        NOTIFICATIONS.to_parquet(path, index=False)
    assert main(["validate", str(path), "--table", "notifications"]) == 0
    out = capsys.readouterr().out
    assert out == f"ok: 2 rows x 4 columns, table notifications, {path}\n"


def test_validate_reports_schema_errors(tmp_path, capsys):
    path = tmp_path / "notifications.csv"
    NOTIFICATIONS.assign(hour=[10, 25]).to_csv(path, index=False)
    assert main(["validate", str(path), "--table", "notifications"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: table 'notifications', column 'hour'")


def test_validate_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.csv"), "--table", "users"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_simulate_calls_the_data_layer(monkeypatch, capsys):
    calls = []

    def load_or_simulate(preset, random_state, data_dir=None):
        calls.append((preset, random_state, data_dir))
        return {"events": pd.DataFrame({"a": range(1200)}), "users": pd.DataFrame({"a": [1]})}

    monkeypatch.setattr("persona_lib.sim.load_or_simulate", load_or_simulate)
    assert main(["simulate", "--preset", "smoke", "--seed", "4", "--data-dir", "d"]) == 0
    assert calls == [("smoke", 4, "d")]
    assert capsys.readouterr().out == "preset smoke, seed 4: events 1,200, users 1\n"


def test_validate_unsupported_file_type(tmp_path, capsys):
    path = tmp_path / "users.txt"
    path.write_text("a,b\n")
    assert main(["validate", str(path), "--table", "users"]) == 2
    assert "persona validate: " in capsys.readouterr().err

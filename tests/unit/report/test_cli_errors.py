"""What a new user meets in ``persona run``: one-line errors, exit codes, no partial output.

Parameters are checked on hand-made notebooks; nothing here starts a kernel.
"""

import errno
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from persona_lib.report import runner
from persona_lib.report.cli import main
from persona_lib.report.parameters import check_parameters
from persona_lib.report.runner import NotebookResult

FIRST = 'SEED = 0\nPRESET = "smoke"\nOUT_DIR = "."\nEASE_L2 = 200.0  # ridge\nK = 10\nMIN_DAYS = 90'
SECOND = (
    'SEED = 0\nLABEL = "x"\nFLAG = False\nNOTHING = None\nSIZES = (1, 2)\nMIN_DAYS = 90\n'
    "N_USERS: int = 1_000\nHERE = os.getcwd()\nSTEP = -0.5"
)


def write_notebook(path, parameters):
    """A notebook whose first cell, tagged ``parameters``, holds `parameters`."""
    cells = [new_code_cell(parameters, metadata={"tags": ["parameters"]}), new_code_cell("1")]
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    write_notebook(folder / "01_a.ipynb", FIRST)
    write_notebook(folder / "02_b.ipynb", SECOND)
    write_notebook(folder / "03_c.ipynb", "SEED = 0")
    return folder


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if a notebook would run."""

    def refuse(*args, **kwargs):
        raise AssertionError("a notebook ran")

    monkeypatch.setattr(runner, "_run_one", refuse)


def run(notebooks, out, *extra):
    # one job: the fakes of `_run_one` live in this process
    return main(
        [
            "run",
            "--notebooks",
            str(notebooks),
            "--out",
            str(out),
            "--no-progress",
            "--jobs",
            "1",
            *extra,
        ]
    )


def assert_one_line_error(capsys, message, code, expected_code=2):
    assert code == expected_code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"persona run: {message}\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["-p", "EAES_L2", "5"],
            "unknown parameter 'EAES_L2' (did you mean EASE_L2?): "
            "no cell tagged 'parameters' in 01_a, 02_b, 03_c assigns it",
        ),
        (
            ["-p", "k", "5"],
            "unknown parameter 'k' (did you mean K?): "
            "no cell tagged 'parameters' in 01_a, 02_b, 03_c assigns it",
        ),
        (
            ["-p", "ZZZ", "5"],
            "unknown parameter 'ZZZ': no cell tagged 'parameters' in 01_a, 02_b, 03_c assigns it",
        ),
        (
            ["--only", "02", "03", "-p", "K", "5"],
            "unknown parameter 'K': no cell tagged 'parameters' in 02_b, 03_c assigns it; "
            "01_a, left out by --only, assign it",
        ),
        (["-p", "K", "ten"], "parameter K expects int (K = 10 in 01_a), got 'ten' (str)"),
        (["-p", "K", "2.5"], "parameter K expects int (K = 10 in 01_a), got 2.5 (float)"),
        (["-p", "K", "true"], "parameter K expects int (K = 10 in 01_a), got True (bool)"),
        (
            ["-p", "EASE_L2", "abc"],
            "parameter EASE_L2 expects float (EASE_L2 = 200.0 in 01_a), got 'abc' (str)",
        ),
        (
            ["-p", "FLAG", "1"],
            "parameter FLAG expects bool (FLAG = False in 02_b), got 1 (int)",
        ),
        (
            ["-p", "LABEL", "3"],
            """parameter LABEL expects str (LABEL = 'x' in 02_b), got 3 (int) """
            """(quote a string: -p LABEL "'...'")""",
        ),
        (
            ["-p", "SIZES", "[3, 4]"],
            "parameter SIZES expects tuple (SIZES = (1, 2) in 02_b), got '[3, 4]' (str); "
            "-p sets scalars only",
        ),
        (
            ["-p", "MIN_DAYS", "1.5"],
            "parameter MIN_DAYS expects int (MIN_DAYS = 90 in 01_a, 02_b), got 1.5 (float)",
        ),
    ],
)
def test_bad_parameters_fail_before_anything_runs(
    notebooks, tmp_path, capsys, no_kernel, extra, message
):
    out = tmp_path / "out"
    assert_one_line_error(capsys, message, run(notebooks, out, *extra))
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("K", 5),
        ("EASE_L2", 5),  # an int where the default is a float
        ("EASE_L2", 1e-3),
        ("STEP", 2),
        ("FLAG", True),
        ("LABEL", "abc"),
        ("NOTHING", 3),  # None accepts anything
        ("HERE", 3),  # a non-literal default is not type-checked
        ("N_USERS", 50),
        ("SEED", "x"),  # the runner's own names are always fine
        ("OUT_DIR", 1),
    ],
)
def test_good_parameters_pass(notebooks, name, value):
    check_parameters(sorted(notebooks.glob("*.ipynb")), {name: value})


def test_parameters_cell_is_parsed_not_run(tmp_path, capsys, no_kernel):
    folder = tmp_path / "nbs"
    folder.mkdir()
    marker = tmp_path / "ran"
    write_notebook(folder / "01_a.ipynb", f"open({str(marker)!r}, 'w')\nK = 1\nL = (")
    message = f"the parameters cell of {folder / '01_a.ipynb'} is not valid Python: "
    assert run(folder, tmp_path / "out", "-p", "K", "2") == 2
    assert capsys.readouterr().err.startswith(f"persona run: {message}")
    write_notebook(folder / "01_a.ipynb", f"open({str(marker)!r}, 'w')\nK = 1")
    assert run(folder, tmp_path / "out", "-p", "K", "x") == 2
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_unknown_only_writes_nothing(notebooks, tmp_path, capsys, no_kernel):
    out = tmp_path / "out"
    message = f"no notebook named ['nope'] in {notebooks}; have ['01_a', '02_b', '03_c']"
    assert_one_line_error(capsys, message, run(notebooks, out, "--only", "nope"))
    assert not out.exists()
    out.mkdir()
    (out / "index.html").write_text("previous run")
    assert run(notebooks, out, "--only", "nope") == 2
    assert [p.name for p in out.iterdir()] == ["index.html"]
    assert (out / "index.html").read_text() == "previous run"


def test_no_notebooks_writes_nothing(tmp_path, capsys, no_kernel):
    out = tmp_path / "out"
    message = "no notebooks named NN_*.ipynb found"
    assert_one_line_error(capsys, message, run(tmp_path, out))
    assert not out.exists()


def test_unknown_preset(monkeypatch, notebooks, tmp_path, capsys, no_kernel):
    monkeypatch.delenv("PERSONA_PRESETS_DIR", raising=False)
    out = tmp_path / "out"
    message = "unknown preset 'huge'; choose from smoke, default, large"
    assert_one_line_error(capsys, message, run(notebooks, out, "--preset", "huge"))
    assert not out.exists()
    assert main(["simulate", "--preset", "huge", "--seed", "0"]) == 2
    assert capsys.readouterr().err == f"persona simulate: {message}\n"


def test_presets_come_from_the_presets_folder(monkeypatch, notebooks, tmp_path, capsys):
    presets = tmp_path / "presets"
    presets.mkdir()
    for name in ["large", "tiny", "smoke", "default", "huge"]:
        (presets / f"{name}.yaml").write_text("simulation: {}\n")
    monkeypatch.setenv("PERSONA_PRESETS_DIR", str(presets))
    message = "unknown preset 'x'; choose from smoke, default, large, huge, tiny"
    assert_one_line_error(capsys, message, run(notebooks, tmp_path / "out", "--preset", "x"))


def test_out_below_a_file(notebooks, tmp_path, capsys, no_kernel):
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "out"
    assert_one_line_error(capsys, f"cannot write to {out}: Not a directory", run(notebooks, out))


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root writes to read-only folders"
)
def test_out_read_only(notebooks, tmp_path, capsys, no_kernel):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        code = run(notebooks, out)
    finally:
        out.chmod(0o755)
    assert_one_line_error(capsys, f"cannot write to {out}: Permission denied", code)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_out_probe_fails(monkeypatch, notebooks, tmp_path, capsys, no_kernel, code):
    def probe(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", probe)
    out = tmp_path / "new" / "out"
    message = f"cannot write to {out}: {os.strerror(code)}"
    assert_one_line_error(capsys, message, run(notebooks, out))
    assert not out.exists()  # the folder it made for the probe is gone again


def fake_result(name):
    return NotebookResult(name, "ok", 0.1, 0.1, f"{name}.ipynb", f"{name}.html", {"k": 1})


def fake_run_one(interrupt_at=None):
    """A `_run_one` that writes a report, or raises Ctrl-C at notebook `interrupt_at`."""

    def run_one(path, out_dir, parameters, hide_code, progress, tables=None):
        if path.stem == interrupt_at:
            (out_dir / f"{path.stem}.metrics.json").write_text("{}")  # the kernel got this far
            raise KeyboardInterrupt
        (out_dir / f"{path.stem}.html").write_text("report")
        return fake_result(path.stem)

    return run_one


@pytest.mark.parametrize(
    ("writer", "target"), [("write_json", "run.json"), ("write_text", "index.html")]
)
def test_report_write_fails(monkeypatch, notebooks, tmp_path, capsys, writer, target):
    def full_disk(obj, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"{path}.tmp")

    monkeypatch.setattr(runner, "_run_one", fake_run_one())
    monkeypatch.setattr(runner, writer, full_disk)
    out = (tmp_path / "out").resolve()
    message = f"cannot write to {out / target}: No space left on device"
    assert_one_line_error(capsys, message, run(notebooks, out))


def test_complete_run_is_marked_complete(monkeypatch, notebooks, tmp_path, capsys):
    monkeypatch.setattr(runner, "_run_one", fake_run_one())
    out = (tmp_path / "out").resolve()
    assert run(notebooks, out) == 0
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "complete" and record["complete"] is True
    assert record["unfinished"] == []
    assert "This run was interrupted" not in (out / "index.html").read_text()


def test_ctrl_c_marks_the_run_incomplete(monkeypatch, notebooks, tmp_path, capsys):
    out = (tmp_path / "out").resolve()
    out.mkdir()
    (out / "02_b.html").write_text("previous run")
    monkeypatch.setattr(runner, "_run_one", fake_run_one(interrupt_at="02_b"))
    message = f"interrupted; {out / 'run.json'} marks the run incomplete"
    assert_one_line_error(capsys, message, run(notebooks, out), expected_code=130)
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "interrupted" and record["complete"] is False
    assert [nb["name"] for nb in record["notebooks"]] == ["01_a"]
    assert record["unfinished"] == ["02_b", "03_c"]
    index = (out / "index.html").read_text()
    assert "This run was interrupted during 02_b: 1 of 3 notebooks finished" in index
    assert '<a href="01_a.html">01_a</a>' in index
    assert sorted(p.name for p in out.iterdir()) == ["01_a.html", "index.html", "run.json"]


def test_ctrl_c_inside_papermill_leaves_no_temporary_folder(monkeypatch, notebooks, tmp_path):
    import papermill

    scratch = []

    def execute_notebook(source, output, **kwargs):
        scratch.append(Path(output))
        with open(output, "w") as half_written:  # papermill saves the notebook, then re-raises
            half_written.write("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    out = (tmp_path / "out").resolve()
    with pytest.raises(runner.RunInterrupted) as interrupted:
        runner.run_notebooks(out_dir=out, notebooks_dir=notebooks, progress=False, jobs=1)
    assert isinstance(interrupted.value, KeyboardInterrupt)
    assert interrupted.value.run_json == str(out / "run.json")
    assert scratch[0].parent.parent == out and scratch[0].parent.name.startswith(".01_a.")
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "run.json"]
    assert json.loads((out / "run.json").read_text())["unfinished"] == ["01_a", "02_b", "03_c"]

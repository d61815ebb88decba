"""run_notebooks end to end on throwaway notebooks: one passes with a chart, one raises."""

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from persona_lib.report.export import find_external_sources
from persona_lib.report.runner import discover_notebooks, run_notebooks

SCRIPT = "<script>alert(1)</script>"
PARAMETERS = 'SEED = 0  # random seed\nPRESET = "default"  # size\nOUT_DIR = "."\nEXTRA = 0'
PASSING = [
    "import os\nimport pandas as pd\nfrom persona_lib.report import record_metrics\n"
    "from persona_lib.report.charts import bar_chart",
    "frame = pd.DataFrame({'g': ['a', 'b'], 'v': [SEED, 2]})\n"
    "bar_chart(frame, 'g', 'v', 'Bars', 'Group', 'Value (count)')",
    "record_metrics('01_pass', {'seed': SEED, 'preset': PRESET, 'extra': EXTRA,\n"
    f"    'label': '{SCRIPT}', 'blas_threads': os.environ.get('OPENBLAS_NUM_THREADS'),\n"
    "    'cwd': os.getcwd()}, OUT_DIR)",
]
FAILING = ["print('before the error')", f'raise ValueError("{SCRIPT}")', "print('never')"]


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook with a title, a tagged parameters cell and the given code cells."""
    params = new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[new_markdown_cell(f"# {path.stem}"), params])
    nb.cells += [new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runner")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "01_pass.ipynb", PASSING)
    write_notebook(notebooks / "02_fail.ipynb", FAILING)
    out = root / "reports"
    out.mkdir()
    (out / "02_fail.metrics.json").write_text('{"stale_figure": 1}')  # from an earlier run
    result = run_notebooks(
        preset="smoke",
        seed=3,
        out_dir=out,
        parameters={"EXTRA": 0.5},
        notebooks_dir=notebooks,
        progress=False,
    )
    return result, notebooks, out


def test_failures_are_listed_and_do_not_stop_the_run(run):
    result, _, _ = run
    assert [nb.name for nb in result.notebooks] == ["01_pass", "02_fail"]
    assert result.failed == ["02_fail"] and not result.ok
    failed = result.notebooks[1]
    assert failed.error == f"ValueError: {SCRIPT}"
    assert failed.metrics == {}  # the stale file was removed before running


def test_parameters_reach_the_kernel(run):
    result, notebooks, out = run
    metrics = result.notebooks[0].metrics
    assert metrics["seed"] == 3 and metrics["preset"] == "smoke" and metrics["extra"] == 0.5
    assert metrics["blas_threads"] == "1"
    assert metrics["cwd"] == str(notebooks)
    assert json.loads((out / "01_pass.metrics.json").read_text()) == metrics


def test_outputs_written_per_notebook(run):
    _, _, out = run
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "01_pass.html",
        "01_pass.ipynb",
        "01_pass.metrics.json",
        "02_fail.html",
        "02_fail.ipynb",
        "index.html",
        "run.json",
    ]  # no temporary files or folders left behind
    executed = nbformat.read(out / "01_pass.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    report = (out / "01_pass.html").read_text()
    assert "window.vegaEmbed=" in report and find_external_sources(report) == []


def test_partial_report_of_failing_notebook(run):
    _, _, out = run
    partial = (out / "02_fail.html").read_text()
    assert "before the error" in partial
    assert "ValueError" in partial and SCRIPT not in partial  # escaped by nbconvert


def test_index_escapes_and_links(run):
    result, _, out = run
    index = Path(result.index).read_text()
    assert SCRIPT not in index and "<script" not in index
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index  # metric and error, escaped
    assert index.count("&lt;script&gt;") == 2
    assert '<a href="01_pass.html">01_pass</a>' in index
    assert '<a href="02_fail.html">02_fail (partial report)</a>' in index
    assert "1 of 2 notebooks ran; failed: 02_fail" in index
    assert find_external_sources(index) == []


def test_run_json_records_the_run(run):
    result, _, out = run
    record = json.loads(Path(result.run_json).read_text())
    assert record["parameters"] == {
        "PRESET": "smoke",
        "SEED": 3,
        "OUT_DIR": str(out),
        "EXTRA": 0.5,
    }
    assert record["seeds"] == {"SEED": 3}
    assert record["failed"] == ["02_fail"]
    assert record["packages"]["papermill"] and record["packages"]["altair"]
    assert "git_commit" in record  # None outside a git checkout
    timings = [(nb["execute_s"], nb["export_s"]) for nb in record["notebooks"]]
    assert all(execute > 0 and export > 0 for execute, export in timings)
    assert record["duration_s"] >= sum(e for e, _ in timings)


def test_discover_orders_and_filters(tmp_path):
    for name in ["02_b.ipynb", "01_a.ipynb", "10_c.ipynb", "1_bad.ipynb", "draft.ipynb"]:
        (tmp_path / name).write_text("{}")
    assert [p.name for p in discover_notebooks(tmp_path)] == [
        "01_a.ipynb",
        "02_b.ipynb",
        "10_c.ipynb",
    ]
    assert [p.stem for p in discover_notebooks(tmp_path, only=["b", "01"])] == ["01_a", "02_b"]
    assert [p.stem for p in discover_notebooks(tmp_path, only=["10_c"])] == ["10_c"]
    with pytest.raises(ValueError, match=r"no notebook named \['zz'\]"):
        discover_notebooks(tmp_path, only=["zz"])

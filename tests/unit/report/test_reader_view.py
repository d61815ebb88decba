"""The reader view of exported reports: folded code, one parameters table, folded metrics and
long tables, a table of contents, no absolute paths, everything escaped."""

import copy
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from persona_lib.report.export import export_html, notebook_to_html

# where a notebook ran from: an absolute path the report must not show
INPUT_PATH = str(Path(tempfile.gettempdir(), "someone", "notebooks", "demo.ipynb"))

CODE_MARK = "SOURCE_OF_A_PLAIN_CELL"
METRICS_MARK = "SOURCE_OF_THE_METRICS_CELL"
EVIL = "<script>alert(1)</script>"


def table_output(n_rows: int, count: int) -> dict:
    """An execute_result holding a pandas HTML table of `n_rows` rows."""
    frame = pd.DataFrame({"title_id": range(n_rows), "plays": range(n_rows)})
    data = {"text/html": frame._repr_html_(), "text/plain": repr(frame)}
    return new_output("execute_result", data=data, execution_count=count)


def make_notebook(run_dir, data_dir) -> dict:
    """A papermill-executed notebook in miniature: defaults, injected values, sections."""
    defaults = new_code_cell(
        'SEED = 0  # seed of the "world"\n'
        'PRESET = "default"  # world size\n'
        'OUT_DIR = "../reports"  # where metrics go\n'
        'DATA_DIR = "../data"\n'
        'NAME = "plain"\n'
        "START = date(2024, 1, 1)  # not a literal: shown as written\n"
        "N_USERS = 10_000\n",
        metadata={"tags": ["parameters"]},
    )
    injected = new_code_cell(
        "# Parameters\n"
        'PRESET = "smoke"\n'
        f"OUT_DIR = {str(run_dir)!r}\n"
        f"DATA_DIR = {str(data_dir)!r}\n"
        f"NAME = {EVIL!r}\n"
        f"EXTRA = [{str(run_dir / 'a.csv')!r}]\n",
        metadata={"tags": ["injected-parameters"]},
    )
    plain = new_code_cell(f"x = 1  # {CODE_MARK}", execution_count=1)
    plain.outputs = [new_output("stream", name="stdout", text="visible output\n")]
    long_table = new_code_cell("long_frame", execution_count=2, outputs=[table_output(40, 2)])
    edge_table = new_code_cell("edge_frame", execution_count=3, outputs=[table_output(30, 3)])
    metrics = new_code_cell(
        f"record_metrics('demo', {{'ndcg_at_10': 0.3}}, OUT_DIR)  # {METRICS_MARK}",
        execution_count=4,
        outputs=[new_output("stream", name="stdout", text="METRICS_OUTPUT\n")],
    )
    imports = new_code_cell("from persona_lib.report import record_metrics", execution_count=0)
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Demo report\n\nWhat the reader learns."),
            defaults,
            injected,
            imports,
            new_markdown_cell("## 1. First section"),
            plain,
            new_markdown_cell("## 2. Tables & `<b>`"),
            long_table,
            edge_table,
            new_markdown_cell("## 3. Headline figures"),
            metrics,
        ]
    )
    nb.metadata["papermill"] = {
        "input_path": INPUT_PATH,
        "output_path": str(run_dir / "demo.ipynb"),
        "parameters": {"OUT_DIR": str(run_dir)},
    }
    return nb


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("reader")
    return root / "runs" / "r1", root / "shared" / "data"


@pytest.fixture(scope="module")
def notebook(folders):
    return make_notebook(*folders)


@pytest.fixture(scope="module")
def page(notebook, folders):
    html = notebook_to_html(notebook, title="demo", run_dir=folders[0])
    return html, BeautifulSoup(html, "html.parser")


def parameters(soup) -> dict[str, str]:
    (table,) = soup.select("table.persona-params")
    return {
        row.select("td")[0].get_text(): row.select("td")[1].get_text()
        for row in table.select("tbody tr")
    }


def test_code_inputs_folded_and_closed_outputs_visible(page):
    _, soup = page
    inputs = soup.select(".jp-CodeCell .jp-InputArea")
    assert len(inputs) == 5  # imports, plain, two tables, metrics: no parameters cell
    for area in inputs:
        folded = area.find_parent("details", class_="persona-code")
        assert folded is not None and not folded.has_attr("open")
        assert folded.summary.get_text() == "show code"
    (plain,) = [d for d in soup.select("details.persona-code") if CODE_MARK in d.get_text()]
    output = soup.find(string=lambda s: s and "visible output" in s)
    assert output.find_parent("details") is None


def test_one_parameters_table_injected_values_win_paths_relative(page, notebook):
    html, soup = page
    assert len(soup.select("table.persona-params")) == 1
    assert soup.select_one("table.persona-params caption").get_text() == "Parameters of this run"
    values = parameters(soup)
    assert list(values) == [
        "SEED",
        "PRESET",
        "OUT_DIR",
        "DATA_DIR",
        "NAME",
        "START",
        "N_USERS",
        "EXTRA",
    ]
    assert values["SEED"] == "0" and values["PRESET"] == "'smoke'"
    assert values["OUT_DIR"] == "'.'"
    assert values["DATA_DIR"] == "'../../shared/data'"
    assert values["EXTRA"] == "['a.csv']"
    assert values["START"] == "date(2024, 1, 1)" and values["N_USERS"] == "10,000"
    injected = [row.td.get_text() for row in soup.select("tr.persona-set")]
    assert injected == ["PRESET", "OUT_DIR", "DATA_DIR", "NAME", "EXTRA"]
    assert soup.select_one("table.persona-params td[title]")["title"] == 'seed of the "world"'
    assert "celltag_injected-parameters" not in html and "# Parameters" not in html
    assert "celltag_parameters" not in html  # the defaults cell became the table
    # The table sits where the parameters cell was: right after the title's cell.
    first_cell = soup.select_one("main > .jp-Cell")
    assert first_cell.find_next_sibling(class_="jp-Cell").select_one("table.persona-params")


def test_no_absolute_path_and_papermill_metadata_not_rendered(page, folders):
    html, _ = page
    root = str(folders[0].parents[1])
    assert root not in html
    assert INPUT_PATH not in html and "papermill" not in html


def test_parameter_values_are_escaped(page):
    html, soup = page
    assert EVIL not in html
    # nbconvert re-serializes the page with BeautifulSoup, which writes ' as is in text.
    assert "<code>'&lt;script&gt;alert(1)&lt;/script&gt;'</code>" in html
    assert parameters(soup)["NAME"] == repr(EVIL)


def test_without_run_folder_paths_show_their_last_component(notebook, folders):
    soup = BeautifulSoup(notebook_to_html(notebook), "html.parser")
    values = parameters(soup)
    assert values["OUT_DIR"] == "'r1'" and values["DATA_DIR"] == "'data'"
    assert values["EXTRA"] == "['a.csv']"


def test_export_html_relative_to_the_report_folder(tmp_path):
    run_dir = tmp_path / "run"
    nb = make_notebook(run_dir, tmp_path / "data")
    html = export_html(nb, run_dir / "demo.html").read_text()
    values = parameters(BeautifulSoup(html, "html.parser"))
    assert values["OUT_DIR"] == "'.'" and values["DATA_DIR"] == "'../data'"
    assert str(tmp_path) not in html


def test_record_metrics_cell_folded_whole(page):
    _, soup = page
    (folded,) = soup.select("details.persona-metrics")
    assert not folded.has_attr("open")
    assert folded.summary.get_text() == "all metrics of this run"
    assert METRICS_MARK in folded.get_text() and "METRICS_OUTPUT" in folded.get_text()
    imports = soup.find(string=lambda s: s and "import" in s and "record_metrics" in s)
    assert imports is None or imports.find_parent("details", class_="persona-metrics") is None


def test_long_table_folded_short_table_not(page):
    _, soup = page
    (folded,) = soup.select("details.persona-table")
    assert not folded.has_attr("open")
    assert folded.summary.get_text() == "table (40 rows)"
    assert len(folded.select("table.dataframe tbody tr")) == 40
    tables = soup.select("table.dataframe")
    assert len(tables) == 2
    edge = [t for t in tables if len(t.select("tbody tr")) == 30]
    assert edge and edge[0].find_parent("details") is None  # 30 rows stay open


def test_contents_after_title_link_every_h2(page):
    _, soup = page
    (nav,) = soup.select("nav.persona-toc")
    assert nav.find_previous_sibling("h1") is not None  # right after the first h1
    assert nav.h2.get_text() == "Contents"
    headings = [h for h in soup.select("h2") if h.find_parent("nav") is None]
    links = nav.select("ol > li > a")
    assert [a["href"] for a in links] == ["#" + h["id"] for h in headings]
    assert len(links) == 3
    ids = {tag["id"] for tag in soup.select("[id]")}
    assert all(a["href"][1:] in ids for a in links)
    assert [a.get_text() for a in links][1] == "2. Tables & <b>"  # text, escaped in the page


def test_contents_text_escaped(page):
    html, _ = page
    assert ">2. Tables &amp; &lt;b&gt;</a>" in html


def test_hide_code_drops_inputs_keeps_reader_view(notebook, folders):
    html = notebook_to_html(notebook, hide_code=True, run_dir=folders[0])
    soup = BeautifulSoup(html, "html.parser")
    assert CODE_MARK not in html and METRICS_MARK not in html
    assert not soup.select(".jp-CodeCell .jp-InputArea")
    assert not soup.select("details.persona-code")
    assert parameters(soup)["OUT_DIR"] == "'.'"
    assert "METRICS_OUTPUT" in soup.select_one("details.persona-metrics").get_text()
    assert soup.select("details.persona-table") and soup.select("nav.persona-toc")


def test_analyst_view_renders_cells_as_they_ran(notebook, folders):
    html = notebook_to_html(notebook, reader_view=False, run_dir=folders[0])
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.select("details") and not soup.select("nav.persona-toc")
    assert not soup.select("table.persona-params")
    assert "celltag_injected-parameters" in html and CODE_MARK in html


def test_notebook_is_not_modified(folders):
    nb = make_notebook(*folders)
    before = copy.deepcopy(nb)
    notebook_to_html(nb, run_dir=folders[0])
    assert nb == before


def test_notebook_metadata_cannot_inject_html(folders):
    nb = make_notebook(*folders)
    nb.cells[5].metadata["persona_view"] = {"parameters": "<b>SPOOFED</b>"}
    nb.cells[5].outputs[0]["metadata"] = {"persona_view": 999}
    html = notebook_to_html(nb, run_dir=folders[0])
    assert "SPOOFED" not in html and "table (999 rows)" not in html


def test_unparsable_parameters_cell_stays_code():
    params = new_code_cell("%load_ext autoreload\nSEED = 0", metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[new_markdown_cell("# Magic"), params])
    soup = BeautifulSoup(notebook_to_html(nb), "html.parser")
    assert not soup.select("table.persona-params")
    assert "load_ext" in soup.select_one("details.persona-code").get_text()


def test_no_contents_without_sections():
    nb = new_notebook(cells=[new_markdown_cell("# Only a title"), new_code_cell("1")])
    html = notebook_to_html(nb)
    assert "persona-toc" not in html.split("</style>")[-1]
    assert "persona: body" not in html

"""Rendered reports work offline: charts draw in headless Chromium with no network at all.

Every report is also checked as a reader sees it (the reader view of `export_html`): code
folded behind a closed "show code", a table of contents whose links land, and no absolute
file-system path on the page. The reports are rendered here from two small notebooks; set
``PERSONA_REPORTS_DIR`` to a folder written by ``make reports`` or ``persona run`` to check its
``NN_*.html`` reports as well.
"""

import functools
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, str(Path(__file__).parent))
from chromium import chromium_path, dump_dom, non_blank_fraction, offline_prefix, screenshot  # noqa: E402

from persona_lib.report.runner import run_notebooks  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None, reason="chromium is not on PATH"),
]
CELLS = [
    "import pandas as pd\nfrom persona_lib.report import record_metrics\n"
    "from persona_lib.report.charts import bar_chart, funnel_chart",
    "genres = pd.DataFrame({'genre': ['drama', 'comedy', 'horror'], 'plays': [30, 18, 9]})\n"
    "bar_chart(genres, 'genre', 'plays', 'Plays by genre', 'Genre', 'Plays (count)')",
    "stages = pd.DataFrame({'stage': ['impression', 'click', 'play'], 'users': [200, 80, 50]})\n"
    "funnel_chart(stages, 'stage', 'users', 'Discovery funnel', 'Users (count)')",
    # As the notebooks do: record, then show the figures. record_metrics returns the absolute
    # path of the JSON it wrote; as a cell's last expression it would print it on the page.
    "metrics = {'play_rate_pct': 25.0, 'note': '<b>bold?</b>'}\n"
    "record_metrics('01_charts', metrics, OUT_DIR)\n"
    "pd.Series(metrics, name='value').to_frame()",
]
TABLE_CELLS = [
    "import pandas as pd",
    "pd.DataFrame({'title_id': range(40), 'share': [0.00001 * i for i in range(39)] + [None]})",
]
EXTERNAL = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.I)
SCRIPT_BODY = re.compile(r"<script\b.*?</script>", re.S | re.I)
HEAD = re.compile(r"<head\b.*?</head>", re.S | re.I)
# An absolute path: not preceded by a word character or a dot, so "../../work/x" (relative)
# and "https://host/home/" (a URL) are not flagged.
# a file-system path in the page; the browser's own file:// URL of the page (vega's gradient
# fills reference it in the rendered DOM) is not one
ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?<!file://)/(?:tmp|work|home|root)/")
EXTRA_REPORTS = os.environ.get("PERSONA_REPORTS_DIR")
PAGES = ["01_charts.html", "02_tables.html"] + (
    sorted(str(p) for p in Path(EXTRA_REPORTS).glob("[0-9][0-9]_*.html")) if EXTRA_REPORTS else []
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for name, title, sections in (
        ("01_charts", "Charts", [CELLS[:1], CELLS[1:3], CELLS[3:]]),
        ("02_tables", "Tables", [TABLE_CELLS]),
    ):
        params = new_code_cell(
            'SEED = 0\nPRESET = "default"\nOUT_DIR = "."', metadata={"tags": ["parameters"]}
        )
        nb = new_notebook(cells=[new_markdown_cell(f"# {title}"), params])
        for number, cells in enumerate(sections, start=1):
            nb.cells.append(new_markdown_cell(f"## {number}. Section {number}"))
            nb.cells += [new_code_cell(source) for source in cells]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, notebooks / f"{name}.ipynb")
    # The defaults of `persona run` (and so of `make reports`): the reader view, code folded.
    result = run_notebooks(out_dir=root / "reports", notebooks_dir=notebooks, progress=False)
    assert result.ok, result.notebooks
    return root / "reports"


@functools.lru_cache(maxsize=16)
def rendered(path: Path) -> str:
    """The DOM of a report after its scripts ran offline, without the head (styles, bundle)."""
    return HEAD.sub("", dump_dom(path), count=1)


@pytest.fixture(params=PAGES, ids=[Path(p).stem for p in PAGES])
def page(request, reports) -> Path:
    """One report: rendered here, or from ``PERSONA_REPORTS_DIR``."""
    return reports / request.param


def test_chromium_runs_without_network():
    assert offline_prefix(), "unshare -n is unavailable: the check would not be offline"


@pytest.mark.parametrize("name", ["index.html", "01_charts.html"])
def test_no_external_script_or_link(reports, name):
    assert not EXTERNAL.search((reports / name).read_text())


def test_charts_render_offline(reports):
    dom = dump_dom(reports / "01_charts.html")
    visible = SCRIPT_BODY.sub("", dom)
    assert visible.count('class="vega-embed') == 2
    assert 'class="error"' not in visible  # altair's "Error loading script" box
    marks = re.findall(r'<(svg|canvas)\b[^>]*class="marks"', visible)
    assert len(marks) == 2
    assert visible.count('role="graphics-symbol"') >= 3 + 3  # bars of both charts
    assert "Plays by genre" in visible and "Discovery funnel" in visible


def test_screenshot_shows_charts(reports, tmp_path):
    page = reports / "01_charts.html"
    shot = screenshot(page, tmp_path / "report.png", width=900, height=1100)
    # Control: the same page with the bundle's vegaEmbed unpublished draws no chart.
    broken = tmp_path / "broken.html"
    broken.write_text(page.read_text().replace("window.vegaEmbed=", "window.vegaEmbedOff="))
    control = screenshot(broken, tmp_path / "broken.png", width=900, height=1100)
    inked, blank = non_blank_fraction(shot), non_blank_fraction(control)
    print(f"\nscreenshots: {shot} ({inked:.3f} inked), {control} ({blank:.3f})")
    assert inked > 0.04
    assert inked > 4 * blank


def test_index_page_renders(reports, tmp_path):
    dom = dump_dom(reports / "index.html")
    assert '<a href="01_charts.html">01_charts</a>' in dom
    assert "&lt;b&gt;bold?&lt;/b&gt;" in dom and "<b>bold?" not in dom
    shot = screenshot(reports / "index.html", tmp_path / "index.png", width=900, height=500)
    assert non_blank_fraction(shot) > 0.005


def test_no_absolute_path_in_page(page):
    dom = rendered(page)
    found = [dom[max(m.start() - 60, 0) : m.end() + 40] for m in ABSOLUTE_PATH.finditer(dom)]
    assert not found, f"absolute paths in {page.name}: {found}"


def test_code_folded_closed(page):
    dom = rendered(page)
    folds = re.findall(r"<details\b[^>]*\bclass=\"persona-code\"[^>]*>", dom)
    assert folds, f"no folded code in {page.name}"
    assert not [tag for tag in folds if re.search(r"\sopen\b", tag)]
    assert dom.count("<summary>show code</summary>") == len(folds)


def test_contents_links_land(page):
    dom = rendered(page)
    nav = re.search(r'<nav class="persona-toc">(.*?)</nav>', dom, re.S)
    assert nav, f"no table of contents in {page.name}"
    targets = re.findall(r'<a href="#([^"]+)"', nav[1])
    assert targets
    ids = set(re.findall(r'\bid="([^"]+)"', dom))
    assert set(targets) <= ids


def test_parameters_table_and_folded_extras(reports):
    dom = rendered(reports / "01_charts.html")
    assert dom.count('<table class="persona-params">') == 1
    assert re.search(r"<code>OUT_DIR</code></td><td><code>'\.'</code>", dom)
    assert "<summary>all metrics of this run</summary>" in dom
    tables = rendered(reports / "02_tables.html")
    assert "<summary>table (40 rows)</summary>" in tables


def test_tables_read_as_numbers(page):
    if page.name == "02_tables.html":  # its raw 40-row table with a NaN tests the folding
        pytest.skip("a raw pandas table on purpose")
    text = re.sub(r"<[^>]+>", " ", SCRIPT_BODY.sub("", rendered(page)))
    for raw in ("NaN", "dtype:", "e+0", "e-0"):
        assert raw not in text, f"{raw!r} in a table of {page.name}"

"""Rendered reports work offline: charts draw in headless Chromium with no network at all."""

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
    "record_metrics('01_charts', {'play_rate_pct': 25.0, 'note': '<b>bold?</b>'}, OUT_DIR)",
]
EXTERNAL = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.I)
SCRIPT_BODY = re.compile(r"<script\b.*?</script>", re.S | re.I)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    params = new_code_cell(
        'SEED = 0\nPRESET = "default"\nOUT_DIR = "."', metadata={"tags": ["parameters"]}
    )
    nb = new_notebook(cells=[new_markdown_cell("# Charts"), params])
    nb.cells += [new_code_cell(source) for source in CELLS]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, notebooks / "01_charts.ipynb")
    result = run_notebooks(
        out_dir=root / "reports", notebooks_dir=notebooks, hide_code=True, progress=False
    )
    assert result.ok, result.notebooks
    return root / "reports"


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

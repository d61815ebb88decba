"""Offline HTML export: one inlined vega bundle per report, no external sources."""

import re
import time

import altair as alt
import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from persona_lib.report.export import (
    _exporter,
    export_html,
    find_external_sources,
    notebook_to_html,
    vega_versions,
)

BUNDLE_MARK = "window.vegaEmbed="  # the line of vl-convert's bundle that publishes vegaEmbed


def chart_output(title: str) -> nbformat.NotebookNode:
    """The display output altair's default renderer produces in a kernel."""
    frame = pd.DataFrame({"g": ["a", "b"], "v": [1, 2]})
    chart = alt.Chart(frame, title=title).mark_bar().encode(x="g", y="v")
    return new_output("display_data", data=chart._repr_mimebundle_())


@pytest.fixture(scope="module")
def notebook():
    code = new_code_cell("bar_chart(...)  # SECRET_SOURCE", execution_count=1)
    code.outputs = [chart_output("first chart"), chart_output("second chart")]
    return new_notebook(
        cells=[
            new_markdown_cell('# Title\n<img src="https://example.com/x.png">'),
            code,
        ]
    )


@pytest.fixture(scope="module")
def report(notebook):
    return notebook_to_html(notebook, title="demo")


def test_altair_outputs_load_from_cdn_without_export():
    html = chart_output("x")["data"]["text/html"]
    assert "https://cdn.jsdelivr.net/npm/vega" in html  # the problem this module solves


def test_vega_versions_read_from_chart_outputs(notebook):
    versions = vega_versions(notebook)
    assert set(versions) == {"vega_version", "vegalite_version", "vegaembed_version"}
    assert versions["vegalite_version"] == alt.SCHEMA_VERSION.lstrip("v")


def test_bundle_inlined_once_with_versions_before_charts(report):
    assert report.count(BUNDLE_MARK) == 1
    first_chart = report.index('<div id="altair-viz-')
    assert report.index(BUNDLE_MARK) < report.index("window.VEGA_DEBUG = Object") < first_chart
    assert report.count('maybeLoadScript("vega-lite"') == 2  # both charts kept
    debug = re.search(r"window\.VEGA_DEBUG = Object\.assign\([^,]+, (\{.*?\})\)", report)[1]
    assert '"vegalite_version": "' + alt.SCHEMA_VERSION.lstrip("v") in debug


def test_no_external_sources(report):
    assert find_external_sources(report) == []
    assert "require.min.js" not in report and "mathjax" not in report.lower()
    assert "example.com/x.png" not in report
    assert "<title>demo</title>" in report


def test_find_external_sources_detects_cdn_tags():
    html = (
        '<script src="https://cdn.example/vega.js"></script>'
        "<link rel=stylesheet href=//fonts.example/css>"
        '<script src="local.js"></script><a href="https://ok.example">link</a>'
    )
    assert find_external_sources(html) == ["https://cdn.example/vega.js", "//fonts.example/css"]


def test_no_bundle_without_charts_and_hide_code(tmp_path, notebook):
    plain = new_notebook(cells=[new_code_cell("1 + 1  # SECRET_SOURCE")])
    html = notebook_to_html(plain)
    assert BUNDLE_MARK not in html and "VEGA_DEBUG" not in html
    assert len(html) < 400_000
    assert "SECRET_SOURCE" in html
    assert "SECRET_SOURCE" not in notebook_to_html(notebook, hide_code=True)
    assert "SECRET_SOURCE" in notebook_to_html(notebook)  # the shared exporter is reset


def test_export_html_writes_atomically_and_reuses_exporter(tmp_path, notebook):
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    assert _exporter() is _exporter()
    start = time.perf_counter()
    out = export_html(path, tmp_path / "reports" / "nb.html")
    elapsed = time.perf_counter() - start
    assert out.read_text().count(BUNDLE_MARK) == 1
    assert "<title>nb</title>" in out.read_text()
    assert sorted(p.name for p in out.parent.iterdir()) == ["nb.html"]
    assert elapsed < 2.0  # warm exporter and cached bundle: ~0.03 s

"""Executed notebook -> standalone HTML report whose Altair charts work offline.

The kernel keeps altair's default renderer: each chart output is a small script that loads
vega, vega-lite and vega-embed from a CDN unless ``VEGA_DEBUG`` already records the version
it wants. At export we

1. render with nbconvert's ``lab`` template minus its CDN scripts (require.js, MathJax,
   mermaid, widgets),
2. drop any remaining script, stylesheet, image or frame tag pointing at an external URL,
3. put vl-convert's JavaScript bundle (vega + vega-lite + vega-embed, ~880 KiB) into the
   head once, followed by ``window.VEGA_DEBUG`` set to the versions the chart outputs ask for,
   so altair's loader finds them "already loaded" and fetches nothing.

Reports without charts get no bundle. One `HTMLExporter` is built per process and reused.

The default is the *reader view* (``reader_view=False`` gives the notebook as it ran):

- every code cell's input is folded into a closed ``<details class="persona-code">``
  ("show code"); outputs stay visible (``hide_code=True`` still drops inputs entirely);
- papermill's ``parameters`` cell (the defaults) and ``injected-parameters`` cell (this run's
  values) become one "Parameters of this run" table, read with `ast` (never executed): the
  injected value wins, and an absolute path is shown relative to the run folder (the folder of
  the HTML file), or as its last component when no run folder is known;
- the cell that calls ``record_metrics(`` is folded whole ("all metrics of this run"), and
  an HTML table with more than 30 body rows is folded ("table (N rows)");
- a "Contents" list of every ``<h2>`` follows the first ``<h1>``;
- a small inline stylesheet: summaries as grey links, wide tables scroll in their box,
  images and charts no wider than the page.

Only the exported copy changes: the executed ``.ipynb`` keeps its cells.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import jinja2
import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from persona_lib.data.io import write_text
from persona_lib.report.reader_view import (
    BODY_MARK,
    READER_CSS,
    VIEW_KEY,
    ReaderView,
    add_contents,
)

__all__ = ["export_html", "find_external_sources", "notebook_to_html", "vega_versions"]

_PLACEHOLDER = "<!-- persona: offline vega bundle -->"
_TEMPLATE_NAME = "persona_offline.html.j2"
_TEMPLATE = (
    "{%- extends 'index.html.j2' -%}\n"
    "{%- block html_head_js -%}{%- endblock html_head_js -%}\n"
    "{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}\n"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
    "{%- block html_head_css -%}\n"
    '<style type="text/css">' + READER_CSS + "</style>\n"
    "{%- if resources.persona_vega_versions -%}" + _PLACEHOLDER + "{%- endif -%}\n"
    "{%- endblock html_head_css -%}\n"
    "{%- block body_header -%}{{ super() }}" + BODY_MARK + "{%- endblock body_header -%}\n"
    # The reader view: ReaderView marks cells and outputs in `metadata.persona_view`.
    "{%- block codecell -%}\n"
    "{%- set view = cell.metadata.get('" + VIEW_KEY + "') or {} -%}\n"
    "{%- if view.get('parameters') -%}{{ view.parameters }}\n"
    "{%- elif view.get('metrics') -%}\n"
    '<details class="persona-fold persona-metrics"><summary>all metrics of this run</summary>'
    "{{ super() }}</details>\n"
    "{%- else -%}{{ super() }}{%- endif -%}\n"
    "{%- endblock codecell -%}\n"
    "{%- block input_group -%}\n"
    "{%- if resources.persona_reader_view -%}\n"
    '<details class="persona-code"><summary>show code</summary>{{ super() }}</details>\n'
    "{%- else -%}{{ super() }}{%- endif -%}\n"
    "{%- endblock input_group -%}\n"
    "{%- block output -%}\n"
    "{%- set rows = (output.get('metadata') or {}).get('" + VIEW_KEY + "') -%}\n"
    "{%- if rows -%}\n"
    '<details class="persona-fold persona-table">'
    '<summary>table ({{ "{:,}".format(rows) }} rows)</summary>'
    "{{ super() }}</details>\n"
    "{%- else -%}{{ super() }}{%- endif -%}\n"
    "{%- endblock output -%}\n"
)
# altair's loader: maybeLoadScript("vega-lite", "6.4.1") skips the fetch when
# VEGA_DEBUG[`${lib.replace("-", "")}_version`] equals the requested version.
_LOAD_CALL = re.compile(r'maybeLoadScript\("(vega(?:-lite|-embed)?)",\s*"([\w.\-]+)"\)')
_URL = r"""\s*=\s*["']?\s*(?:https?:)?//"""
_EXTERNAL_TAGS = re.compile(
    r"<script\b[^>]*\bsrc" + _URL + r"[^>]*>\s*</script\s*>"
    r"|<(?:link|img|iframe|source|embed)\b[^>]*\b(?:href|src)" + _URL + r"[^>]*/?>",
    re.IGNORECASE,
)
_EXTERNAL_SOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|embed)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*"
    r"((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)


def _html_texts(nb: nbformat.NotebookNode):
    """Yield the text/html payload of every code cell output."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html")
            if html:
                yield "".join(html) if isinstance(html, list) else html


def vega_versions(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Return the ``VEGA_DEBUG`` entries the notebook's altair outputs ask for (empty: no chart)."""
    versions = {}
    for html in _html_texts(nb):
        for lib, version in _LOAD_CALL.findall(html):
            versions[f"{lib.replace('-', '', 1)}_version"] = version
    return versions


class _VegaVersions(Preprocessor):
    """Record the chart libraries' versions in the resources for the template."""

    def preprocess(self, nb, resources):
        resources["persona_vega_versions"] = vega_versions(nb)
        return nb, resources


@functools.lru_cache(maxsize=4)
def _bundle(vegalite_version: str | None) -> str:
    """vl-convert's vega + vega-lite + vega-embed bundle (first call ~1.5 s, then cached)."""
    import vl_convert

    wanted = None
    if vegalite_version:
        minor = ".".join(vegalite_version.split(".")[:2])
        wanted = minor if minor in vl_convert.get_vegalite_versions() else None
    return vl_convert.javascript_bundle(vl_version=wanted)


def _head_scripts(versions: dict[str, str]) -> str:
    """The inline scripts that replace the CDN: the bundle, then the versions it satisfies."""
    bundle = _bundle(versions.get("vegalite_version")).replace("</script", "<\\/script")
    debug = json.dumps(versions, sort_keys=True)
    return (
        f'<script type="text/javascript">\n{bundle}\n</script>\n'
        f"<script>window.VEGA_DEBUG = Object.assign(window.VEGA_DEBUG || {{}}, {debug});</script>"
    )


@functools.lru_cache(maxsize=1)
def _exporter() -> HTMLExporter:
    """One HTMLExporter per process: building it (templates, CSS) is the slow part."""
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
    )
    exporter.register_preprocessor(_VegaVersions, enabled=True)
    exporter.register_preprocessor(ReaderView, enabled=True)
    return exporter


def find_external_sources(html: str) -> list[str]:
    """List the external URLs that script, link, img, iframe, source or embed tags load.

    Parameters
    ----------
    html : str
        An HTML document.

    Returns
    -------
    list of str
        URLs starting with ``http://``, ``https://`` or ``//``; empty for an offline page.

    Examples
    --------
    >>> find_external_sources('<script src="https://cdn.example/vega.js"></script>')
    ['https://cdn.example/vega.js']
    """
    return _EXTERNAL_SOURCE.findall(html)


def notebook_to_html(
    notebook: nbformat.NotebookNode | str | os.PathLike,
    *,
    hide_code: bool = False,
    title: str | None = None,
    reader_view: bool = True,
    run_dir: str | os.PathLike | None = None,
) -> str:
    """Render a notebook to a standalone HTML string that loads nothing from the network.

    Parameters
    ----------
    notebook : NotebookNode or path
        Executed (or partially executed) notebook.
    hide_code : bool, default False
        Drop the input cells and keep only outputs and markdown.
    title : str, optional
        Page title; defaults to the file stem, or "report".
    reader_view : bool, default True
        Fold code, metrics and long tables, show the parameters as one table and add a
        table of contents (see the module docstring); False renders the cells as they ran.
    run_dir : path, optional
        The run folder: absolute paths among the parameters are shown relative to it.
        Without it they are shown as their last component.

    Returns
    -------
    str
        The HTML document, with the chart bundle inlined once if the notebook has charts.

    Examples
    --------
    >>> html = notebook_to_html("reports/01_data_signals.ipynb")  # doctest: +SKIP
    """
    if not isinstance(notebook, nbformat.NotebookNode):
        title = title or Path(notebook).stem
        notebook = nbformat.read(notebook, as_version=4)
    exporter = _exporter()
    exporter.exclude_input = hide_code
    resources: dict[str, Any] = {
        "metadata": {"name": title or "report"},
        "persona_reader_view": reader_view,
        "persona_run_dir": os.path.abspath(run_dir) if run_dir is not None else None,
    }
    html, resources = exporter.from_notebook_node(notebook, resources=resources)
    html = add_contents(html) if reader_view else html.replace(BODY_MARK, "", 1)
    html = _EXTERNAL_TAGS.sub("", html)
    versions = resources.get("persona_vega_versions")
    if versions:
        html = html.replace(_PLACEHOLDER, _head_scripts(versions), 1)
    return html


def export_html(
    notebook: nbformat.NotebookNode | str | os.PathLike,
    html_path: str | os.PathLike,
    *,
    hide_code: bool = False,
    title: str | None = None,
    reader_view: bool = True,
) -> Path:
    """Write a notebook as a standalone offline HTML report, atomically.

    Parameters
    ----------
    notebook : NotebookNode or path
        Executed (or partially executed) notebook.
    html_path : str or path-like
        Output file.
    hide_code : bool, default False
        Drop the input cells.
    title : str, optional
        Page title; defaults to the stem of `html_path`.
    reader_view : bool, default True
        The reader view of `notebook_to_html`; absolute paths among the parameters are shown
        relative to the folder of `html_path` (the run folder).

    Returns
    -------
    Path
        `html_path`.

    Examples
    --------
    >>> export_html("reports/01.ipynb", "reports/01.html")  # doctest: +SKIP
    """
    html = notebook_to_html(
        notebook,
        hide_code=hide_code,
        title=title or Path(html_path).stem,
        reader_view=reader_view,
        run_dir=Path(html_path).resolve().parent,
    )
    return write_text(html, html_path)

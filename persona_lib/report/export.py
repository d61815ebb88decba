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
    "{%- if resources.persona_vega_versions -%}" + _PLACEHOLDER + "{%- endif -%}\n"
    "{%- endblock html_head_css -%}\n"
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
    resources: dict[str, Any] = {"metadata": {"name": title or "report"}}
    html, resources = exporter.from_notebook_node(notebook, resources=resources)
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

    Returns
    -------
    Path
        `html_path`.

    Examples
    --------
    >>> export_html("reports/01.ipynb", "reports/01.html")  # doctest: +SKIP
    """
    html = notebook_to_html(notebook, hide_code=hide_code, title=title or Path(html_path).stem)
    return write_text(html, html_path)

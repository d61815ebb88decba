"""The reader view of a report: what a reader sees first, with the analyst's material folded.

`ReaderView` (an nbconvert preprocessor) marks, in ``metadata.persona_view`` of the exported
copy only, the cells and outputs that `export`'s template folds or replaces: every code input
is folded behind "show code"; the ``parameters`` and ``injected-parameters`` cells become one
"Parameters of this run" table (read with `ast`, never executed; the injected value wins;
absolute paths shown relative to the run folder; every value escaped); the cell that calls
``record_metrics`` is folded whole; an HTML table of more than `LONG_TABLE_ROWS` rows is folded.
`add_contents` puts a "Contents" list of every section (``<h2 id>``) after the title.
"""

from __future__ import annotations

import ast
import html as htmllib
import os
import re
from html.parser import HTMLParser
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor

from persona_lib.report.parameters import NotLiteral, literal_assignments

__all__ = ["BODY_MARK", "LONG_TABLE_ROWS", "READER_CSS", "VIEW_KEY", "ReaderView", "add_contents"]

BODY_MARK = "<!-- persona: body -->"
VIEW_KEY = "persona_view"  # cell and output metadata key, set only by ReaderView
READER_CSS = """
:root { --persona-indent: calc(var(--jp-cell-prompt-width, 64px) + 12px); }
@media only screen and (max-width: 760px) { :root { --persona-indent: 4px; } }
details.persona-code, details.persona-fold { margin: 0.15rem 0; }
details.persona-code > summary, details.persona-fold > summary {
  cursor: pointer; color: #777; font: 0.8rem var(--jp-ui-font-family, sans-serif);
  width: fit-content; margin-left: var(--persona-indent); user-select: none; }
details.persona-metrics > summary { margin-left: calc(var(--persona-indent) + 5px); }
details.persona-code > summary:hover, details.persona-fold > summary:hover {
  color: #1a5fb4; text-decoration: underline; }
nav.persona-toc { margin: 1rem 0; padding: 0.2rem 1rem; border-left: 3px solid #ddd; }
nav.persona-toc h2 { font-size: 1rem; margin: 0.3rem 0; }
nav.persona-toc ol { list-style: none; margin: 0; padding: 0; }
nav.persona-toc li { margin: 0.15rem 0; }
table.persona-params { font: 0.85rem var(--jp-ui-font-family, sans-serif);
  margin: 0.5rem 0 0.5rem var(--persona-indent); border-collapse: collapse; }
table.persona-params caption { text-align: left; font-weight: 600; padding-bottom: 0.2rem; }
table.persona-params th, table.persona-params td {
  text-align: left; padding: 0.1rem 1rem 0.1rem 0; border-bottom: 1px solid #eee; }
table.persona-params tr.persona-set td:first-child { font-weight: 600; }
.jp-OutputArea-output table, .jp-OutputArea-output .dataframe {
  display: block; overflow-x: auto; max-width: 100%; }
.jp-OutputArea-output img, .jp-OutputArea-output canvas, .jp-OutputArea-output svg {
  max-width: 100%; height: auto; }
"""
LONG_TABLE_ROWS = 30  # a table with more body rows than this is folded in the reader view


def _assignments(source: str) -> dict[str, tuple[Any, str]] | None:
    """`literal_assignments` of a cell, or None if it does not parse (then it stays code)."""
    try:
        return literal_assignments(source)
    except (SyntaxError, ValueError):
        return None


def _is_absolute(text: str) -> bool:
    """True for a one-line POSIX or Windows absolute path."""
    if not text or "\n" in text:
        return False
    return PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute()


def _shown_path(text: str, run_dir: str | None) -> str:
    """An absolute path relative to `run_dir`, or its last component without a run folder."""
    if not _is_absolute(text):
        return text
    if run_dir is not None and os.path.isabs(text):
        try:
            return os.path.relpath(text, run_dir)
        except ValueError:  # another drive on Windows
            pass
    pure = PureWindowsPath(text) if PureWindowsPath(text).drive else PurePath(text)
    return pure.name or "."


def _without_abs_paths(value: Any, run_dir: str | None) -> Any:
    """`value` with every absolute-path string (also inside containers) made relative."""
    if isinstance(value, str):
        return _shown_path(value, run_dir)
    if isinstance(value, (list, tuple, set)):
        items = [_without_abs_paths(item, run_dir) for item in value]
        return type(value)(items) if not isinstance(value, set) else set(items)
    if isinstance(value, dict):
        return {key: _without_abs_paths(item, run_dir) for key, item in value.items()}
    return value


def _shown_value(value: Any, run_dir: str | None) -> str:
    """A parameter value as the table shows it: repr for literals, integers with separators."""
    if isinstance(value, NotLiteral):
        return value.source
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return repr(_without_abs_paths(value, run_dir))


def _parameters_html(
    defaults: dict[str, tuple[Any, str]], injected: dict[str, tuple[Any, str]], run_dir: str | None
) -> str:
    """The escaped "Parameters of this run" table; a value injected for this run wins."""
    esc = htmllib.escape
    rows = []
    for name in {**defaults, **injected}:
        value, _ = injected.get(name) or defaults[name]
        comment = defaults.get(name, (None, ""))[1]
        row_class = ' class="persona-set"' if name in injected else ""
        title = f' title="{esc(comment)}"' if comment else ""
        rows.append(
            f"<tr{row_class}><td{title}><code>{esc(name)}</code></td>"
            f"<td><code>{esc(_shown_value(value, run_dir))}</code></td></tr>"
        )
    return (
        '<div class="jp-Cell jp-Notebook-cell persona-params">'
        '<table class="persona-params"><caption>Parameters of this run</caption>'
        "<thead><tr><th>name</th><th>value</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _tagged(nb: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    """The code cells that carry `tag`."""
    return [
        cell
        for cell in nb.cells
        if cell.cell_type == "code" and tag in cell.get("metadata", {}).get("tags", [])
    ]


def _fold_parameters(nb: nbformat.NotebookNode, run_dir: str | None) -> None:
    """Replace the parameters and injected-parameters cells by one table, in place.

    Nothing changes when a cell does not parse: its code stays, folded like any other.
    """
    defaults_cells, injected_cells = _tagged(nb, "parameters"), _tagged(nb, "injected-parameters")
    if not defaults_cells and not injected_cells:
        return
    defaults, injected = {}, {}
    for cells, merged in ((defaults_cells, defaults), (injected_cells, injected)):
        for cell in cells:
            found = _assignments(cell.source)
            if found is None:
                return
            merged.update(found)
    if not defaults and not injected:
        return
    first, *others = defaults_cells + injected_cells
    first.metadata[VIEW_KEY] = {"parameters": _parameters_html(defaults, injected, run_dir)}
    nb.cells = [cell for cell in nb.cells if not any(cell is other for other in others)]


def _calls(source: str, name: str) -> bool:
    """True if the code calls a function or method called `name`."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # IPython magics: fall back on the text
        return f"{name}(" in source
    return any(
        isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)
        for node in ast.walk(tree)
    )


_TR = re.compile(r"<tr\b", re.IGNORECASE)
_TBODY = re.compile(r"<tbody\b.*?</tbody\s*>", re.IGNORECASE | re.DOTALL)


def _table_rows(html: str) -> int:
    """Count the body rows of the HTML tables in an output: inside ``<tbody>`` if any, else
    every ``<tr>`` (0 without a table)."""
    if "<table" not in html.lower():
        return 0
    bodies = _TBODY.findall(html)
    return sum(len(_TR.findall(body)) for body in bodies) if bodies else len(_TR.findall(html))


def _fold_long_tables(cell: nbformat.NotebookNode) -> None:
    """Mark the outputs of `cell` whose HTML table has more than `LONG_TABLE_ROWS` rows."""
    for output in cell.get("outputs", []):
        html = output.get("data", {}).get("text/html")
        if not html:
            continue
        rows = _table_rows("".join(html) if isinstance(html, list) else html)
        if rows > LONG_TABLE_ROWS:
            output.setdefault("metadata", {})[VIEW_KEY] = rows


class ReaderView(Preprocessor):
    """Mark the cells and outputs the template folds or replaces (see the module docstring)."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:  # only this preprocessor decides the view, never the notebook
            cell.get("metadata", {}).pop(VIEW_KEY, None)
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop(VIEW_KEY, None)
        if not resources.get("persona_reader_view"):
            return nb, resources
        _fold_parameters(nb, resources.get("persona_run_dir"))
        for cell in nb.cells:
            if cell.cell_type != "code" or VIEW_KEY in cell.metadata:
                continue
            if _calls(cell.source, "record_metrics"):
                cell.metadata[VIEW_KEY] = {"metrics": True}
            _fold_long_tables(cell)
        return nb, resources


class _Headings(HTMLParser):
    """Collect the ``(id, text)`` of every ``<h2 id>`` and where the first ``</h1>`` starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h2: list[tuple[str, str]] = []
        self.h1_end: tuple[int, int] | None = None
        self._open: tuple[str, list[str]] | None = None
        self._in_h2 = self._in_anchor = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2":
            self._in_h2 = True
            self._open = (attrs["id"], []) if attrs.get("id") else None
        elif tag == "a" and self._in_h2 and "anchor-link" in (attrs.get("class") or "").split():
            self._in_anchor = True  # nbconvert's pilcrow link, not heading text

    def handle_endtag(self, tag):
        if tag == "a":
            self._in_anchor = False
        elif tag == "h2":
            if self._open is not None:
                ident, parts = self._open
                self.h2.append((ident, " ".join("".join(parts).split())))
            self._in_h2, self._open = False, None
        elif tag == "h1" and self.h1_end is None:
            self.h1_end = self.getpos()

    def handle_data(self, data):
        if self._open is not None and not self._in_anchor:
            self._open[1].append(data)


def _offset(text: str, position: tuple[int, int]) -> int:
    """String index of an `HTMLParser` position ``(line, column)``."""
    line, column = position
    index = 0
    for _ in range(line - 1):
        index = text.index("\n", index) + 1
    return index + column


def add_contents(html: str) -> str:
    """Insert the "Contents" list of every ``<h2 id>`` after the first ``<h1>`` of the body."""
    head, mark, body = html.partition(BODY_MARK)
    if not mark:
        return html
    parser = _Headings()
    parser.feed(body)
    parser.close()
    if not parser.h2:
        return head + body
    esc = htmllib.escape
    items = "".join(
        f'<li><a href="#{esc(ident)}">{esc(text)}</a></li>' for ident, text in parser.h2
    )
    nav = f'<nav class="persona-toc"><h2>Contents</h2><ol>{items}</ol></nav>'
    at = 0
    if parser.h1_end is not None:
        at = body.index(">", _offset(body, parser.h1_end)) + 1
    return head + body[:at] + nav + body[at:]

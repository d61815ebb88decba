"""The index page of a run: bottom line, summary table, report links, the full metric dump.

The page opens with `summary.summary_html` (computed sentences and the summary table), then lists
every notebook with its link, status and duration; all recorded metrics sit in a collapsed
``<details>`` below. Readable at 420 px: tables stack into labelled rows under 600 px and long
words break instead of widening the page. Every string is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import quote

from persona_lib.report.numbers import fmt
from persona_lib.report.summary import summary_html


class NotebookResult(Protocol):
    """What the index reads of a `runner.NotebookResult` (a protocol: the runner imports this
    module, so this module does not import the runner)."""

    name: str
    status: str
    execute_s: float
    export_s: float
    html: str | None
    metrics: dict[str, Any]
    error: str | None


__all__ = ["index_html"]

INDEX_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; padding: 0 1rem;
       color: #222; overflow-wrap: break-word; }
h1 { margin-bottom: .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .45rem .6rem; text-align: left; }
td { vertical-align: top; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
table.summary td:first-child { min-width: 14rem; }
.scroll { overflow-x: auto; max-width: 100%; }
ul.bottom-line { padding-left: 1.2rem; font-size: 1.05rem; }
ul.bottom-line li { margin: .35rem 0; }
.why { color: #666; font-style: italic; }
.note, .meta, ol.notes { color: #555; font-size: .9rem; }
tr.failed td:nth-child(2), pre.error, p.interrupted { color: #b00020; }
pre.error { white-space: pre-wrap; overflow-wrap: anywhere; margin: .3rem 0 0; }
details { margin-top: 1.5rem; }
details ul { margin: 0; padding-left: 1rem; }
code { overflow-wrap: anywhere; }
@media (max-width: 600px) {
  body { margin: 1rem auto; padding: 0 .6rem; }
  table.stack thead { display: none; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: auto; }
  table.stack tr { border-bottom: 2px solid #ccc; padding: .3rem 0; }
  table.stack td { border: 0; padding: .15rem 0; text-align: left; white-space: normal; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; color: #666; }
  table.summary td:first-child { font-weight: 600; min-width: 0; }
  table.summary td:first-child::before { content: none; }
}
"""


def metric_text(value: Any) -> str:
    """A metric value as the dump prints it: `fmt` for floats, never ``e+`` or ``nan``."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return fmt(value)
    return str(value)


def report_link(nb: NotebookResult) -> str:
    """The notebook's name, linked to its report when there is one."""
    esc = html.escape
    name = esc(nb.name)
    label = f"{name} (partial report)" if nb.status != "ok" else name
    return f'<a href="{esc(quote(nb.html))}">{label}</a>' if nb.html else name


def report_row(nb: NotebookResult) -> str:
    """One escaped row of the reports table: link, status, duration and any error."""
    esc = html.escape
    error = f'<pre class="error">{esc(nb.error)}</pre>' if nb.error else ""
    return (
        f'<tr class="{esc(nb.status)}"><td data-label="Notebook">{report_link(nb)}{error}</td>'
        f'<td data-label="Status">{esc(nb.status)}</td>'
        f'<td data-label="Duration" class="num">{nb.execute_s + nb.export_s:.1f} s</td></tr>'
    )


def metric_dump(results: Sequence[NotebookResult]) -> str:
    """Every recorded metric per notebook, inside a collapsed ``<details>``; empty without any."""
    esc = html.escape
    sections = []
    for nb in results:
        if not nb.metrics:
            continue
        items = "".join(
            f"<li><code>{esc(str(key))}</code> {esc(metric_text(value))}</li>"
            for key, value in nb.metrics.items()
        )
        sections.append(f"<h3>{esc(nb.name)}</h3><ul>{items}</ul>")
    if not sections:
        return ""
    count = sum(len(nb.metrics) for nb in results)
    return (
        f'<details class="dump"><summary>All recorded metrics ({count:,} keys)</summary>\n'
        + "\n".join(sections)
        + "\n</details>"
    )


def interrupted_html(n_finished: int, unfinished: list[str]) -> str:
    """The index page's warning that Ctrl-C cut the run short; empty for a complete run."""
    if not unfinished:
        return ""
    esc = html.escape
    return (
        f'\n<p class="interrupted">This run was interrupted during {esc(unfinished[0])}: '
        f"{n_finished} of {n_finished + len(unfinished)} notebooks finished; not finished: "
        f"{esc(', '.join(unfinished))}. Reports below are from this run only.</p>"
    )


def index_html(results: Sequence[NotebookResult], run: dict[str, Any]) -> str:
    """The index page of a run.

    Parameters
    ----------
    results : sequence of NotebookResult
        One per notebook that finished (ok or failed), in order.
    run : dict
        The run record (``run.json``): ``parameters``, ``unfinished``, ``finished_at``,
        ``git_commit``, ``duration_s``.

    Returns
    -------
    str
        A standalone HTML page with no scripts and no external resources.
    """
    esc = html.escape
    failed = [nb.name for nb in results if nb.status != "ok"]
    ran = f"{len(results) - len(failed)} of {len(results)} notebooks ran" + (
        f"; failed: {', '.join(failed)}" if failed else ""
    )
    warning = interrupted_html(len(results), run["unfinished"])
    # OUT_DIR is the folder this page is in: an absolute path says nothing to a reader
    params = ", ".join(f"{k}={v!r}" for k, v in run["parameters"].items() if k != "OUT_DIR")
    summary = summary_html(
        [(nb.name, nb.html, nb.status, nb.metrics) for nb in results],
        run["parameters"],
        run.get("data"),
    )
    rows = "\n".join(report_row(nb) for nb in results)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>persona reports</title><style>{INDEX_CSS}</style></head>
<body><h1>persona reports</h1>{warning}
{summary}<h2>Reports</h2>
<p class="meta">{esc(ran)}. Parameters: {esc(params)}. Finished {esc(run["finished_at"])},
commit {esc(str(run["git_commit"]))}, {run["duration_s"]:.1f} s in total.</p>
<div class="scroll"><table class="reports stack"><thead><tr><th>Notebook</th><th>Status</th>
<th class="num">Duration</th></tr></thead>
<tbody>
{rows}
</tbody></table></div>
{metric_dump(results)}
</body></html>
"""

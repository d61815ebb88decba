"""What a notebook section needs, and the notebook a run on a team's own logs executes.

A notebook cell says what it needs with cell tags:

- ``needs-truth``: the simulator's ground truth (a truth check, a true value, an oracle);
- ``needs-simulator``: the simulator itself (an online comparison, repeated logging, a
  counterfactual run);
- ``needs-<table>``: a table of the logs, e.g. ``needs-notifications``, ``needs-assignments``.

A tag on a markdown heading cell covers its whole section: every cell up to the next heading of
the same or a higher level. A tag on any other cell covers that cell. When a run reads a folder
of logs (``persona run --data``), `prune_notebook` drops every covered cell whose needs the logs
do not meet (they never carry the truth or the simulator) and replaces each dropped section by
its heading and one line saying what it would need, so the notebook still runs to the end and
the report says what it left out. Cells after a dropped one must therefore not use its names:
a section records its figures with ``metrics.update(...)`` in its own cells.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nbformat

__all__ = ["NEEDS_PREFIX", "cell_needs", "missing_needs", "needs_sentence", "prune_notebook"]

NEEDS_PREFIX = "needs-"
_HEADING = re.compile(r"^(#{1,6})\s")
_WHAT = {
    "truth": "the simulator's true values (logs do not carry them)",
    "simulator": "the simulator itself (it compares or replays policies the logs did not run)",
}


def cell_needs(cell) -> tuple[str, ...]:
    """The needs a cell's tags declare, in tag order (``("truth", "notifications")``)."""
    tags = cell.get("metadata", {}).get("tags", [])
    return tuple(tag[len(NEEDS_PREFIX) :] for tag in tags if tag.startswith(NEEDS_PREFIX))


def missing_needs(needs: Iterable[str], tables: Iterable[str]) -> tuple[str, ...]:
    """The needs that logs holding `tables` do not meet: truth, simulator, absent tables."""
    present = set(tables)
    return tuple(need for need in needs if need in _WHAT or need not in present)


def needs_sentence(missing: Iterable[str]) -> str:
    """One line for a section left out: what it would need.

    Examples
    --------
    >>> needs_sentence(["truth", "notifications"])
    "Not computed on these logs: this section needs the simulator's true values (logs do not \
carry them) and a `notifications` table."
    """
    parts = [_WHAT.get(need, f"a `{need}` table") for need in missing]
    if not parts:
        raise ValueError("needs_sentence needs at least one missing need")
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Not computed on these logs: this section needs {listed}."


def _heading_level(cell) -> int | None:
    if cell.get("cell_type") != "markdown":
        return None
    match = _HEADING.match(cell.get("source", ""))
    return len(match.group(1)) if match else None


def _heading_only(cell):
    """A copy of a markdown heading cell with its heading line alone."""
    copy = nbformat.from_dict(dict(cell))
    copy["source"] = cell["source"].splitlines()[0]
    return copy


def prune_notebook(nb, tables: Iterable[str]):
    """The notebook to execute on logs holding `tables`: unmet sections and cells left out.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (not modified).
    tables : iterable of str
        The tables the logs hold.

    Returns
    -------
    nbformat.NotebookNode
        A copy in which every cell whose needs are not met is gone; a section's heading stays,
        followed by a markdown cell with `needs_sentence`.
    """
    tables = tuple(tables)
    out = nbformat.from_dict(dict(nb))
    kept, skip_level = [], None
    for cell in nb.cells:
        level = _heading_level(cell)
        if skip_level is not None:
            if level is None or level > skip_level:
                continue
            skip_level = None
        missing = missing_needs(cell_needs(cell), tables)
        if not missing:
            kept.append(cell)
            continue
        if level is not None:
            kept.append(_heading_only(cell))
            line = nbformat.v4.new_markdown_cell(needs_sentence(missing))
            line["id"] = f"needs-{len(kept)}"  # deterministic: same input, same notebook
            kept.append(line)
            skip_level = level
    out.cells = kept
    return out

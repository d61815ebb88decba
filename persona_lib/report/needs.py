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

__all__ = [
    "NEEDS_PREFIX",
    "cell_needs",
    "missing_needs",
    "needs_markdown",
    "needs_rows",
    "needs_sentence",
    "prune_notebook",
]

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


def _article(word: str) -> str:
    return "an" if word[:1] in ("a", "e", "i", "o", "u") else "a"


def needs_sentence(missing: Iterable[str]) -> str:
    """One line for a section left out: what it would need.

    Examples
    --------
    >>> needs_sentence(["truth", "notifications"])
    "Not computed on these logs: this section needs the simulator's true values (logs do not \
carry them) and a `notifications` table."
    """
    parts = [_WHAT.get(need, f"{_article(need)} `{need}` table") for need in missing]
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


_REQUIRE = re.compile(r"\.require\(([^)]*)\)")


def _required(nb) -> tuple[str, ...]:
    """The tables a notebook requires as a whole: the names in its ``.require(...)`` call.

    A call inside a tagged section guards that section only (interactive runs are not pruned)
    and does not count.
    """
    for cell in prune_notebook(nb, ()).cells:
        match = _REQUIRE.search(cell.get("source", "")) if cell.cell_type == "code" else None
        if match:
            return tuple(re.findall(r'"([a-z_]+)"', match.group(1).split("who=")[0]))
    return ()


def needs_rows(paths: Iterable) -> list[dict[str, str]]:
    """What each notebook and each of its sections needs, read from the notebooks' tags.

    Returns one row per notebook (``section`` empty: the tables it always needs, named by the
    ``.require(...)`` call of an untagged cell) and one per section with tagged cells (its
    heading; the needs of the section and of its tagged cells together), with ``needs`` in
    words.
    """
    rows = []
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        name = getattr(path, "stem", str(path))
        required = ", ".join(f"`{t}`" for t in _required(nb)) or "nothing beyond its sections'"
        rows.append({"notebook": name, "section": "", "needs": required})
        heading = ""
        for cell in nb.cells:
            if _heading_level(cell) is not None:
                heading = cell.source.splitlines()[0].lstrip("#").strip()
            needs = cell_needs(cell)
            if not needs:
                continue
            words = [
                {"truth": "simulator's truth", "simulator": "the simulator"}.get(n, f"`{n}`")
                for n in needs
            ]
            last = rows[-1]
            if last["notebook"] == name and last["section"] == heading and heading:
                merged = [*last["needs"].split(", "), *words]
                last["needs"] = ", ".join(dict.fromkeys(merged))  # one row per section
            else:
                rows.append({"notebook": name, "section": heading, "needs": ", ".join(words)})
    return rows


def needs_markdown(paths: Iterable) -> str:
    """`needs_rows` as the README's markdown table."""
    lines = ["| notebook | section | needs |", "| --- | --- | --- |"]
    for row in needs_rows(paths):
        section = row["section"] or "(every section)"
        lines.append(f"| {row['notebook']} | {section} | {row['needs']} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m persona_lib.report.needs notebooks/*.ipynb
    import sys
    from pathlib import Path

    print(needs_markdown(sorted(Path(p) for p in sys.argv[1:])))

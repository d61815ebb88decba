"""Sections that need the truth, the simulator or a missing table are left out of runs on logs."""

import nbformat
import pytest

from persona_lib.report.needs import (
    cell_needs,
    missing_needs,
    needs_markdown,
    needs_rows,
    needs_sentence,
    prune_notebook,
)


def _notebook():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# Title"),
        code("DATA = ''", metadata={"tags": ["parameters"]}),
        md("## 1. Funnel"),
        code("funnel = 1"),
        code("check = truth", metadata={"tags": ["needs-truth"]}),
        md("## 2. Online", metadata={"tags": ["needs-simulator"]}),
        code("online = 2"),
        md("### 2.1 Detail"),
        code("detail = 3"),
        md("## 3. Pushes", metadata={"tags": ["needs-notifications", "needs-truth"]}),
        code("pushes = 4"),
        md("## 4. Headline figures"),
        code("record = 5"),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def test_tags_say_what_a_cell_needs():
    nb = _notebook()
    assert cell_needs(nb.cells[4]) == ("truth",)
    assert cell_needs(nb.cells[9]) == ("notifications", "truth")
    assert cell_needs(nb.cells[1]) == ()
    assert missing_needs(["truth", "simulator", "billing", "users"], ["users"]) == (
        "truth", "simulator", "billing",
    )  # fmt: skip


def test_unmet_sections_become_their_heading_and_one_line():
    nb = _notebook()
    pruned = prune_notebook(nb, ["events", "users"])
    sources = [c.source for c in pruned.cells]
    assert "check = truth" not in sources  # a tagged cell inside a kept section goes alone
    assert "funnel = 1" in sources and "record = 5" in sources
    assert "online = 2" not in sources and "detail = 3" not in sources  # the subsection too
    assert "pushes = 4" not in sources
    i = sources.index("## 2. Online")
    assert sources[i + 1] == (
        "Not computed on these logs: this section needs the simulator itself (it compares or "
        "replays policies the logs did not run)."
    )
    j = sources.index("## 3. Pushes")
    assert "a `notifications` table" in sources[j + 1] and "true values" in sources[j + 1]
    assert sources[-2:] == ["## 4. Headline figures", "record = 5"]
    assert len(nb.cells) == 13  # the input is not modified


def test_met_needs_keep_everything_but_truth_and_simulator():
    pruned = prune_notebook(_notebook(), ["events", "notifications"])
    sources = [c.source for c in pruned.cells]
    assert "pushes = 4" not in sources  # it needs the truth as well
    assert prune_notebook(_notebook(), ["notifications"]).cells[-1].source == "record = 5"


def test_pruning_is_deterministic():
    a = nbformat.writes(prune_notebook(_notebook(), ["events"]))
    b = nbformat.writes(prune_notebook(_notebook(), ["events"]))
    assert [c["id"] for c in nbformat.reads(a, 4).cells if c["id"].startswith("needs-")] == [
        c["id"] for c in nbformat.reads(b, 4).cells if c["id"].startswith("needs-")
    ]


def test_needs_sentence_needs_something():
    with pytest.raises(ValueError):
        needs_sentence([])


def test_needs_sentence_articles():
    assert needs_sentence(["assignments"]).endswith("needs an `assignments` table.")
    both = needs_sentence(["outcomes", "billing"])
    assert both.endswith("an `outcomes` table and a `billing` table.")


def test_needs_rows_read_the_tags_and_the_required_tables(tmp_path):
    nb = _notebook()
    nb.cells[1].source = 'DATA = ""\nworld = open_world(DATA).require("users", "titles", who="x")'
    path = tmp_path / "09_demo.ipynb"
    nbformat.write(nb, path)
    rows = needs_rows([path])
    assert rows[0] == {"notebook": "09_demo", "section": "", "needs": "`users`, `titles`"}
    assert {"notebook": "09_demo", "section": "1. Funnel", "needs": "simulator's truth"} in rows
    assert {"notebook": "09_demo", "section": "2. Online", "needs": "the simulator"} in rows
    assert {
        "notebook": "09_demo", "section": "3. Pushes", "needs": "`notifications`, simulator's truth"
    } in rows  # fmt: skip
    table = needs_markdown([path]).splitlines()
    assert table[2] == "| 09_demo | (every section) | `users`, `titles` |"


def test_a_require_call_inside_a_tagged_section_guards_only_that_section(tmp_path):
    nb = _notebook()
    nb.cells[10].source = 'world.require("notifications", who="pushes")\npushes = 4'
    path = tmp_path / "09_demo.ipynb"
    nbformat.write(nb, path)
    assert needs_rows([path])[0]["needs"] == "nothing beyond its sections'"
    nb.cells[3].source = 'world = world.require("users", who="x")'  # in an untagged section
    nbformat.write(nb, path)
    assert needs_rows([path])[0]["needs"] == "`users`"

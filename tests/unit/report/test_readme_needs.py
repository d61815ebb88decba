"""README's table of what each notebook section needs is the one the notebooks' tags give."""

from pathlib import Path

from persona_lib.report.needs import needs_markdown

ROOT = Path(__file__).resolve().parents[3]
START, END = "<!-- needs-table -->", "<!-- /needs-table -->"


def test_readme_needs_table_matches_the_notebook_tags():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index(START) + len(START) : text.index(END)].strip()
    expected = needs_markdown(sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    assert block == expected, (
        "README's needs table is stale; regenerate it with "
        "`python -m persona_lib.report.needs notebooks/*.ipynb`"
    )

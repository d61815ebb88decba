"""Nothing that learns from logs reads the simulator's truth: ``persona_lib.models`` and
``persona_lib.signals`` never touch a ``.truth`` attribute (``world.truth``, ``world.truth.tables``,
``truth.fit(...)``), nor a table that only the truth holds. The truth judges a choice (in
``evaluation``, ``experiments``, the notebooks), it never makes one. Imports of the simulator
are already excluded by the layers (``test_layers.py``: ``sim`` sits above ``models``)."""

import ast
from pathlib import Path

import pytest

import persona_lib

PACKAGE_DIR = Path(persona_lib.__file__).parent
LEARNERS = sorted(
    p for package in ("models", "signals") for p in (PACKAGE_DIR / package).rglob("*.py")
)
# truth-only attributes and tables: World.truth, Truth.latent, and the hazard table that only the
# simulator knows (the log tables users, titles, artworks, notifications exist in real logs too)
TRUTH_ATTRIBUTES = {"truth", "latent"}
TRUTH_TABLES = {"churn_hazard"}


def truth_reads(source: str) -> list[str]:
    """Where a module's code reads the truth: attribute accesses and truth-only table names
    used as strings in code (docstrings and comments are not code)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in TRUTH_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and node.value in TRUTH_TABLES
        ):
            found.append(f"line {node.lineno}: {node.value!r}")
    return sorted(found)


def test_the_check_finds_truth_reads():
    assert truth_reads("p = world.truth.tables['churn_hazard']") == [
        "line 1: 'churn_hazard'",
        "line 1: .truth",
    ]
    assert truth_reads("taste = w.truth.latent.genre") == ["line 1: .latent", "line 1: .truth"]
    assert truth_reads('"""Reads no churn_hazard."""\nx = events.ts') == []


@pytest.mark.parametrize("path", LEARNERS, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_learners_never_read_the_truth(path):
    reads = truth_reads(path.read_text(encoding="utf-8"))
    assert not reads, f"{path.relative_to(PACKAGE_DIR)} reads the truth: {reads}"

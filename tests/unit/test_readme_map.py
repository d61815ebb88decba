"""Every module the README names exists: the Map table's library column and every dotted
``persona_lib.*`` reference resolve to a module or package of persona_lib."""

import importlib.util
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _resolves(dotted: str) -> bool:
    """True if `dotted` names a persona_lib module, or an attribute of one."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if _spec(name) is not None:
            if end == len(parts):
                return True
            module = importlib.import_module(name)
            return hasattr(module, parts[end])
    return False


def _spec(name: str):
    """``find_spec`` that says None (not raises) when a parent is a module, not a package."""
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None


def map_modules() -> list[str]:
    """Dotted module names of the Map table's library column: `pkg` and `pkg` (mod, mod)."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Map") : text.index("\n## ", text.index("## Map") + 1)]
    names = []
    for row in table.splitlines():
        cells = [c.strip() for c in row.split(" | ")]
        if len(cells) < 4 or not cells[0].startswith("| `0"):
            continue
        for package, inner in re.findall(r"`([\w.]+)`(?: \(([^)]*)\))?", cells[2]):
            names.append(package)
            names += [f"{package}.{m.strip()}" for m in inner.split(",") if inner]
    return names


def test_the_map_names_modules_that_exist():
    names = map_modules()
    assert len(names) > 30
    missing = [n for n in names if _spec(f"persona_lib.{n}") is None]
    assert not missing, missing


def test_every_dotted_reference_in_the_readme_resolves():
    text = README.read_text(encoding="utf-8")
    refs = sorted(set(re.findall(r"persona_lib(?:\.\w+)+", text)))
    assert refs
    unresolved = [r for r in refs if not _resolves(r)]
    assert not unresolved, unresolved

"""persona_lib is layered: a module may import its own layer or lower ones, never a higher one."""

import ast
from pathlib import Path

import pytest

import persona_lib

LAYERS = {
    "data": 0,
    "signals": 1,
    "models": 2,
    "evaluation": 3,
    "experiments": 3,
    "revenue": 3,
    "report": 4,
}
PACKAGE_DIR = Path(persona_lib.__file__).parent


def imported_layers(path: Path) -> set[str]:
    """Top-level persona_lib subpackages that a module imports (absolute or relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = path.relative_to(PACKAGE_DIR).parts
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = list(own[:-1])[: len(own) - 1 - (node.level - 1)]
                names = [".".join(["persona_lib", *base, *(node.module or "").split(".")])]
            elif node.module:
                names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "persona_lib" and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


def modules():
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if p.parent != PACKAGE_DIR)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_imports_point_down(path):
    layer = path.relative_to(PACKAGE_DIR).parts[0]
    upward = {name for name in imported_layers(path) if LAYERS[name] > LAYERS[layer]}
    assert not upward, f"{path.name} ({layer}) imports higher layers {sorted(upward)}"


def test_every_subpackage_has_a_layer():
    packages = {p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(LAYERS)

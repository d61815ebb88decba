"""persona_lib is layered: a module imports its own layer or lower ones, never a higher one.

Layers, bottom up: ``data`` and ``datasets``; ``signals``; ``models``; ``sim``, ``evaluation``,
``experiments``, ``revenue``; ``report``. ``sim`` sits above ``models`` on purpose: nothing that
learns from logs can import the simulator or its truth. Inside ``models`` the families import in
one direction too (``FAMILIES``). The import graph has no cycle (deferred imports inside functions
included), and no module imports another module's private (``_``) name.
"""

import ast
from pathlib import Path

import pytest

import persona_lib

LAYERS = {
    "data": 0,
    "datasets": 0,
    "signals": 1,
    "models": 2,
    "sim": 3,
    "evaluation": 3,
    "experiments": 3,
    "revenue": 3,
    "report": 4,
}
# models' families, bottom up: retention models know nothing of recommenders; the homepage is
# built from recommenders; the artwork policy chooses images on the homepage's pages (so it sits
# above the homepage rather than beside it); sales models use recommenders and retention.
FAMILIES = {
    "frames": 0,
    "retention": 1,
    "recommenders": 2,
    "homepage": 3,
    "sales": 3,
    "artwork": 4,
}
PACKAGE_DIR = Path(persona_lib.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(module, imported names) for every import of persona_lib in a file, wherever it sits."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((module, tuple(alias.name for alias in node.names)))
    return [(m, names) for m, names in found if m.split(".")[0] == "persona_lib"]


def modules() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


MODULES = {module_name(p): p for p in modules()}


def resolve(module: str, names: tuple[str, ...]) -> set[str]:
    """The persona_lib modules an import loads: the module, and any submodule it names."""
    targets = {module} if module in MODULES else set()
    targets |= {f"{module}.{name}" for name in names if f"{module}.{name}" in MODULES}
    return targets


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def family_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "models" and parts[2] in FAMILIES else None


SUBMODULES = [p for p in modules() if p.parent != PACKAGE_DIR]


@pytest.mark.parametrize("path", SUBMODULES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_imports_point_down(path):
    layer = layer_of(module_name(path))
    upward = {
        layer_of(m)
        for m, _ in imports_of(path)
        if layer_of(m) and LAYERS[layer_of(m)] > LAYERS[layer]
    }
    assert not upward, f"{path.name} ({layer}) imports higher layers {sorted(upward)}"


@pytest.mark.parametrize(
    "path",
    [p for p in SUBMODULES if family_of(module_name(p))],
    ids=lambda p: str(p.relative_to(PACKAGE_DIR)),
)
def test_model_families_import_downwards(path):
    family = family_of(module_name(path))
    upward = {
        family_of(m)
        for m, _ in imports_of(path)
        if family_of(m) and FAMILIES[family_of(m)] >= FAMILIES[family] and family_of(m) != family
    }
    assert not upward, f"{path.name} (models.{family}) imports models.{sorted(upward)}"


def test_every_subpackage_has_a_layer_and_every_family_a_rank():
    packages = {p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS)
    families = {p.name for p in (PACKAGE_DIR / "models").iterdir() if (p / "__init__.py").exists()}
    assert families | {"frames"} == set(FAMILIES)


def import_graph() -> dict[str, set[str]]:
    """Module -> the persona_lib modules it imports (top-level and deferred alike). Importing a
    submodule runs its packages' ``__init__`` too, so those count as imported."""
    graph = {}
    for name, path in MODULES.items():
        targets = set()
        for module, names in imports_of(path):
            for target in resolve(module, names):
                parts = target.split(".")
                parents = {".".join(parts[:i]) for i in range(2, len(parts))}
                targets |= {target} | (parents & set(MODULES))
        graph[name] = targets - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a list of nodes, or None (iterative DFS)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child) :] + [child]
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(sorted(graph.get(child, ())))))
                path.append(child)
    return None


def test_find_cycle_by_hand():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    graph = import_graph()
    # a package's __init__ imports its own modules, which import the package back only as the
    # parent of a sibling: that edge is how Python loads packages, not a cycle of ours
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_no_private_names_imported_from_other_modules():
    private = []
    for name, path in MODULES.items():
        for module, names in imports_of(path):
            if module == name:
                continue
            private += [f"{name}: {module}.{n}" for n in names if n.startswith("_")]
    assert not private, private

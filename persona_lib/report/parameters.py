"""Check ``persona run -p NAME VALUE`` against the notebooks' ``parameters`` cells.

A name is known if a selected notebook's cell tagged ``parameters`` assigns it (or the runner
passes it: ``PRESET``, ``SEED``, ``OUT_DIR``); a value must have the type of that default (an int
default takes ints, a float default ints or floats, a bool default bools, a str default strings,
a None or non-literal default anything). The cells are parsed with `ast`, never executed.
"""

from __future__ import annotations

import ast
import difflib
import io
import json
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "RUNNER_PARAMETERS",
    "NotLiteral",
    "check_parameters",
    "literal_assignments",
    "parameter_defaults",
]

RUNNER_PARAMETERS = ("PRESET", "SEED", "OUT_DIR")  # run_notebooks passes these to every notebook


@dataclass(frozen=True)
class NotLiteral:
    """A parameter assigned an expression that is not a literal, kept as its source text."""

    source: str


def _comments(source: str) -> dict[int, str]:
    """Line number -> text of the comment on that line."""
    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def literal_assignments(source: str) -> dict[str, tuple[Any, str]]:
    """``NAME -> (value, comment)`` of a cell's top-level assignments, read with `ast`.

    Values are `ast.literal_eval`-ed, never executed; an expression that is not a literal gives
    a `NotLiteral` with its source. ``comment`` is the comment on the assignment's last line.
    The CLI's ``-p`` checks and the reports' parameters table both read cells through this.

    Raises
    ------
    SyntaxError
        If the cell is not valid Python.

    Examples
    --------
    >>> literal_assignments("K = 10  # list length")
    {'K': (10, 'list length')}
    >>> literal_assignments("NAME = f(1)")
    {'NAME': (NotLiteral(source='f(1)'), '')}
    """
    comments, found = _comments(source), {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            value = NotLiteral(ast.get_source_segment(source, node.value) or "")
        comment = comments.get(node.end_lineno, "")
        found.update({t.id: (value, comment) for t in targets if isinstance(t, ast.Name)})
    return found


def parameter_defaults(path: Path) -> dict[str, Any]:
    """The parameters (name -> default) of the notebook's cell tagged ``parameters``."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        source = tagged[0]["source"] if tagged else ""
        text = "".join(source) if isinstance(source, list) else source
        return {name: value for name, (value, _) in literal_assignments(text).items()}
    except SyntaxError as exc:
        raise ValueError(
            f"the parameters cell of {path} is not valid Python: {exc.msg} (line {exc.lineno})"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
        raise ValueError(f"cannot read notebook {path}: {reason}") from None


def _accepts(default: Any, value: Any) -> bool:
    """True if a ``-p`` value (a YAML scalar) may replace `default` (int -> float is fine)."""
    if default is None or isinstance(default, NotLiteral):
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return type(value) is type(default)


def _unknown_parameter(name: str, defaults: dict[str, dict[str, Any]], others: list[str]) -> str:
    """The message for a ``-p`` name that no selected notebook's parameters cell assigns."""
    known = {n.upper(): n for params in defaults.values() for n in params}
    known.update({n: n for n in RUNNER_PARAMETERS})
    close = difflib.get_close_matches(name.upper(), list(known), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(known[c] for c in close)}?)" if close else ""
    where = f"; {', '.join(others)}, left out by --only, assign it" if others else ""
    return (
        f"unknown parameter {name!r}{hint}: no cell tagged 'parameters' in "
        f"{', '.join(defaults)} assigns it{where}"
    )


def _wrong_type(name: str, value: Any, mismatched: dict[str, Any]) -> str:
    """The message for a ``-p`` value whose type does not fit the notebooks' defaults."""
    expected = "/".join(sorted({type(d).__name__ for d in mismatched.values()}))
    stems: dict[str, list[str]] = {}
    for stem, default in mismatched.items():
        stems.setdefault(repr(default), []).append(stem)
    where = "; ".join(f"{name} = {d} in {', '.join(s)}" for d, s in stems.items())
    if expected == "str":
        hint = f""" (quote a string: -p {name} "'...'")"""
    else:
        hint = "" if expected in {"int", "float", "bool"} else "; -p sets scalars only"
    return (
        f"parameter {name} expects {expected} ({where}), "
        f"got {value!r} ({type(value).__name__}){hint}"
    )


def check_parameters(
    paths: Sequence[Path], parameters: dict[str, Any], others: Sequence[Path] = ()
) -> None:
    """Check ``-p`` names and value types against the notebooks' ``parameters`` cells.

    Parameters
    ----------
    paths : sequence of Path
        The notebooks selected to run; a name is known if one of their parameters cells
        assigns it. ``PRESET``, ``SEED`` and ``OUT_DIR`` are always known.
    parameters : dict
        Name to parsed value (see `parse_scalar`).
    others : sequence of Path, optional
        Notebooks left out by ``--only``, named in the message when they assign a name.

    Raises
    ------
    ValueError
        One line naming the parameter, the value, the expected type and the notebooks, or
        for an unknown name its close matches and the notebooks searched.

    Examples
    --------
    >>> check_parameters(discover_notebooks(), {"K": "ten"})  # doctest: +SKIP
    ValueError: parameter K expects int (K = 10 in 02_recommenders), got 'ten' (str)
    """
    checked = [n for n in parameters if n not in RUNNER_PARAMETERS]
    if not checked:
        return
    defaults = {p.stem: parameter_defaults(p) for p in paths}
    for name in checked:
        value = parameters[name]
        defining = {stem: params[name] for stem, params in defaults.items() if name in params}
        if not defining:
            rest = [p.stem for p in others if name in parameter_defaults(p)]
            raise ValueError(_unknown_parameter(name, defaults, rest))
        mismatched = {s: d for s, d in defining.items() if not _accepts(d, value)}
        if mismatched:
            raise ValueError(_wrong_type(name, value, mismatched))

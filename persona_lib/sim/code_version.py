"""Which code made a cached world: a SHA-256 of the simulator's source files.

The world cache (`world.load_or_simulate`) and the event-store cache (`event_store.ensure_store`)
record `code_manifest()` in their ``manifest.json`` and reuse a cache only when its format, its
config *and* this code hash match, so a world simulated by older code is rebuilt, not read.

The hash covers every module that can decide what a cached world or store holds: all of
``persona_lib.sim`` (the simulator, the world and store layouts) and all of ``persona_lib.data``
(schema, keyed random numbers, the default serving policy, business constants, the Parquet and
JSON writers), listed by walking the two packages, so a new module cannot be left out. It does
not cover the sales simulator (``sim/sales``): its tables are never cached; nor ``sim/export.py``:
it copies a finished world's logs into a folder and decides nothing a world holds (so
``persona_lib.sim`` imports it lazily, on first use of ``export_logs``). A test checks that
every module a simulation imports is hashed.

Each file is hashed by its path relative to the source tree (``persona_lib/sim/world.py``) and
its bytes with ``\\r\\n`` read as ``\\n``: the hash does not depend on where the tree is checked
out, on the working directory or on Windows line endings.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding ``persona_lib/``
HASHED_PACKAGES = ("persona_lib/data", "persona_lib/sim")
NOT_HASHED = (
    "persona_lib/sim/sales/",
    "persona_lib/sim/code_version.py",
    "persona_lib/sim/export.py",
    "persona_lib/sim/source.py",
)


def _simulator_files(root: Path) -> tuple[str, ...]:
    """Every module of ``persona_lib.data`` and ``persona_lib.sim`` but the sales simulator (its
    tables are never cached), the log export (it decides nothing a world holds) and this module
    (it computes the key and writes nothing)."""
    names = (
        path.relative_to(root).as_posix()
        for package in HASHED_PACKAGES
        for path in (root / package).rglob("*.py")
    )
    return tuple(sorted(n for n in names if not n.startswith(NOT_HASHED)))


SIMULATOR_FILES = _simulator_files(SOURCE_ROOT)


def hash_source_files(root: str | os.PathLike, files: Iterable[str]) -> str:
    """SHA-256 (hex) of source files, by relative name and content, in sorted name order.

    Each file adds the line ``<name> NUL <sha256 of its bytes>`` with ``\\r\\n`` turned into
    ``\\n`` first, so a file's name is part of the hash and no two lists of files collide by
    concatenation.

    Parameters
    ----------
    root : the directory the names are relative to.
    files : POSIX-style names relative to ``root``, e.g. ``"persona_lib/sim/world.py"``.

    Returns
    -------
    64 lowercase hex digits.

    Examples
    --------
    >>> hash_source_files(SOURCE_ROOT, SIMULATOR_FILES) == simulator_code_hash()
    True
    """
    digest = hashlib.sha256()
    for name in sorted(files):
        content = (Path(root) / name).read_bytes().replace(b"\r\n", b"\n")
        digest.update(f"{name}\0{hashlib.sha256(content).hexdigest()}\n".encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def simulator_code_hash() -> str:
    """SHA-256 of `SIMULATOR_FILES` under `SOURCE_ROOT` (read once per process)."""
    return hash_source_files(SOURCE_ROOT, SIMULATOR_FILES)


def code_manifest() -> dict[str, Any]:
    """The ``"code"`` entry of a manifest: ``{"simulator_sha256": ..., "files": [...]}``.

    Relative names only (no machine paths, no timestamps), so manifests stay byte-identical.
    """
    return {"simulator_sha256": simulator_code_hash(), "files": sorted(SIMULATOR_FILES)}

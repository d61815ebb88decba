"""Which code made a cached world: a SHA-256 of the simulator's source files.

The world cache (`world.load_or_simulate`) and the event-store cache (`event_store.ensure_store`)
record `code_manifest()` in their ``manifest.json`` and reuse a cache only when its format, its
config *and* this code hash match, so a world simulated by older code is rebuilt, not read.

The hash covers every module that decides what a cached world or store holds: the simulator's
own modules and everything of ``persona_lib.data`` they import (schema, keyed random numbers,
the default serving policy, the Parquet and JSON writers, the world and store layouts). It does
not cover the sales simulator (`simulate_sales`, ``sales_*``): its tables are never cached. A
test checks that this list equals the modules a simulation actually imports, so a new simulator
module cannot be left out.

Each file is hashed by its path relative to the source tree (``persona_lib/data/world.py``) and
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
SIMULATOR_FILES = tuple(
    f"persona_lib/data/{name}.py"
    for name in (
        "event_store",
        "io",
        "keyed_random",
        "policies",
        "schema",
        "simulate",
        "simulate_billing",
        "simulate_config",
        "simulate_day",
        "simulate_merge",
        "simulate_population",
        "simulate_sessions",
        "world",
    )
)


def hash_source_files(root: str | os.PathLike, files: Iterable[str]) -> str:
    """SHA-256 (hex) of source files, by relative name and content, in sorted name order.

    Each file adds the line ``<name> NUL <sha256 of its bytes>`` with ``\\r\\n`` turned into
    ``\\n`` first, so a file's name is part of the hash and no two lists of files collide by
    concatenation.

    Parameters
    ----------
    root : the directory the names are relative to.
    files : POSIX-style names relative to ``root``, e.g. ``"persona_lib/data/world.py"``.

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

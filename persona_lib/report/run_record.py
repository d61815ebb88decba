"""run.json: what a run used (data, parameters, packages, commit) and what each notebook did.

`data_record` validates a folder of logs in a child process (its memory is given back before
the notebooks run) or names the simulated world; `run_record` assembles the JSON-safe record.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from persona_lib.data.folder import validate_folder

__all__ = ["KEY_PACKAGES", "data_record", "git_commit", "package_versions", "run_record"]

KEY_PACKAGES = (
    "persona",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "implicit",
    "lightgbm",
    "pyarrow",
    "altair",
    "vl-convert-python",
    "papermill",
    "nbconvert",
    "nbformat",
    "ipykernel",
)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape the results."""
    versions: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(folder: Path) -> str | None:
    """``git rev-parse HEAD`` of the folder's repository, or None outside git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def data_record(data: str | os.PathLike | None, preset: str, seed: int) -> dict[str, Any]:
    """run.json's ``data``: the folder as given (never made absolute) and its tables' rows,
    layout and SHA-256 (validating it: a `SchemaError` here comes before anything is written),
    or the simulated world's preset and seed."""
    if data is None:
        return {"source": "simulated", "preset": preset, "seed": seed}
    return {"source": "folder", "folder": os.fspath(data), **_validated(data)}


def _validated(data: str | os.PathLike) -> dict[str, Any]:
    """`validate_folder(data).to_dict()` in a child process: validating reads every table, and
    the memory that takes (pyarrow's pool, pandas' strings) would otherwise stay with this
    process while the notebooks run. Its `SchemaError` comes back as is."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_summary_of, os.fspath(data)).result()


def _summary_of(data: str) -> dict[str, Any]:
    return validate_folder(data).to_dict()


def run_record(
    base: dict[str, Any],
    data: dict[str, Any],
    results: list,
    unfinished: list[str],
    folder: Path,
    started: float,
    duration_s: float,
) -> dict[str, Any]:
    """The JSON-safe content of run.json; `unfinished` names the notebooks a Ctrl-C cut off."""
    return {
        "status": "interrupted" if unfinished else "complete",
        "complete": not unfinished,
        "unfinished": unfinished,
        "data": data,
        "parameters": base,
        "seeds": {"SEED": base.get("SEED")},
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(duration_s, 3),
        "git_commit": git_commit(folder),
        "packages": package_versions(),
        "notebooks": [nb.to_dict() for nb in results],
        "failed": [nb.name for nb in results if nb.status != "ok"],
    }

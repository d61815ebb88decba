"""The run every real-data notebook test starts from: a public set imported, notebooks run on it."""

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from persona_lib.report.runner import RunResult, run_notebooks


def run_on_import(
    tmp_path_factory,
    name: str,
    present: Path,
    importer: Callable,
    source: Path,
    only: Sequence[str],
    **import_options,
) -> tuple[Path, RunResult, Path]:
    """Skip unless ``present`` exists; import ``source`` with ``importer`` into a temporary
    ``logs`` folder and run the notebooks ``only`` on it (smoke preset, seed 0, a world cache of
    its own that a run on logs should leave empty: ``<run folder>/../unused-cache``).

    Returns the logs folder, the `RunResult` and the run's output folder.
    """
    if not present.exists():
        pytest.skip(f"{present} is absent")
    tmp = tmp_path_factory.mktemp(name)
    importer(source, tmp / "logs", **import_options)
    run = run_notebooks(
        preset="smoke", seed=0, out_dir=tmp / "run", only=list(only),
        parameters={"DATA_DIR": str(tmp / "unused-cache")}, progress=False, data=tmp / "logs",
    )  # fmt: skip
    return tmp / "logs", run, tmp / "run"


def simulated_nothing(run_dir: Path) -> bool:
    """Whether a run on logs left its world cache (beside ``run_dir``) without a world."""
    return not any((run_dir.parent / "unused-cache").glob("*/manifest.json"))

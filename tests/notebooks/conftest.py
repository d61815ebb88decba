"""The smoke run every notebook test reads: all notebooks on the smoke preset, once a session.

Its world cache (``smoke_data_dir``) is kept, and each notebook's `NotebookResult.worlds` names
the cached worlds it opened there, so the tests on exported logs reuse both the simulated run's
figures and its worlds instead of running every notebook again.

Under pytest-xdist the workers share one smoke run: the first worker to ask for it runs it (its
notebooks two at a time) in a folder beside the workers' own temporary folders, writes what it
returned to ``smoke_run.json`` (atomically, last) and the other workers read that file; a run
that raised leaves ``smoke_run.error`` instead, so no worker waits for a run that will not come.
"""

import json
import os
import sys
import time
from pathlib import Path

import pytest

from persona_lib.report.runner import NotebookResult, RunResult, run_notebooks

sys.path.insert(0, str(Path(__file__).parent))  # own_logs_checks, for the tests beside it

WAIT_S = 3600  # longest a worker waits for another worker's smoke run


def _shared_root(tmp_path_factory) -> Path:
    """A folder every xdist worker of this session sees (the session's own one without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def smoke_data_dir(tmp_path_factory):
    path = _shared_root(tmp_path_factory) / "smoke-data"
    path.mkdir(exist_ok=True)
    return path


def _save(run: RunResult, path: Path) -> None:
    record = {
        "out_dir": run.out_dir, "index": run.index, "run_json": run.run_json,
        "duration_s": run.duration_s, "notebooks": [nb.to_dict() for nb in run.notebooks],
    }  # fmt: skip
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(record), encoding="utf-8")
    partial.replace(path)


def _load(path: Path) -> RunResult:
    record = json.loads(path.read_text(encoding="utf-8"))
    notebooks = tuple(
        NotebookResult(**{**nb, "worlds": tuple(nb["worlds"])}) for nb in record.pop("notebooks")
    )
    return RunResult(notebooks=notebooks, **record)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, smoke_data_dir):
    root = _shared_root(tmp_path_factory)
    done, failed = root / "smoke_run.json", root / "smoke_run.error"
    try:
        (root / "smoke_run.lock").mkdir()  # atomic: exactly one worker gets to run it
    except FileExistsError:
        deadline = time.monotonic() + WAIT_S
        while not done.exists():
            if failed.exists():
                pytest.fail(f"the smoke run failed in another worker: {failed.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no smoke run after {WAIT_S} s: {done} never appeared")
            time.sleep(1.0)
        return _load(done)
    try:
        run = run_notebooks(
            preset="smoke", seed=0, out_dir=root / "smoke-reports",
            parameters={"DATA_DIR": str(smoke_data_dir)}, progress=False,
        )  # fmt: skip
    except BaseException as exc:
        failed.write_text(f"{type(exc).__name__}: {exc}", encoding="utf-8")
        raise
    _save(run, done)
    return run

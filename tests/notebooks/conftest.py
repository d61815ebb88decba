"""The smoke run every notebook test reads: all notebooks on the smoke preset, once a session.

Its world cache (``smoke_data_dir``) is kept, and each notebook's `NotebookResult.worlds` names
the cached worlds it opened there, so the tests on exported logs reuse both the simulated run's
figures and its worlds instead of running every notebook again.
"""

import sys
from pathlib import Path

import pytest

from persona_lib.report.runner import run_notebooks

sys.path.insert(0, str(Path(__file__).parent))  # own_logs_checks, for the tests beside it


@pytest.fixture(scope="session")
def smoke_data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, smoke_data_dir):
    out = tmp_path_factory.mktemp("reports")
    return run_notebooks(
        preset="smoke", seed=0, out_dir=out, parameters={"DATA_DIR": str(smoke_data_dir)},
        progress=False,
    )  # fmt: skip

"""Fixtures shared across the suite, and the guard of the ``real_data`` tests."""

import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from persona_lib.sim import load_preset, simulate

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:  # shared_data, beside this file; appended: never shadows a package
    sys.path.append(TESTS)
from shared_data import FAIL, SHARED_DATA, SKIP, missing_data_message, real_data_decision  # noqa: E402


@pytest.hookimpl(tryfirst=True)  # before the fixtures and skipif markers of the test
def pytest_runtest_setup(item):
    """A ``real_data`` test without ``../shared/data`` skips, or fails when ``CI`` is set."""
    if item.get_closest_marker("real_data") is None:
        return
    decision = real_data_decision(os.environ.get("CI"), SHARED_DATA.is_dir())
    if decision == FAIL:
        pytest.fail(missing_data_message(SHARED_DATA, ci=True), pytrace=False)
    if decision == SKIP:
        pytest.skip(missing_data_message(SHARED_DATA))


@pytest.fixture(scope="session")
def smoke_world():
    """The smoke preset's world, simulated once per test session (about a second)."""
    return simulate(load_preset("smoke"))


@pytest.fixture(scope="session")
def smoke_store(smoke_world, tmp_path_factory):
    """The smoke world as a Parquet store for the SQL engines: events hive-partitioned by day
    (written by pyarrow from the frame, not by the event store), one file per other table."""
    tables = smoke_world.tables
    root = tmp_path_factory.mktemp("smoke_store")
    events = tables["events"].assign(day=tables["events"]["ts"].dt.strftime("%Y-%m-%d"))
    pq.write_to_dataset(
        pa.Table.from_pandas(events, preserve_index=False),
        root / "events",
        partition_cols=["day"],
        basename_template="part-{i}.parquet",
    )
    for name in ("users", "titles", "billing", "notifications"):
        tables[name].to_parquet(root / f"{name}.parquet", index=False)
    return root


@pytest.fixture(scope="session")
def spark_session():
    """The shared local Spark session (``local[2]``); skips when pyspark or Java is missing."""
    from persona_lib.signals.sql.spark_engine import local_session, spark_unavailable

    reason = spark_unavailable()
    if reason:
        pytest.skip(reason)
    return local_session("local[2]")

"""Fixtures shared across the suite."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from persona_lib.sim import load_preset, simulate


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

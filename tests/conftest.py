"""Fixtures shared across the suite."""

import pytest

from persona_lib.data.simulate import simulate
from persona_lib.data.simulate_config import load_preset


@pytest.fixture(scope="session")
def smoke_world():
    """The smoke preset's world, simulated once per test session (about a second)."""
    return simulate(load_preset("smoke"))


@pytest.fixture(scope="session")
def spark_session():
    """The shared local Spark session (``local[2]``); skips when pyspark or Java is missing."""
    from persona_lib.signals.sql.spark_engine import local_session, spark_unavailable

    reason = spark_unavailable()
    if reason:
        pytest.skip(reason)
    return local_session("local[2]")

"""The SQL signals run by Spark over a Parquet store equal DuckDB's on the smoke world.

Same SQL texts (``queries.SPARK`` dialect), same store layout as ``test_duckdb_signals.py``:
every column must have DuckDB's dtype, integers and row order must be equal and floats within
1e-9 (NaN in the same places). Skipped unless pyspark is installed and ``java`` runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT64

from persona_lib.signals.sql import DuckDBSignals

pytestmark = pytest.mark.spark

CUTOFFS = ["2025-01-02", "2025-01-20", "2025-01-29 13:45:10.123"]
# plain columns, derived keys (hour, weekday and day are dialect-sensitive) and joined ones;
# several keys per query because each Spark query costs seconds
FUNNEL_BY = [["row_id", "hour"], ["weekday", "day"], ["device", "language", "title_language"]]


@pytest.fixture(scope="module")
def spark(spark_session):
    return spark_session


@pytest.fixture(scope="module")
def root(smoke_store):
    return smoke_store


@pytest.fixture(scope="module")
def engines(spark, root):
    from persona_lib.signals.sql import SparkSignals

    # two shuffle partitions: aggregation runs in parallel, yet the test stays quick
    with SparkSignals(root, spark=spark, shuffle_partitions=2) as ours:
        with DuckDBSignals(root) as theirs:
            yield ours, theirs


def same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Same columns, dtypes and rows; floats at FLOAT64 tolerances (Spark and DuckDB sum in
    different orders; NaN where NaN), the rest equal."""
    assert list(ours.columns) == list(theirs.columns)
    assert len(ours) == len(theirs)
    for name in ours.columns:
        a, b = ours[name], theirs[name]
        assert a.dtype == b.dtype, (name, a.dtype, b.dtype)
        if pd.api.types.is_float_dtype(b):
            np.testing.assert_allclose(
                a.to_numpy("float64"), b.to_numpy("float64"), **FLOAT64, err_msg=name
            )
        else:
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy(), err_msg=name)


def test_funnel_matches_duckdb(engines):
    ours, theirs = engines
    for by in FUNNEL_BY:
        same(ours.compute_funnel(by), theirs.compute_funnel(by))


def test_session_summary_and_hours_by_source_match_duckdb(engines):
    ours, theirs = engines
    same(ours.session_summary(), theirs.session_summary())
    same(ours.hours_by_source(), theirs.hours_by_source())


@pytest.mark.parametrize("cutoff", CUTOFFS)
def test_member_features_and_churn_labels_match_duckdb(engines, cutoff):
    ours, theirs = engines
    same(ours.member_features(cutoff), theirs.member_features(cutoff))
    same(ours.churn_labels(cutoff), theirs.churn_labels(cutoff))


def test_query_runs_spark_sql_and_rejects_bad_input(engines):
    ours, _ = engines
    assert ours.query("SELECT COUNT(*) AS n FROM events")["n"].iloc[0] > 0
    with pytest.raises(ValueError, match="unknown funnel group keys"):
        ours.compute_funnel("country")
    with pytest.raises(ValueError, match="not a whole millisecond"):
        ours.member_features("2025-01-20 00:00:00.000001")

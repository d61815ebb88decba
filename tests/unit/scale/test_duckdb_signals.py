"""The SQL signals run by DuckDB over a Parquet store equal the pandas signals on the smoke world.

The store is written here in the event-store layout (events hive-partitioned by day, one Parquet
file per other table). Integer columns must be equal, floats equal to float64 precision
(`FLOAT64`: the engines sum in different orders) with NaN in the same places, categories and
timestamps with the same dtypes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import FLOAT64

from persona_lib.signals import compute_funnel, hours_by_source, session_summary
from persona_lib.signals.features import FEATURE_TABLES, FEATURES, churn_labels, member_features
from persona_lib.signals.sql import SPARK, DuckDBSignals, funnel_sql, member_features_sql

CUTOFFS = ["2025-01-02", "2025-01-20", "2025-01-29 13:45:10.123"]
COUNT_FEATURES = [
    "sessions_7d", "sessions_28d", "completions_period", "payment_failures", "prior_churns",
    "notifications_28d", "notifications_opened_28d",
]  # fmt: skip


@pytest.fixture(scope="module")
def tables(smoke_world):
    return smoke_world.tables


@pytest.fixture(scope="module")
def store(smoke_store):
    with DuckDBSignals(smoke_store) as signals:
        yield signals


def assert_same(ours: pd.DataFrame, theirs: pd.DataFrame, exact=(), loose_dtypes=()) -> None:
    """Same columns and rows; floats at FLOAT64 tolerances (NaN where NaN), the rest equal."""
    assert list(ours.columns) == list(theirs.columns)
    assert len(ours) == len(theirs)
    for name in ours.columns:
        a, b = ours[name], theirs[name]
        if name not in loose_dtypes:
            assert a.dtype == b.dtype, name
        if pd.api.types.is_float_dtype(b) and name not in exact:
            np.testing.assert_allclose(
                a.to_numpy("float64"), b.to_numpy("float64"), **FLOAT64, err_msg=name
            )
        else:
            np.testing.assert_array_equal(a.to_numpy(), b.to_numpy(), err_msg=name)


@pytest.mark.parametrize(
    "by", [None, "device", ["row_id", "hour"], "weekday", "day", "language", "title_language"]
)
def test_funnel_matches_pandas(store, tables, by):
    expected = compute_funnel(
        tables["events"], by=by, users=tables["users"], titles=tables["titles"]
    )
    got = store.compute_funnel(by)
    # row_id is an open category in pandas and a string from Parquet
    assert_same(got, expected, loose_dtypes=("row_id",))
    assert got["impressions"].sum() == (tables["events"]["event_type"] == "impression").sum()


def test_session_summary_matches_pandas(store, tables):
    assert_same(store.session_summary(), session_summary(tables["events"]))


def test_hours_by_source_matches_pandas(store, tables):
    assert_same(store.hours_by_source(), hours_by_source(tables["events"]))


@pytest.mark.parametrize("cutoff", CUTOFFS)
def test_member_features_match_pandas(store, tables, cutoff):
    expected = member_features(**{t: tables[t] for t in FEATURE_TABLES}, cutoff=cutoff)
    got = store.member_features(cutoff)
    assert list(got.columns) == ["user_id", "cutoff", *FEATURES]
    assert_same(got, expected, exact=COUNT_FEATURES)
    assert (got["cutoff"] == pd.Timestamp(cutoff)).all()
    assert got[FEATURES].drop(columns="plan").notna().any().all()  # every feature is exercised


@pytest.mark.parametrize("cutoff", CUTOFFS)
def test_churn_labels_match_pandas(store, tables, cutoff):
    expected = churn_labels(tables["billing"], cutoff)
    assert_same(store.churn_labels(cutoff), expected)


def test_spark_dialect_renders_no_duckdb_functions():
    sql = member_features_sql("2025-01-20", dialect=SPARK) + funnel_sql(["weekday"], dialect=SPARK)
    assert "unix_millis(" in sql and "weekday(" in sql
    assert "epoch_ms(" not in sql and "isodow(" not in sql


def test_rejects_unknown_funnel_key_and_sub_millisecond_cutoff(store):
    with pytest.raises(ValueError, match="unknown funnel group keys"):
        store.compute_funnel("country")
    with pytest.raises(ValueError, match="not a whole millisecond"):
        store.member_features(pd.Timestamp("2025-01-20") + pd.Timedelta(1, "us"))

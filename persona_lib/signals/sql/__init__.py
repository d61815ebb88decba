"""Signals and point-in-time member features written once as SQL and run by DuckDB over Parquet.

`queries` holds the SQL texts (portable to Spark SQL through a `queries.Dialect`);
`DuckDBSignals` runs them over a Parquet event store and returns pandas frames.
"""

from persona_lib.signals.sql.duckdb_engine import DuckDBSignals
from persona_lib.signals.sql.queries import (
    DUCKDB,
    SPARK,
    Dialect,
    churn_labels_sql,
    funnel_sql,
    hours_by_source_sql,
    member_features_sql,
    session_summary_sql,
)

__all__ = [
    "DUCKDB",
    "SPARK",
    "Dialect",
    "DuckDBSignals",
    "churn_labels_sql",
    "funnel_sql",
    "hours_by_source_sql",
    "member_features_sql",
    "session_summary_sql",
]

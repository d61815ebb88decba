"""Signals and point-in-time member features written once as SQL, run over a Parquet store.

`queries` holds the SQL texts (one per signal, rendered per engine by a `queries.Dialect`);
`DuckDBSignals` runs them in-process (the default at every size) and `SparkSignals` on Spark
SQL (the ``spark`` extra; pyspark is imported only when a store is opened). Both return the
same pandas frames.
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
from persona_lib.signals.sql.spark_engine import SparkSignals

__all__ = [
    "DUCKDB",
    "SPARK",
    "Dialect",
    "DuckDBSignals",
    "SparkSignals",
    "churn_labels_sql",
    "funnel_sql",
    "hours_by_source_sql",
    "member_features_sql",
    "session_summary_sql",
]

"""Signals and member features from a Parquet event store, executed by DuckDB.

The store is ``<root>/events/day=YYYY-MM-DD/*.parquet`` (hive-partitioned by day) beside
``users``, ``titles``, ``billing`` and ``notifications`` ``.parquet`` files. `DuckDBSignals`
opens an in-memory DuckDB connection with one view per table and runs the SQL of
`persona_lib.signals.sql.queries`; DuckDB streams the files, so only results become pandas
frames. Results equal the pandas implementations in `persona_lib.signals` (checked in
``tests/unit/scale``), with the same columns, category dtypes and millisecond timestamps.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from persona_lib.data.schema import TABLES
from persona_lib.signals.features import FEATURES
from persona_lib.signals.sql import queries
from persona_lib.signals.sql.frames import (
    FUNNEL_COUNTS,
    SESSION_COUNTS,
    SINGLE_TABLES,
)
from persona_lib.signals.sql.frames import typed as _typed


def _literal(text) -> str:
    """A single-quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


class DuckDBSignals:
    """Signals over a Parquet event store, computed by an in-memory DuckDB connection.

    Parameters
    ----------
    root : path
        Store root holding ``events/day=*/`` and ``users``, ``titles``, ``billing``,
        ``notifications`` ``.parquet`` files.
    threads : int, optional
        DuckDB worker threads (its default: all cores).
    memory_limit : str, optional
        DuckDB memory limit, e.g. ``"2GB"``; larger intermediates spill to disk.

    Examples
    --------
    >>> with DuckDBSignals("/data/store") as store:  # doctest: +SKIP
    ...     X = store.member_features("2025-01-20")
    """

    def __init__(self, root, *, threads: int | None = None, memory_limit: str | None = None):
        import duckdb  # heavy optional backend: imported when a store is opened

        self.root = Path(root)
        self.con = duckdb.connect(":memory:")
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self.con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        events = _literal(self.root / "events" / "*" / "*.parquet")
        columns = ", ".join(
            f"CAST({c.name} AS VARCHAR) AS {c.name}" if c.dtype == "category" else c.name
            for c in TABLES["events"].columns
        )
        self.con.execute(
            f"CREATE VIEW events AS SELECT {columns} "
            f"FROM read_parquet({events}, hive_partitioning = true)"
        )
        for name in SINGLE_TABLES:
            path = _literal(self.root / f"{name}.parquet")
            self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({path})")

    def __enter__(self) -> DuckDBSignals:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.con.close()

    def query(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` over the store's views; the result as a pandas frame."""
        return self.con.execute(sql).df()

    def compute_funnel(
        self, by: str | Sequence[str] | None = None, threshold: float = queries.COMPLETION_THRESHOLD
    ) -> pd.DataFrame:
        """Funnel counts and rates per group (`persona_lib.signals.funnel.compute_funnel`).

        ``by``: any of ``queries.FUNNEL_KEYS`` or None for one overall row. Returns the group
        keys, ``impressions``, ``hovers``, ``clicks``, ``plays``, ``completions``,
        ``search_plays`` and the six rates, in the order of the keys.
        """
        keys = [by] if isinstance(by, str) else list(by or [])
        out = self.query(queries.funnel_sql(keys, threshold))
        small = {"hour": "int8", "weekday": "int8", "row_position": "int8", "col_position": "int8"}
        out = _typed(out, {**small, **{c: "int64" for c in FUNNEL_COUNTS}})
        return out.sort_values(keys, kind="stable", ignore_index=True) if keys else out

    def session_summary(self) -> pd.DataFrame:
        """One row per session (`persona_lib.signals.engagement.session_summary`)."""
        out = self.query(queries.session_summary_sql())
        dtypes = {c: "int64" for c in SESSION_COUNTS}
        return _typed(
            out, {**dtypes, "session_id": "int32", "user_id": "int32", "watch_s": "float32"}
        )

    def hours_by_source(self) -> pd.DataFrame:
        """Plays and hours by source (`persona_lib.signals.engagement.hours_by_source`)."""
        return _typed(self.query(queries.hours_by_source_sql()), {"plays": "int64"})

    def member_features(
        self, cutoff, threshold: float = queries.COMPLETION_THRESHOLD
    ) -> pd.DataFrame:
        """Point-in-time features of the members active at ``cutoff``.

        Same rows, columns (``user_id``, ``cutoff`` and ``FEATURES``) and definitions as
        `persona_lib.signals.features.member_features`, from log rows strictly before
        ``cutoff`` (a whole millisecond).
        """
        cutoff = pd.Timestamp(cutoff)
        out = self.query(queries.member_features_sql(cutoff, threshold))
        numeric = {c: "float64" for c in FEATURES if c != "plan"}
        out = _typed(out, {**numeric, "user_id": "int32"})
        out.insert(1, "cutoff", cutoff)
        return out[["user_id", "cutoff", *FEATURES]]

    def churn_labels(self, cutoff, horizon_days: float = 31) -> pd.DataFrame:
        """Each member's next renewal outcome (`persona_lib.signals.features.churn_labels`)."""
        cutoff = pd.Timestamp(cutoff)
        out = self.query(queries.churn_labels_sql(cutoff, horizon_days))
        out = _typed(out, {"user_id": "int32", "churn": "int8"})
        out.insert(1, "cutoff", cutoff)
        return out

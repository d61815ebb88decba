"""Signals and member features from a Parquet event store, executed by DuckDB.

The store is ``<root>/events/day=YYYY-MM-DD/*.parquet`` (hive-partitioned by day) beside
``users``, ``titles``, ``billing`` and ``notifications`` ``.parquet`` files. `DuckDBSignals`
opens an in-memory DuckDB connection with one view per table and runs the SQL of
`persona_lib.signals.sql.queries`; DuckDB streams the files, so only results become pandas
frames. Results equal the pandas implementations in `persona_lib.signals` (checked in
``tests/unit/scale``), with the same columns, category dtypes and millisecond timestamps.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from persona_lib.data.schema import TABLES
from persona_lib.signals.sql import queries
from persona_lib.signals.sql.frames import (
    SINGLE_TABLES,
    SQLSignals,
)


def _literal(text) -> str:
    """A single-quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


class DuckDBSignals(SQLSignals):
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

    dialect = queries.DUCKDB

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

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.con.close()

    def query(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` over the store's views; the result as a pandas frame."""
        return self.con.execute(sql).df()

"""Signals and member features from a Parquet event store, executed by Apache Spark SQL.

The same store as `persona_lib.signals.sql.DuckDBSignals` (``<root>/events/day=YYYY-MM-DD/``
hive-partitioned, ``users``, ``titles``, ``billing`` and ``notifications`` ``.parquet``) and the
same SQL texts of `persona_lib.signals.sql.queries`, rendered with the ``queries.SPARK``
dialect. Results equal DuckDB's: same columns, dtypes and row order, counts exactly and floats
to 1e-9 (checked in ``tests/unit/scale/test_spark_signals.py``).

``pyspark`` (and a Java 17+ runtime) is an optional extra, imported when a store is opened.
Every `SparkSignals` works in its own Spark session (``SparkSession.newSession``: its own temp
views and SQL settings) over one shared local Spark context from `local_session`, with the
settings that make the SQL deterministic and equal to DuckDB's:

- ``spark.sql.session.timeZone=UTC``: the store's timestamps are naive UTC wall times;
- ``spark.sql.parquet.inferTimestampNTZ.enabled=false``: they are read as ``TIMESTAMP`` (the
  millisecond values unchanged) so ``unix_millis`` and timestamp literals apply as in DuckDB;
- ``spark.sql.ansi.enabled=true`` (the Spark 4 default, set for Spark 3.5 too): an overflow or
  a bad cast raises instead of turning into NULL; every division in the SQL is guarded.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from persona_lib.data.schema import TABLES
from persona_lib.signals.sql import queries
from persona_lib.signals.sql.frames import SINGLE_TABLES, SQLSignals

SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}


def store_path(root, name: str) -> str:
    """``root/name`` for a local path or a URI (``s3a://bucket/store``: no path mangling)."""
    root = str(root)
    if "://" in root:
        return f"{root.rstrip('/')}/{name}"
    return str(Path(root) / name)


def spark_unavailable() -> str | None:
    """Why Spark cannot run here (no pyspark, no working ``java``), or None when it can."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'persona[spark]')"
    java = shutil.which("java")
    if java is None:
        return "no java on PATH: Spark needs a Java 17+ runtime"
    try:
        ok = subprocess.run([java, "-version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return None if ok else f"{java} -version failed: Spark needs a Java 17+ runtime"


def local_session(
    master: str = "local[2]", *, shuffle_partitions: int = 4, driver_memory: str = "1g"
):
    """The shared local `pyspark.sql.SparkSession`, built on first use and reused after.

    Small by design: ``shuffle_partitions`` partitions after a shuffle, no web UI, a modest
    driver heap, Spark's own logging at ERROR. When a session is already running (built here or
    by the caller) it is returned as is, with only the SQL settings of ``SESSION_CONF`` applied;
    ``master`` and ``driver_memory`` act on the first call only. ``local_session().stop()``
    ends the JVM.

    Examples
    --------
    >>> spark = local_session("local[4]")  # doctest: +SKIP
    """
    from pyspark.sql import SparkSession  # heavy optional backend: imported on first use

    builder = (
        SparkSession.builder.master(master)
        .appName("persona_lib")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(int(shuffle_partitions)))
        .config("spark.default.parallelism", str(int(shuffle_partitions)))
        .config("spark.driver.extraJavaOptions", "-Xss16m")  # deep plans and ALS lineages
        .config("spark.cleaner.referenceTracking.cleanCheckpoints", "true")
    )
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    with quiet_pandas_warnings():
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    _configure(spark)
    return spark


@contextmanager
def quiet_pandas_warnings():
    """Silence pyspark 4's notices about pandas 3, issued on every pandas <-> Spark conversion
    (the conversions used here are checked by the tests; dtypes are set by `typed`)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support")
        warnings.filterwarnings("ignore", message=".*The copy keyword is deprecated")
        yield


def _configure(spark) -> None:
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)


class SparkSignals(SQLSignals):
    """Signals over a Parquet event store, computed by Spark SQL.

    Parameters
    ----------
    root : path
        Store root holding ``events/day=*/`` and ``users``, ``titles``, ``billing``,
        ``notifications`` ``.parquet`` files: a local path or a URI Spark can read, e.g.
        ``s3a://bucket/store`` or ``gs://bucket/store`` on a cluster.
    spark : pyspark.sql.SparkSession, optional
        Session to work in (a new session of its context is used, so temp views do not clash);
        default `local_session` with ``master``.
    master : str
        Spark master of the default session, e.g. ``"local[2]"``.
    shuffle_partitions : int
        Partitions after a shuffle (``spark.sql.shuffle.partitions``) in this store's session.

    Examples
    --------
    >>> with SparkSignals("/data/store") as store:  # doctest: +SKIP
    ...     X = store.member_features("2025-01-20")
    """

    dialect = queries.SPARK

    def __init__(self, root, spark=None, master: str = "local[2]", *,
                 shuffle_partitions: int = 4):  # fmt: skip
        base = spark if spark is not None else local_session(master)
        self.root = str(root)
        self.spark = base.newSession()
        _configure(self.spark)
        self.spark.conf.set("spark.sql.shuffle.partitions", str(int(shuffle_partitions)))
        from pyspark.sql import functions as F

        columns = [
            F.col(c.name).cast("string").alias(c.name) if c.dtype == "category" else F.col(c.name)
            for c in TABLES["events"].columns
        ]
        events = self.spark.read.parquet(self._path("events")).select(*columns)
        events.createOrReplaceTempView("events")
        for name in SINGLE_TABLES:
            self.spark.read.parquet(self._path(f"{name}.parquet")).createOrReplaceTempView(name)

    def _path(self, name: str) -> str:
        return store_path(self.root, name)

    def close(self) -> None:
        """Drop this store's temp views; the shared Spark context keeps running."""
        for name in ("events", *SINGLE_TABLES):
            self.spark.catalog.dropTempView(name)

    def query(self, sql: str) -> pd.DataFrame:
        """Run ``sql`` (Spark SQL) over the store's views; the result as a pandas frame."""
        with quiet_pandas_warnings():
            return self.spark.sql(sql).toPandas()

"""One way to ask for signals and member features, whichever engine computes them.

``pandas`` runs the in-memory implementations of `persona_lib.signals` on a `World`;
``duckdb`` (the embedded default at every size) and ``spark`` (a cluster, or ``local[2]``)
run the SQL of `persona_lib.signals.sql.queries` over a day-partitioned Parquet event store.
The three answer with the same columns, dtypes and values (checked in ``tests/unit/scale``), so
a notebook picks its engine with one parameter and nothing downstream changes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from persona_lib.signals.engagement import hours_by_source, session_summary
from persona_lib.signals.features import FEATURE_TABLES, churn_labels, member_features
from persona_lib.signals.funnel import COMPLETION_THRESHOLD, compute_funnel

ENGINES = ("pandas", "duckdb", "spark")


class PandasSignals:
    """The in-memory signals of a `World`, behind the same methods as the SQL engines."""

    def __init__(self, world):
        self.tables = world.tables

    def __enter__(self) -> PandasSignals:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: the frames belong to the world."""

    def compute_funnel(
        self, by: str | Sequence[str] | None = None, threshold: float = COMPLETION_THRESHOLD
    ) -> pd.DataFrame:
        """`persona_lib.signals.funnel.compute_funnel` of the world's events."""
        t = self.tables
        return compute_funnel(
            t["events"], by=by, users=t["users"], titles=t["titles"], threshold=threshold
        )

    def session_summary(self) -> pd.DataFrame:
        """`persona_lib.signals.engagement.session_summary` of the world's events."""
        return session_summary(self.tables["events"])

    def hours_by_source(self) -> pd.DataFrame:
        """`persona_lib.signals.engagement.hours_by_source` of the world's events."""
        return hours_by_source(self.tables["events"])

    def member_features(self, cutoff, threshold: float = COMPLETION_THRESHOLD) -> pd.DataFrame:
        """`persona_lib.signals.features.member_features` at ``cutoff``."""
        tables = {name: self.tables[name] for name in FEATURE_TABLES}
        return member_features(**tables, cutoff=cutoff, threshold=threshold)

    def churn_labels(self, cutoff, horizon_days: float = 31) -> pd.DataFrame:
        """`persona_lib.signals.features.churn_labels` at ``cutoff``."""
        return churn_labels(self.tables["billing"], cutoff, horizon_days)


def open_signals(engine: str, *, world=None, store: str | os.PathLike | None = None, **options):
    """A signals engine: ``pandas`` over ``world``, ``duckdb`` or ``spark`` over ``store``.

    ``options`` go to the engine (`DuckDBSignals`: ``threads``, ``memory_limit``; `SparkSignals`:
    ``master``, ``spark``). Use it as a context manager so connections and sessions are closed.

    Examples
    --------
    >>> with open_signals("duckdb", store="data/store/smoke-0") as engine:  # doctest: +SKIP
    ...     features = engine.member_features("2025-01-20")
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {list(ENGINES)}")
    if engine == "pandas":
        if world is None:
            raise ValueError("the pandas engine computes from a world: pass world=")
        return PandasSignals(world)
    if store is None:
        raise ValueError(f"the {engine} engine reads a Parquet event store: pass store=")
    if "://" not in str(store) and not (Path(store) / "events").is_dir():  # URIs: Spark checks
        raise FileNotFoundError(f"{store}: no event store here (expected an events/ folder)")
    if engine == "duckdb":
        from persona_lib.signals.sql.duckdb_engine import DuckDBSignals

        return DuckDBSignals(store, **options)
    from persona_lib.signals.sql.spark_engine import SparkSignals

    return SparkSignals(store, **options)

"""What the SQL engines share: the store's tables, the signal methods and their result dtypes.

`DuckDBSignals` and `SparkSignals` are `SQLSignals`: each supplies only ``query`` (run one SQL
text, return a pandas frame) and its ``dialect``; the methods here render the same SQL texts
of `persona_lib.signals.sql.queries` and give the plain columns an engine returns (strings,
wide integers, nanosecond or microsecond timestamps) the dtypes of the pandas implementations
in `persona_lib.signals` (`typed`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from persona_lib.data.schema import DEVICES, LANGUAGES, PLANS
from persona_lib.signals.features import FEATURES
from persona_lib.signals.sql import queries
from persona_lib.signals.subscriptions import RENEWAL_STATUSES

SINGLE_TABLES = ("users", "titles", "billing", "notifications")
CATEGORIES = {
    "device": DEVICES, "plan": PLANS, "language": LANGUAGES, "title_language": LANGUAGES,
    "cause": RENEWAL_STATUSES,
}  # fmt: skip
FUNNEL_COUNTS = ["impressions", "hovers", "clicks", "plays", "completions", "search_plays"]
SESSION_COUNTS = ["events", "impressions", "hovers", "clicks", "scroll_pasts", "searches",
                  "plays", "rewatches"]  # fmt: skip
SMALL_FUNNEL_KEYS = {"hour": "int8", "weekday": "int8", "row_position": "int8",
                     "col_position": "int8"}  # fmt: skip


def typed(frame: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    """Schema dtypes: categories, millisecond timestamps and the given numeric dtypes."""
    for name in list(frame.columns):
        if name in CATEGORIES:
            frame[name] = pd.Categorical(frame[name], categories=list(CATEGORIES[name]))
        elif pd.api.types.is_datetime64_dtype(frame[name]):
            frame[name] = frame[name].astype("datetime64[ms]")
    return frame.astype({k: v for k, v in dtypes.items() if k in frame.columns})


class SQLSignals:
    """The signals of an event store as SQL; subclasses set ``dialect`` and run ``query``."""

    dialect: queries.Dialect = queries.DUCKDB

    def query(self, sql: str) -> pd.DataFrame:  # pragma: no cover - every engine overrides it
        """Run one SQL text over the store's tables; the result as a pandas frame."""
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - every engine overrides it
        """Release the engine's connection or views."""
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def compute_funnel(
        self, by: str | Sequence[str] | None = None, threshold: float = queries.COMPLETION_THRESHOLD
    ) -> pd.DataFrame:
        """Funnel counts and rates per group (`persona_lib.signals.funnel.compute_funnel`).

        ``by``: any of ``queries.FUNNEL_KEYS`` or None for one overall row. Returns the group
        keys, ``impressions``, ``hovers``, ``clicks``, ``plays``, ``completions``,
        ``search_plays`` and the six rates, in the order of the keys.
        """
        keys = [by] if isinstance(by, str) else list(by or [])
        out = self.query(queries.funnel_sql(keys, threshold, dialect=self.dialect))
        out = typed(out, {**SMALL_FUNNEL_KEYS, **{c: "int64" for c in FUNNEL_COUNTS}})
        return out.sort_values(keys, kind="stable", ignore_index=True) if keys else out

    def session_summary(self) -> pd.DataFrame:
        """One row per session (`persona_lib.signals.engagement.session_summary`)."""
        out = self.query(queries.session_summary_sql(dialect=self.dialect))
        dtypes = {c: "int64" for c in SESSION_COUNTS}
        return typed(
            out, {**dtypes, "session_id": "int32", "user_id": "int32", "watch_s": "float32"}
        )

    def hours_by_source(self) -> pd.DataFrame:
        """Plays and hours by source (`persona_lib.signals.engagement.hours_by_source`)."""
        return typed(
            self.query(queries.hours_by_source_sql(dialect=self.dialect)), {"plays": "int64"}
        )

    def member_features(
        self, cutoff, threshold: float = queries.COMPLETION_THRESHOLD
    ) -> pd.DataFrame:
        """Point-in-time features of the members active at ``cutoff``.

        Same rows, columns (``user_id``, ``cutoff`` and ``FEATURES``) and definitions as
        `persona_lib.signals.features.member_features`, from log rows strictly before
        ``cutoff`` (a whole millisecond).
        """
        cutoff = pd.Timestamp(cutoff)
        out = self.query(queries.member_features_sql(cutoff, threshold, dialect=self.dialect))
        numeric = {c: "float64" for c in FEATURES if c != "plan"}
        out = typed(out, {**numeric, "user_id": "int32"})
        out.insert(1, "cutoff", cutoff)
        return out[["user_id", "cutoff", *FEATURES]]

    def churn_labels(self, cutoff, horizon_days: float = 31) -> pd.DataFrame:
        """Each member's next renewal outcome (`persona_lib.signals.features.churn_labels`)."""
        cutoff = pd.Timestamp(cutoff)
        out = self.query(queries.churn_labels_sql(cutoff, horizon_days))
        out = typed(out, {"user_id": "int32", "churn": "int8"})
        out.insert(1, "cutoff", cutoff)
        return out

"""The canonical tables: column names, dtypes and allowed categories.

`TABLES` holds the six logs every world has (the simulator writes them); `OPTIONAL_TABLES` the
tables a team may add beside them: ``propensities`` (the serving policy's probability of each
impression), ``assignments`` (experiment variants), ``outcomes`` (per-member experiment metrics
that are not in the events) and ``campaigns`` (sales campaign arms, conversions and revenue).
`ALL_TABLES` is both.

Every module reads column names from here, so one concept has one name everywhere
(`user_id`, `title_id`, `artwork_id`, `ts`, ...). `validate` (in
`persona_lib.data.validation`, re-exported here) turns a frame from any source (the
simulator, a user's CSV or Parquet logs) into the canonical dtypes or raises a `SchemaError`
that names the source, the table, the column and the offending rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family",
    "Fantasy", "Horror", "Romance", "Sci-Fi", "Thriller", "Reality", "Anime", "Music",
)  # fmt: skip
LANGUAGES: tuple[str, ...] = ("en", "es", "pt", "fr", "de", "ja", "ko", "hi")
COUNTRIES: tuple[str, ...] = ("US", "MX", "BR", "FR", "DE", "JP", "KR", "IN", "GB", "ES")
DEVICES: tuple[str, ...] = ("tv", "mobile", "tablet", "web")
PLANS: tuple[str, ...] = ("ads", "basic", "standard", "premium")
KINDS: tuple[str, ...] = ("movie", "series")
MATURITIES: tuple[str, ...] = ("all", "7+", "13+", "16+", "18+")
EVENT_TYPES: tuple[str, ...] = (
    "impression",  # a tile was on screen
    "hover",  # the member focused the tile (TV focus, pointer hover, long press)
    "scroll_past",  # the member moved on from a tile without acting on it
    "click",  # the member opened the title's details
    "play_start",
    "play_stop",  # carries watch_s; completion = watch_s against the runtime
    "rewatch",  # a play of a title this member had already completed
    "search",  # the member searched; title_id is the title the search led to
)
BILLING_STATUSES: tuple[str, ...] = ("new", "renewed", "churned", "payment_failed", "reactivated")
ARTWORK_ATTRIBUTES: tuple[str, ...] = (
    "face", "smile", "dark_tone", "action", "romance", "ensemble", "text",
)  # fmt: skip

NO_ARTWORK = -1  # artwork_id of an event whose artwork is unknown (e.g. a user's own logs)
MAX_WATCH_S = 12 * 3600  # one uninterrupted play longer than 12 hours is not plausible
MAX_DWELL_MS = np.iinfo(np.uint16).max  # 65.5 s on one tile; members give up after 60-90 s


@dataclass(frozen=True)
class Column:
    """One column: its dtype, allowed values and whether nulls are allowed."""

    name: str
    # "int32", "int16", "int8", "uint16", "float32", "float64", "bool", "str", "datetime" or
    # "category"
    dtype: str
    categories: tuple[str, ...] | None = None
    nullable: bool = False
    min_value: float | None = None
    max_value: float | None = None
    references: str | None = None  # "table.column" this key must exist in


@dataclass(frozen=True)
class TableSpec:
    """A table: its ordered columns and its primary key (unique when it is one column)."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


TS_UNIT = "ms"  # every timestamp is datetime64[ms]: exact, compact and the same in Parquet

TABLES: dict[str, TableSpec] = {
    "titles": TableSpec(
        "titles",
        (
            Column("title_id", "int32", min_value=0),
            Column("name", "str"),
            Column("kind", "category", KINDS),
            Column("genres", "str"),  # pipe-separated, each one of GENRES
            Column("language", "category", LANGUAGES),
            Column("release_year", "int16", min_value=1900, max_value=2100),
            Column("runtime_min", "int16", min_value=1, max_value=600),  # movie or one episode
            Column("n_episodes", "int16", min_value=1, max_value=10_000),
            Column("maturity", "category", MATURITIES),
            Column("synopsis", "str"),
        ),
        key=("title_id",),
    ),
    "artworks": TableSpec(
        "artworks",
        (
            Column("artwork_id", "int32", min_value=0),
            Column("title_id", "int32", min_value=0, references="titles.title_id"),
            *(Column(a, "bool") for a in ARTWORK_ATTRIBUTES),
        ),
        key=("artwork_id",),
    ),
    "users": TableSpec(
        "users",
        (
            Column("user_id", "int32", min_value=0),
            Column("signup_ts", "datetime"),
            Column("country", "category", COUNTRIES),
            Column("language", "category", LANGUAGES),
            Column("plan", "category", PLANS),
            Column("price", "float32", min_value=0, max_value=1000),
            Column("preferred_device", "category", DEVICES),
        ),
        key=("user_id",),
    ),
    "events": TableSpec(
        "events",
        (
            Column("event_id", "int32", min_value=0),
            Column("ts", "datetime"),
            Column("user_id", "int32", min_value=0, references="users.user_id"),
            Column("session_id", "int32", min_value=0),
            Column("device", "category", DEVICES),
            Column("event_type", "category", EVENT_TYPES),
            Column("title_id", "int32", min_value=0, references="titles.title_id"),
            Column("artwork_id", "int32", min_value=NO_ARTWORK, references="artworks.artwork_id"),
            Column("row_id", "category"),  # open set: "popular", "genre:Drama", "search", ...
            Column("row_position", "int8", min_value=0),
            Column("col_position", "int8", min_value=0),
            Column("dwell_ms", "uint16", min_value=0, max_value=MAX_DWELL_MS),
            Column("watch_s", "float32", nullable=True, min_value=0, max_value=MAX_WATCH_S),
        ),
        key=("event_id",),
    ),
    "billing": TableSpec(
        "billing",
        (
            Column("user_id", "int32", min_value=0, references="users.user_id"),
            Column("period_start", "datetime"),
            Column("plan", "category", PLANS),
            Column("price", "float32", min_value=0, max_value=1000),
            Column("status", "category", BILLING_STATUSES),
        ),
        key=("user_id", "period_start"),
    ),
    "notifications": TableSpec(
        "notifications",
        (
            Column("user_id", "int32", min_value=0, references="users.user_id"),
            Column("ts", "datetime"),
            Column("hour", "int8", min_value=0, max_value=23),
            Column("opened", "bool"),
        ),
        key=("user_id", "ts"),
    ),
}

# Tables a team may add beside its logs; the simulator writes only `propensities`. ``outcomes``
# has no fixed metric columns: besides ``user_id`` it holds one or more numeric or bool columns
# of any name (`METRIC_TABLES`), checked by `validate` like the spec's own columns.
OPTIONAL_TABLES: dict[str, TableSpec] = {
    # the serving policy's log: the probability with which each impression was shown
    "propensities": TableSpec(
        "propensities",
        (
            Column("event_id", "int32", min_value=0, references="events.event_id"),
            Column("pscore", "float32", min_value=0, max_value=1),
        ),
        key=("event_id",),
    ),
    # which variant of which experiment each member was assigned to, and when
    "assignments": TableSpec(
        "assignments",
        (
            Column("user_id", "int32", min_value=0, references="users.user_id"),
            Column("experiment", "str"),
            Column("variant", "str"),
            Column("assigned_ts", "datetime"),
        ),
        key=("user_id", "experiment"),
    ),
    # per-member outcomes of an experiment that are not in the events: user_id + metric columns
    "outcomes": TableSpec(
        "outcomes",
        (Column("user_id", "int32", min_value=0, references="users.user_id"),),
        key=("user_id",),
    ),
    # sales campaigns: the arm each member was given, when, and what it sold (revenue in USD)
    "campaigns": TableSpec(
        "campaigns",
        (
            Column("user_id", "int32", min_value=0, references="users.user_id"),
            Column("campaign", "str"),
            Column("arm", "str"),
            Column("ts", "datetime"),
            Column("converted", "bool"),
            Column("revenue", "float64", min_value=0),
        ),
        key=("user_id", "campaign"),
    ),
}
METRIC_TABLES = ("outcomes",)  # tables whose extra columns are numeric or bool metrics (>= 1)
ALL_TABLES: dict[str, TableSpec] = {**TABLES, **OPTIONAL_TABLES}

# Columns whose timestamps must fall inside the data window when one is given.
WINDOWED_TS = {"events": "ts", "billing": "period_start", "notifications": "ts"}


def canonical_dtype(column: Column) -> object:
    """Return the dtype `validate` gives `column` ("category" when the set is open).

    Examples
    --------
    >>> canonical_dtype(TABLES["events"].column("ts"))
    dtype('<M8[ms]')
    """
    if column.dtype == "datetime":
        return np.dtype(f"datetime64[{TS_UNIT}]")
    if column.dtype == "category":
        return "category" if column.categories is None else pd.CategoricalDtype(column.categories)
    if column.dtype == "str":
        return pd.StringDtype(na_value=np.nan)
    return np.dtype(column.dtype)
